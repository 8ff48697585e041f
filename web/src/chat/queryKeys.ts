// Every react-query key in one place, so REST fetches and gateway updates touch the same entries.
import type { Snowflake } from '../api/types';

export const queryKeys = {
  me: ['me'] as const,
  guilds: ['guilds'] as const,
  channels: (guildId: Snowflake) => ['guilds', guildId, 'channels'] as const,
  members: (guildId: Snowflake) => ['guilds', guildId, 'members'] as const,
  messages: (channelId: Snowflake) => ['channels', channelId, 'messages'] as const,
  invite: (code: string) => ['invites', code] as const,
};
