// One typed function per REST route the client uses, so components never spell paths. Each is
// typed by its operation in the generated OpenAPI types, so a server change shows up here.
import { ApiClient } from './client';
import type { operations } from './schema';
import type { AuthResponse, QueryOf, RequestOf, ResponseOf, Snowflake } from './types';

export const apiClient = new ApiClient();

type Query = Record<string, string | number | undefined>;

const call = <Op extends keyof operations>(_op: Op, method: string, path: string, body?: RequestOf<Op>, query?: Query) =>
  apiClient.request<ResponseOf<Op>>(method, path, { body, query });

const id = encodeURIComponent;

/** The most members one page may hold (the server allows 1–1000). */
export const memberPageLimit = 1000;
/** The most messages one page may hold (the server allows 1–100). */
export const messagePageLimit = 100;

export const api = {
  register: async (request: RequestOf<'register'>): Promise<AuthResponse> => {
    const session = await call('register', 'POST', '/api/auth/register', request);
    apiClient.acceptSession(session);
    return session;
  },
  login: async (request: RequestOf<'login'>): Promise<AuthResponse> => {
    const session = await call('login', 'POST', '/api/auth/login', request);
    apiClient.acceptSession(session);
    return session;
  },
  logout: async () => {
    try {
      await call('logout', 'POST', '/api/auth/logout');
    } finally {
      apiClient.endSession();
    }
  },

  me: () => call('get_me', 'GET', '/api/users/@me'),
  updateMe: (request: RequestOf<'update_me'>) => call('update_me', 'PATCH', '/api/users/@me', request),
  myGuilds: () => call('my_guilds', 'GET', '/api/users/@me/guilds'),
  /** How far the user has read every channel they can see (until READY carries them). */
  readStates: () => call('my_read_states', 'GET', '/api/users/@me/read-states'),

  createGuild: (name: string) => call('create_guild', 'POST', '/api/guilds', { name }),
  guild: (guildId: Snowflake) => call('get_guild', 'GET', `/api/guilds/${id(guildId)}`),
  channels: (guildId: Snowflake) => call('list_channels', 'GET', `/api/guilds/${id(guildId)}/channels`),
  /** One page of members, ordered by user id: pass the last id of a page to get the next. */
  members: (guildId: Snowflake, query: QueryOf<'list_members'> = {}) =>
    call('list_members', 'GET', `/api/guilds/${id(guildId)}/members`, undefined, query),
  /** Every member, page after page. */
  allMembers: async (guildId: Snowflake) => {
    const all: ResponseOf<'list_members'> = [];
    for (;;) {
      const after = all.length > 0 ? all[all.length - 1]!.user.id : undefined;
      const page = await api.members(guildId, { after, limit: memberPageLimit });
      all.push(...page);
      if (page.length < memberPageLimit) return all;
    }
  },
  /** Leaves the guild (your own id) or kicks a member (admins, members ranked below them). */
  removeMember: (guildId: Snowflake, userId: Snowflake) =>
    call('remove_member', 'DELETE', `/api/guilds/${id(guildId)}/members/${id(userId)}`),
  /** Makes a member an admin or a plain member again (owner). */
  updateMember: (guildId: Snowflake, userId: Snowflake, request: RequestOf<'update_member'>) =>
    call('update_member', 'PATCH', `/api/guilds/${id(guildId)}/members/${id(userId)}`, request),
  /** Renames the guild (admins) or transfers its ownership (`owner_id`, owner). */
  updateGuild: (guildId: Snowflake, request: RequestOf<'update_guild'>) =>
    call('update_guild', 'PATCH', `/api/guilds/${id(guildId)}`, request),
  deleteGuild: (guildId: Snowflake) => call('delete_guild', 'DELETE', `/api/guilds/${id(guildId)}`),

  createChannel: (guildId: Snowflake, request: RequestOf<'create_channel'>) =>
    call('create_channel', 'POST', `/api/guilds/${id(guildId)}/channels`, request),
  updateChannel: (channelId: Snowflake, request: RequestOf<'update_channel'>) =>
    call('update_channel', 'PATCH', `/api/channels/${id(channelId)}`, request),
  /** Moves channels in one step; every entry names its category (`null`: none). Answers the whole list. */
  reorderChannels: (guildId: Snowflake, placements: RequestOf<'reorder_channels'>) =>
    call('reorder_channels', 'PATCH', `/api/guilds/${id(guildId)}/channels`, placements),
  deleteChannel: (channelId: Snowflake) => call('delete_channel', 'DELETE', `/api/channels/${id(channelId)}`),

  /** Usable invites: every one for admins, your own for other members. */
  invites: (guildId: Snowflake) => call('list_invites', 'GET', `/api/guilds/${id(guildId)}/invites`),
  revokeInvite: (code: string) => call('revoke_invite', 'DELETE', `/api/invites/${id(code)}`),

  /** One page of bans, ordered by user id (admins). */
  bans: (guildId: Snowflake, query: QueryOf<'list_bans'> = {}) =>
    call('list_bans', 'GET', `/api/guilds/${id(guildId)}/bans`, undefined, query),
  /** Every ban, page after page. */
  allBans: async (guildId: Snowflake) => {
    const all: ResponseOf<'list_bans'> = [];
    for (;;) {
      const after = all.length > 0 ? all[all.length - 1]!.user.id : undefined;
      const page = await api.bans(guildId, { after, limit: memberPageLimit });
      all.push(...page);
      if (page.length < memberPageLimit) return all;
    }
  },
  ban: (guildId: Snowflake, userId: Snowflake, request: RequestOf<'create_ban'> = {}) =>
    call('create_ban', 'PUT', `/api/guilds/${id(guildId)}/bans/${id(userId)}`, request),
  unban: (guildId: Snowflake, userId: Snowflake) => call('delete_ban', 'DELETE', `/api/guilds/${id(guildId)}/bans/${id(userId)}`),

  /** TURN servers and short-lived credentials for a call's RTCPeerConnection. */
  iceServers: () => call('ice_servers', 'GET', '/api/voice/ice-servers'),
  /** Server-mute or unmute someone in a voice channel (admins; the server checks rank). */
  updateVoiceState: (guildId: Snowflake, userId: Snowflake, request: RequestOf<'update_voice_state'>) =>
    call('update_voice_state', 'PATCH', `/api/guilds/${id(guildId)}/voice-states/${id(userId)}`, request),
  /** Disconnect someone from the guild's voice channels (admins). */
  disconnectVoice: (guildId: Snowflake, userId: Snowflake) => call('disconnect_voice', 'DELETE', `/api/guilds/${id(guildId)}/voice-states/${id(userId)}`),

  createInvite: (guildId: Snowflake, request: RequestOf<'create_invite'> = {}) =>
    call('create_invite', 'POST', `/api/guilds/${id(guildId)}/invites`, request),
  invitePreview: (code: string) => call('preview_invite', 'GET', `/api/invites/${id(code)}`),
  acceptInvite: (code: string) => call('accept_invite', 'POST', `/api/invites/${id(code)}`),

  /** A page of messages, newest first: `before`, `after` or `around` one id; `limit` ≤ 100. */
  messages: (channelId: Snowflake, query: QueryOf<'list_messages'> = {}) =>
    call('list_messages', 'GET', `/api/channels/${id(channelId)}/messages`, undefined, query),
  message: (channelId: Snowflake, messageId: Snowflake) =>
    call('get_message', 'GET', `/api/channels/${id(channelId)}/messages/${id(messageId)}`),
  sendMessage: (channelId: Snowflake, request: RequestOf<'create_message'>) =>
    call('create_message', 'POST', `/api/channels/${id(channelId)}/messages`, request),
  editMessage: (channelId: Snowflake, messageId: Snowflake, content: string) =>
    call('update_message', 'PATCH', `/api/channels/${id(channelId)}/messages/${id(messageId)}`, { content }),
  deleteMessage: (channelId: Snowflake, messageId: Snowflake) =>
    call('delete_message', 'DELETE', `/api/channels/${id(channelId)}/messages/${id(messageId)}`),
  /** Marks the channel read up to `messageId`; answers with the channel's new read state. */
  ack: (channelId: Snowflake, messageId: Snowflake) =>
    call('ack', 'POST', `/api/channels/${id(channelId)}/ack`, { message_id: messageId }),
};
