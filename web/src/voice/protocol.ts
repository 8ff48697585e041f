// The voice signalling frames of the gateway (docs/protocol.md, "Voice"), as the server's
// OpenAPI document describes them: only local names for the generated shapes.
import type { components } from '../api/schema';

type Schemas = components['schemas'];

export type TrackKind = Schemas['VoiceTrackKind'];
export type SessionDescription = Schemas['SessionDescription'];
/** One of the client's own sending m-lines and what it carries. */
export type TrackLabel = Schemas['VoiceTrackLabel'];
/** One of the SFU's sending m-lines: whose track the client receives on it. */
export type OfferedTrack = Schemas['VoiceReceivedTrack'];
export type VoiceFlags = Schemas['VoiceStateRequest'];
/** How much of one received video the client wants (`voice_video_quality`). */
export type VideoQuality = Schemas['VideoQuality'];
export type VoiceState = Schemas['VoiceState'];
export type VoiceSpeaking = Schemas['VoiceSpeaking'];
export type IceServersResponse = Schemas['IceServers'];

type VoiceOp = 'voice_join' | 'voice_offer' | 'voice_answer' | 'voice_state' | 'voice_video_quality' | 'voice_leave';
export type VoiceClientFrame = Extract<Schemas['ClientFrame'], { op: VoiceOp }>;
export type VoiceServerFrame = Extract<Schemas['ServerFrame'], { op: 'voice_answer' | 'voice_offer' | 'voice_error' }>;
