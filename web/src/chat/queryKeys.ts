// Every react-query key in one place, so REST fetches and gateway updates touch the same entries.
import type { Snowflake } from '../api/types';

export const queryKeys = {
  me: ['me'] as const,
  guilds: ['guilds'] as const,
  readStates: ['readStates'] as const,
  channels: (guildId: Snowflake) => ['guilds', guildId, 'channels'] as const,
  members: (guildId: Snowflake) => ['guilds', guildId, 'members'] as const,
  /** The guild's invites and bans, as its settings show them. */
  invites: (guildId: Snowflake) => ['guilds', guildId, 'invites'] as const,
  bans: (guildId: Snowflake) => ['guilds', guildId, 'bans'] as const,
  messages: (channelId: Snowflake) => ['channels', channelId, 'messages'] as const,
  /** One message fetched on its own (a reply's original, older than the loaded history). */
  message: (channelId: Snowflake, messageId: Snowflake) => ['channels', channelId, 'message', messageId] as const,
  invite: (code: string) => ['invites', code] as const,
};
