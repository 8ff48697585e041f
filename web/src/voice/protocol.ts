// The voice signalling frames of the gateway (docs/protocol.md, "Voice"). The shapes come from
// the server's OpenAPI document once it describes them; until then they follow the contract
// word for word, in this one place.
import type { Snowflake } from '../api/types';

export type TrackKind = 'audio' | 'camera' | 'screen';
export interface SessionDescription {
  type: 'offer' | 'answer';
  sdp: string;
}
/** One of the client's own sending m-lines and what it carries. */
export interface TrackLabel {
  mid: string;
  kind: TrackKind;
}
/** One of the SFU's sending m-lines: whose track the client receives on it. */
export interface OfferedTrack {
  mid: string;
  user_id: Snowflake;
  kind: TrackKind;
}
export interface VoiceFlags {
  self_mute: boolean;
  self_deaf: boolean;
  self_video: boolean;
  self_stream: boolean;
}

export type VoiceClientFrame =
  | {
      op: 'voice_join';
      d: { channel_id: Snowflake; offer: SessionDescription; tracks: TrackLabel[]; self_mute: boolean; self_deaf: boolean };
    }
  | { op: 'voice_offer'; d: { offer: SessionDescription; tracks: TrackLabel[] } }
  | { op: 'voice_answer'; d: { answer: SessionDescription } }
  | { op: 'voice_state'; d: VoiceFlags }
  | { op: 'voice_leave'; d: null };

export type VoiceServerFrame =
  | { op: 'voice_answer'; d: { answer: SessionDescription } }
  | { op: 'voice_offer'; d: { offer: SessionDescription; tracks: OfferedTrack[] } }
  | { op: 'voice_error'; d: { code: string; message: string } };

export interface VoiceState extends VoiceFlags {
  guild_id: Snowflake;
  channel_id: Snowflake | null;
  user_id: Snowflake;
  server_mute: boolean;
  speaking: boolean;
}
export interface VoiceSpeaking {
  channel_id: Snowflake;
  user_id: Snowflake;
  speaking: boolean;
}
export interface IceServersResponse {
  ice_servers: { urls: string[]; username?: string | null; credential?: string | null }[];
  expires_at: string;
}
