// Settings changes applied to the shell's caches at once, so the sidebar, the rail and the
// member list follow without waiting for a refetch (the gateway's dispatches do the same for
// everyone else, and are idempotent with these).
import type { QueryClient } from '@tanstack/react-query';
import type { Channel, Guild, Member, Snowflake } from '../../api/types';
import { queryKeys } from '../../chat/queryKeys';

export function putGuild(queryClient: QueryClient, guild: Guild): void {
  queryClient.setQueryData<Guild[]>(queryKeys.guilds, (guilds) => guilds?.map((existing) => (existing.id === guild.id ? { ...existing, ...guild } : existing)));
}

/** The guild is gone for this user (left or deleted): the shell then leaves it. */
export function forgetGuild(queryClient: QueryClient, guildId: Snowflake): void {
  queryClient.setQueryData<Guild[]>(queryKeys.guilds, (guilds) => guilds?.filter((guild) => guild.id !== guildId));
  queryClient.removeQueries({ queryKey: ['guilds', guildId] });
}

export function putChannel(queryClient: QueryClient, channel: Channel): void {
  queryClient.setQueryData<Channel[]>(queryKeys.channels(channel.guild_id), (channels) =>
    channels ? [...channels.filter((existing) => existing.id !== channel.id), channel] : [channel],
  );
}

export function dropChannel(queryClient: QueryClient, guildId: Snowflake, channelId: Snowflake): void {
  queryClient.setQueryData<Channel[]>(queryKeys.channels(guildId), (channels) =>
    channels
      ?.filter((channel) => channel.id !== channelId)
      // A deleted category's channels stay, uncategorised.
      .map((channel) => (channel.parent_id === channelId ? { ...channel, parent_id: null } : channel)),
  );
  queryClient.removeQueries({ queryKey: queryKeys.messages(channelId) });
}

export function putMember(queryClient: QueryClient, guildId: Snowflake, member: Member): void {
  queryClient.setQueryData<Member[]>(queryKeys.members(guildId), (members) =>
    members?.map((existing) => (existing.user.id === member.user.id ? member : existing)),
  );
}

export function dropMember(queryClient: QueryClient, guildId: Snowflake, userId: Snowflake): void {
  queryClient.setQueryData<Member[]>(queryKeys.members(guildId), (members) => members?.filter((member) => member.user.id !== userId));
  queryClient.setQueryData<Guild[]>(queryKeys.guilds, (guilds) =>
    guilds?.map((guild) => (guild.id === guildId ? { ...guild, member_count: Math.max(0, guild.member_count - 1) } : guild)),
  );
}
