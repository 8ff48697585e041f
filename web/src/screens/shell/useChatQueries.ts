// The REST queries the shell reads. With a ready gateway the caches are kept current by
// dispatches and never go stale; without one they refetch when the window regains focus.
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api } from '../../api/endpoints';
import type { Snowflake } from '../../api/types';
import { pageSize } from '../../chat/messageCache';
import { queryKeys } from '../../chat/queryKeys';
import { useGatewayStatus } from '../../gateway/useGateway';

function useStaleTime(): number {
  return useGatewayStatus().status === 'ready' ? Infinity : 0;
}

export function useGuilds() {
  return useQuery({ queryKey: queryKeys.guilds, queryFn: api.myGuilds, staleTime: useStaleTime() });
}

export function useChannels(guildId: Snowflake | undefined) {
  return useQuery({
    queryKey: queryKeys.channels(guildId ?? ''),
    queryFn: () => api.channels(guildId!),
    enabled: Boolean(guildId),
    staleTime: useStaleTime(),
  });
}

export function useMembers(guildId: Snowflake | undefined) {
  return useQuery({
    queryKey: queryKeys.members(guildId ?? ''),
    queryFn: () => api.members(guildId!),
    enabled: Boolean(guildId),
    staleTime: useStaleTime(),
  });
}

export function useMessages(channelId: Snowflake) {
  return useInfiniteQuery({
    queryKey: queryKeys.messages(channelId),
    queryFn: ({ pageParam }) => api.messages(channelId, { before: pageParam, limit: pageSize }),
    initialPageParam: undefined as Snowflake | undefined,
    // A short page means the beginning of the channel.
    getNextPageParam: (page) => (page.length < pageSize ? undefined : page[page.length - 1]!.id),
    staleTime: useStaleTime(),
  });
}
