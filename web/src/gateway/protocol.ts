// Gateway frames as the protocol defines them (`docs/protocol.md` on the server side): every
// frame is `{op, d}`; dispatches add the event type `t` and the session sequence `s`.
// The payloads are the generated schemas of the server's OpenAPI document (REST objects, and
// the gateway's own: `Ready`, `GatewayGuild`, `GuildMember`, …); only which payload goes with
// which `t` is written here, and the type checker fails when the server's `DispatchType` gains
// or drops a type this map does not.
import type { components } from '../api/schema';
import type { VoiceServerFrame } from '../voice/protocol';
import type { Channel, CurrentUser, Guild, Invite, Message, ReadState } from '../api/types';

type Schemas = components['schemas'];

export type HelloData = Schemas['Hello'];
/** A guild as READY and GUILD_CREATE carry it: with its channels, your role, and who is online. */
export type ReadyGuild = Schemas['GatewayGuild'];
export type ReadyData = Schemas['Ready'];
export type DeletedMessage = Schemas['MessageDeleted'];
export type PresenceStatus = Schemas['PresenceStatus'];

/** The dispatch types the client understands, with their payloads. */
export interface DispatchPayloads {
  READY: ReadyData;
  RESUMED: Record<string, never>;
  MESSAGE_CREATE: Message;
  MESSAGE_UPDATE: Message;
  MESSAGE_DELETE: DeletedMessage;
  CHANNEL_CREATE: Channel;
  CHANNEL_UPDATE: Channel;
  CHANNEL_DELETE: Schemas['ChannelDeleted'];
  GUILD_CREATE: ReadyGuild;
  GUILD_UPDATE: Guild;
  GUILD_DELETE: Schemas['GuildDeleted'];
  GUILD_MEMBER_ADD: Schemas['GuildMember'];
  GUILD_MEMBER_REMOVE: Schemas['GuildMemberRemoved'];
  GUILD_MEMBER_UPDATE: Schemas['GuildMember'];
  GUILD_BAN_ADD: Schemas['GuildBan'];
  GUILD_BAN_REMOVE: Schemas['GuildBanRemoved'];
  INVITE_CREATE: Invite;
  INVITE_DELETE: Schemas['InviteDeleted'];
  USER_UPDATE: CurrentUser;
  PRESENCE_UPDATE: Schemas['PresenceUpdate'];
  TYPING_START: Schemas['TypingStart'];
  READ_STATE_UPDATE: ReadState;
  VOICE_STATE_UPDATE: Schemas['VoiceState'];
  VOICE_SPEAKING: Schemas['VoiceSpeaking'];
}

/** True when A and B are the same union. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
/** Fails to type-check when the server's dispatch types and this map disagree. */
export type EveryDispatchTyped = Assert<Same<keyof DispatchPayloads, Schemas['DispatchType']>>;

export type DispatchType = keyof DispatchPayloads;

/** A dispatch as delivered to listeners: a discriminated union over `t`. */
export type Dispatch = { [T in DispatchType]: { t: T; d: DispatchPayloads[T]; s: number | null } }[DispatchType];

/** What the server sends (dispatch payloads are typed by `t` once parsed, see `Dispatch`). */
export type ServerFrame =
  | { op: 'hello'; d: HelloData }
  | { op: 'heartbeat_ack'; d?: unknown }
  | { op: 'dispatch'; t: string; s?: number | null; d: unknown }
  | { op: 'invalid_session'; d: Schemas['InvalidSession'] }
  | { op: 'reconnect'; d?: unknown }
  | VoiceServerFrame;

/** What the client sends: heartbeat, identify, resume, typing, presence_update. */
export type ClientFrame = Schemas['ClientFrame'];

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
