// The REST queries the shell reads. With a ready gateway the caches are kept current by
// dispatches and never go stale; without one (not connected yet, or a server or proxy without
// WebSockets) they refetch when the window regains focus and poll slowly, so the app stays usable.
import { useInfiniteQuery, useQueries, useQuery } from '@tanstack/react-query';
import { useEffect } from 'react';
import { api } from '../../api/endpoints';
import type { Guild, Snowflake } from '../../api/types';
import { pageSize } from '../../chat/messageCache';
import { queryKeys } from '../../chat/queryKeys';
import { useReadStates } from '../../chat/readStates';
import { useGatewayStatus } from '../../gateway/useGateway';

/** How often unread state and the open channel are polled while the gateway is not ready. */
export const pollWithoutGatewayMs = 15_000;

function useLiveOptions(): { staleTime: number; refetchInterval: number | false } {
  const ready = useGatewayStatus().status === 'ready';
  return ready ? { staleTime: Infinity, refetchInterval: false } : { staleTime: 0, refetchInterval: false };
}

function usePollOptions(): { staleTime: number; refetchInterval: number | false } {
  const ready = useGatewayStatus().status === 'ready';
  return ready ? { staleTime: Infinity, refetchInterval: false } : { staleTime: 0, refetchInterval: pollWithoutGatewayMs };
}

export function useGuilds() {
  return useQuery({ queryKey: queryKeys.guilds, queryFn: api.myGuilds, ...useLiveOptions() });
}

export function useChannels(guildId: Snowflake | undefined) {
  return useQuery({
    queryKey: queryKeys.channels(guildId ?? ''),
    queryFn: () => api.channels(guildId!),
    enabled: Boolean(guildId),
    ...useLiveOptions(),
  });
}

/**
 * The channels of every guild, so the rail can tell which guilds hold unread messages (read
 * states name channels, not guilds). READY will carry them; until then one request per guild.
 */
export function useAllChannels(guilds: Guild[]) {
  const options = useLiveOptions();
  return useQueries({
    queries: guilds.map((guild) => ({
      queryKey: queryKeys.channels(guild.id),
      queryFn: () => api.channels(guild.id),
      ...options,
    })),
  });
}

export function useMembers(guildId: Snowflake | undefined) {
  return useQuery({
    queryKey: queryKeys.members(guildId ?? ''),
    queryFn: () => api.allMembers(guildId!),
    enabled: Boolean(guildId),
    ...useLiveOptions(),
  });
}

/** Loads every read state into the store (and refreshes it while the gateway is not ready). */
export function useReadStateSync(): void {
  const query = useQuery({ queryKey: queryKeys.readStates, queryFn: api.readStates, ...usePollOptions() });
  const replaceAll = useReadStates((state) => state.replaceAll);
  useEffect(() => {
    if (query.data) replaceAll(query.data);
  }, [query.data, replaceAll]);
}

export function useMessages(channelId: Snowflake) {
  return useInfiniteQuery({
    queryKey: queryKeys.messages(channelId),
    queryFn: ({ pageParam }) => api.messages(channelId, { before: pageParam, limit: pageSize }),
    initialPageParam: undefined as Snowflake | undefined,
    // A short page means the beginning of the channel.
    getNextPageParam: (page) => (page.length < pageSize ? undefined : page[page.length - 1]!.id),
    ...usePollOptions(),
  });
}
