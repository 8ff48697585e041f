// What guild admins can do to someone in a voice channel (the server checks rank again).
import { apiClient } from '../api/endpoints';
import type { Snowflake } from '../api/types';

const path = (guildId: Snowflake, userId: Snowflake) => `/api/guilds/${encodeURIComponent(guildId)}/voice-states/${encodeURIComponent(userId)}`;

export const voiceModeration = {
  setServerMute: (guildId: Snowflake, userId: Snowflake, serverMute: boolean) =>
    apiClient.request<unknown>('PATCH', path(guildId, userId), { body: { server_mute: serverMute } }),
  disconnect: (guildId: Snowflake, userId: Snowflake) => apiClient.request<unknown>('DELETE', path(guildId, userId)),
};
