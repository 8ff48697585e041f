// The REST shapes the client relies on, in one place. They follow the contract in the server
// issue (ids as strings, times as RFC 3339 strings) until the server's OpenAPI document lands;
// then this module re-exports the generated `schema.d.ts` types under these same names, and
// nothing else in the client changes.

export type Snowflake = string;
export type Timestamp = string;

export interface User {
  id: Snowflake;
  username: string;
  display_name: string | null;
  email?: string;
}

export interface MessageAuthor {
  id: Snowflake;
  username: string;
  display_name: string | null;
}

export interface Message {
  id: Snowflake;
  channel_id: Snowflake;
  guild_id: Snowflake;
  author: MessageAuthor;
  content: string;
  nonce?: string | null;
  reply_to?: Snowflake | null;
  created_at: Timestamp;
  edited_at: Timestamp | null;
}

export interface Guild {
  id: Snowflake;
  name: string;
  owner_id: Snowflake;
  icon_url?: string | null;
}

export type ChannelKind = 'text' | 'voice' | 'category';

export interface Channel {
  id: Snowflake;
  guild_id: Snowflake;
  name: string;
  kind: ChannelKind;
  parent_id: Snowflake | null;
  position: number;
}

export type MemberRole = 'owner' | 'admin' | 'member';

export interface Member {
  user: MessageAuthor;
  role: MemberRole;
  joined_at?: Timestamp;
}

export interface Invite {
  code: string;
  guild_id: Snowflake;
  uses?: number;
  max_uses?: number | null;
  expires_at?: Timestamp | null;
}

export interface InvitePreview {
  code: string;
  guild: { id: Snowflake; name: string; icon_url?: string | null };
  member_count: number;
}

export interface ReadState {
  channel_id: Snowflake;
  last_read_message_id: Snowflake | null;
  unread_count: number;
}

export interface AuthResponse {
  user: User;
  access_token: string;
  expires_in: number;
}

export interface RegisterRequest {
  email: string;
  username: string;
  password: string;
  display_name?: string;
}

export interface LoginRequest {
  login: string;
  password: string;
}

export interface UpdateMeRequest {
  display_name?: string | null;
}

export interface CreateMessageRequest {
  content: string;
  nonce?: string;
  reply_to?: Snowflake;
}

export interface CreateInviteRequest {
  max_uses?: number;
  expires_in_seconds?: number;
}

export interface ErrorBody {
  error: { code: string; message: string };
}
