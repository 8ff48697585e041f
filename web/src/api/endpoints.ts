// One typed function per REST route of the server contract, so components never spell paths.
import { ApiClient } from './client';
import type {
  AuthResponse,
  Channel,
  CreateInviteRequest,
  CreateMessageRequest,
  Guild,
  Invite,
  InvitePreview,
  LoginRequest,
  Member,
  Message,
  RegisterRequest,
  Snowflake,
  UpdateMeRequest,
  User,
} from './types';

export const apiClient = new ApiClient();

const call = <T>(method: string, path: string, body?: unknown, query?: Record<string, string | number | undefined>) =>
  apiClient.request<T>(method, path, { body, query });

const id = encodeURIComponent;

export const api = {
  register: async (request: RegisterRequest) => {
    const session = await call<AuthResponse>('POST', '/api/auth/register', request);
    apiClient.acceptSession(session);
    return session;
  },
  login: async (request: LoginRequest) => {
    const session = await call<AuthResponse>('POST', '/api/auth/login', request);
    apiClient.acceptSession(session);
    return session;
  },
  logout: async () => {
    try {
      await call<void>('POST', '/api/auth/logout');
    } finally {
      apiClient.endSession();
    }
  },

  me: () => call<User>('GET', '/api/users/@me'),
  updateMe: (request: UpdateMeRequest) => call<User>('PATCH', '/api/users/@me', request),
  myGuilds: () => call<Guild[]>('GET', '/api/users/@me/guilds'),

  createGuild: (name: string) => call<Guild>('POST', '/api/guilds', { name }),
  guild: (guildId: Snowflake) => call<Guild>('GET', `/api/guilds/${id(guildId)}`),
  channels: (guildId: Snowflake) => call<Channel[]>('GET', `/api/guilds/${id(guildId)}/channels`),
  members: (guildId: Snowflake, after?: Snowflake) =>
    call<Member[]>('GET', `/api/guilds/${id(guildId)}/members`, undefined, { after, limit: 100 }),
  leaveGuild: (guildId: Snowflake, userId: Snowflake) => call<void>('DELETE', `/api/guilds/${id(guildId)}/members/${id(userId)}`),

  createInvite: (guildId: Snowflake, request: CreateInviteRequest = {}) =>
    call<Invite>('POST', `/api/guilds/${id(guildId)}/invites`, request),
  invitePreview: (code: string) => call<InvitePreview>('GET', `/api/invites/${id(code)}`),
  acceptInvite: (code: string) => call<Guild>('POST', `/api/invites/${id(code)}`),

  messages: (channelId: Snowflake, query: { before?: Snowflake; after?: Snowflake; limit?: number } = {}) =>
    call<Message[]>('GET', `/api/channels/${id(channelId)}/messages`, undefined, query),
  sendMessage: (channelId: Snowflake, request: CreateMessageRequest) =>
    call<Message>('POST', `/api/channels/${id(channelId)}/messages`, request),
  editMessage: (channelId: Snowflake, messageId: Snowflake, content: string) =>
    call<Message>('PATCH', `/api/channels/${id(channelId)}/messages/${id(messageId)}`, { content }),
  deleteMessage: (channelId: Snowflake, messageId: Snowflake) =>
    call<void>('DELETE', `/api/channels/${id(channelId)}/messages/${id(messageId)}`),
  ack: (channelId: Snowflake, messageId: Snowflake) =>
    call<void>('POST', `/api/channels/${id(channelId)}/ack`, { message_id: messageId }),
};
