// Gateway frames as the protocol defines them (`docs/protocol.md` on the server side): every
// frame is `{op, d}`; dispatches add the event type `t` and the session sequence `s`.
// Dispatch payloads are the REST objects, so they reuse the REST types.
import type { Channel, CurrentUser, Guild, Member, Message, ReadState, Snowflake, User } from '../api/types';

export interface HelloData {
  heartbeat_interval_ms: number;
}

export interface ReadyGuild extends Guild {
  channels: Channel[];
  members?: Member[];
}

export interface ReadyData {
  session_id: string;
  user: CurrentUser;
  guilds: ReadyGuild[];
  read_states: ReadState[];
}

export interface DeletedMessage {
  id: Snowflake;
  channel_id: Snowflake;
  guild_id: Snowflake;
}

export type PresenceStatus = 'online' | 'idle' | 'dnd' | 'invisible' | 'offline';

/** The dispatch types the client understands, with their payloads. */
export interface DispatchPayloads {
  READY: ReadyData;
  RESUMED: Record<string, never>;
  MESSAGE_CREATE: Message;
  MESSAGE_UPDATE: Message;
  MESSAGE_DELETE: DeletedMessage;
  CHANNEL_CREATE: Channel;
  CHANNEL_UPDATE: Channel;
  CHANNEL_DELETE: { id: Snowflake; guild_id: Snowflake };
  GUILD_CREATE: ReadyGuild;
  GUILD_UPDATE: Guild;
  GUILD_DELETE: { id: Snowflake };
  GUILD_MEMBER_ADD: Member & { guild_id: Snowflake };
  GUILD_MEMBER_REMOVE: { guild_id: Snowflake; user: { id: Snowflake } };
  GUILD_MEMBER_UPDATE: Member & { guild_id: Snowflake };
  USER_UPDATE: User;
  PRESENCE_UPDATE: { user_id: Snowflake; status: PresenceStatus };
  TYPING_START: { channel_id: Snowflake; guild_id?: Snowflake; user_id: Snowflake };
  READ_STATE_UPDATE: ReadState;
}

export type DispatchType = keyof DispatchPayloads;

/** A dispatch as delivered to listeners: a discriminated union over `t`. */
export type Dispatch = { [T in DispatchType]: { t: T; d: DispatchPayloads[T]; s: number | null } }[DispatchType];

export type ServerFrame =
  | { op: 'hello'; d: HelloData }
  | { op: 'heartbeat_ack'; d?: unknown }
  | { op: 'dispatch'; t: string; s?: number | null; d: unknown }
  | { op: 'invalid_session'; d: { resumable: boolean } }
  | { op: 'reconnect'; d?: unknown };

export type ClientFrame =
  | { op: 'identify'; d: { token: string } }
  | { op: 'resume'; d: { token: string; session_id: string; seq: number } }
  | { op: 'heartbeat'; d: { seq: number } }
  | { op: 'typing'; d: { channel_id: Snowflake } }
  | { op: 'presence_update'; d: { status: Exclude<PresenceStatus, 'offline'> } };

/** Close codes the server documents; the client's reaction to each is in `GatewayClient`. */
export const CloseCode = {
  unknownError: 4000,
  unknownOp: 4001,
  decodeError: 4002,
  notIdentified: 4003,
  authenticationFailed: 4004,
  invalidSeq: 4007,
  rateLimited: 4008,
  sessionTimedOut: 4009,
} as const;

/**
 * Close codes the client itself uses when it abandons a socket. The 3000–3999 range is for
 * applications, so these never collide with the server's 4xxx codes.
 */
export const ClientCloseCode = {
  heartbeatTimeout: 3000,
  sequenceGap: 3001,
  reconnectRequested: 3002,
  connectTimeout: 3003,
  tokenUnavailable: 3004,
  /** A deliberate end (logout): the server may forget the session. */
  stopped: 1000,
} as const;
