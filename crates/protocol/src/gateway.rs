//! Frames of the WebSocket gateway at `GET /gateway` (see `docs/protocol.md`). Every frame
//! is a JSON text frame `{"op": "...", "d": ...}`; dispatches also carry `"t"` (the
//! [`DispatchType`]) and `"s"` (the session's sequence number).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::rest::{
    Ban, Channel, CurrentUser, ErrorCode, Guild, Member, MemberRole, ReadState, User,
};
use crate::{Id, Timestamp};

/// Client frames over this many bytes are refused with close code 4002.
pub const MAX_CLIENT_FRAME_BYTES: usize = 4096;
/// Voice signalling frames carry SDP and may be this large.
pub const MAX_VOICE_SIGNALLING_FRAME_BYTES: usize = 64 * 1024;
/// Client frames allowed per [`RATE_LIMIT_WINDOW_SECONDS`]; more close the session with 4008.
pub const MAX_CLIENT_FRAMES_PER_WINDOW: u32 = 120;
pub const RATE_LIMIT_WINDOW_SECONDS: u64 = 60;

/// Close codes the server uses, with why.
pub mod close_code {
    /// Something went wrong on the server; resume.
    pub const UNKNOWN_ERROR: u16 = 4000;
    /// The frame's `op` is not one the client may send.
    pub const UNKNOWN_OP: u16 = 4001;
    /// The frame is not JSON of the right shape, not text, or too large.
    pub const DECODE_ERROR: u16 = 4002;
    /// A frame other than heartbeat, identify or resume came before identifying.
    pub const NOT_IDENTIFIED: u16 = 4003;
    /// The token is invalid or expired, or the login was ended (logout, stolen refresh token).
    pub const AUTHENTICATION_FAILED: u16 = 4004;
    /// identify or resume was sent twice.
    pub const ALREADY_IDENTIFIED: u16 = 4005;
    /// resume named a sequence number the session never reached.
    pub const INVALID_SEQUENCE: u16 = 4007;
    /// More than 120 client frames in 60 seconds.
    pub const RATE_LIMITED: u16 = 4008;
    /// No heartbeat within 1.5 heartbeat intervals.
    pub const SESSION_TIMED_OUT: u16 = 4009;
    /// The client read too slowly and its outbound queue overflowed; resume.
    pub const SLOW_CONSUMER: u16 = 4010;
}

/// A frame the client sends.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "op", content = "d", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Keeps the session alive; send every `heartbeat_interval_ms`.
    Heartbeat(Heartbeat),
    /// Starts a new session.
    Identify(Identify),
    /// Continues a session, replaying what was missed.
    Resume(Resume),
    /// Shows that the user is typing in a channel (for about 10 seconds).
    Typing(TypingRequest),
    /// Sets the user's status.
    PresenceUpdate(PresenceUpdateRequest),
    /// Joins a voice channel (moving out of the one the user is in) with the client's first
    /// SDP offer; answered with `voice_answer` or `voice_error`.
    VoiceJoin(VoiceJoin),
    /// A later client offer (start or stop camera or screen share, ICE restart); answered
    /// with `voice_answer` or `voice_error`.
    VoiceOffer(VoiceClientOffer),
    /// The client's answer to the server's `voice_offer`.
    VoiceAnswer(VoiceAnswer),
    /// The user's own voice flags changed.
    VoiceState(VoiceStateRequest),
    /// Leaves the voice channel; `d` is `null`.
    VoiceLeave,
    /// How much of one received video track the client wants: the layer its tile needs, or
    /// none while the video is hidden.
    VoiceVideoQuality(VoiceVideoQuality),
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// The last `s` received, if any.
    pub seq: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Identify {
    /// An access token, as for `Authorization: Bearer`.
    pub token: String,
    /// The initial status; `online` when absent.
    pub status: Option<PresenceStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    pub token: String,
    pub session_id: Id,
    /// The last `s` received.
    pub seq: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypingRequest {
    pub channel_id: Id,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceUpdateRequest {
    pub status: PresenceStatus,
}

/// A status a user may choose. `invisible` appears as `offline` to everyone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    Online,
    Idle,
    Dnd,
    Invisible,
    Offline,
}

/// A frame the server sends. Dispatches are written with `t` and `s`; see [`DispatchFrame`].
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "op", content = "d", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame of every connection.
    Hello(Hello),
    /// Answers a heartbeat.
    HeartbeatAck,
    /// The session cannot be resumed: identify again and refetch state over REST.
    InvalidSession(InvalidSession),
    /// The server asks the client to reconnect and resume (the node is going away).
    Reconnect,
    /// Answers the client's `voice_join` or `voice_offer`, in order.
    VoiceAnswer(VoiceAnswer),
    /// What the client receives changed (someone joined, published, unpublished or left):
    /// answer with `voice_answer`. The client ignores it while its own offer is out; a fresh
    /// one follows its answer.
    VoiceOffer(VoiceServerOffer),
    /// A voice op was refused; the connection stays open.
    VoiceError(VoiceError),
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Hello {
    pub heartbeat_interval_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvalidSession {
    pub resumable: bool,
}

/// `{"op": "dispatch", "t": ..., "s": ..., "d": ...}`. `s` counts the session's replayable
/// dispatches, 1, 2, 3 … with no gaps; it is `null` on READY, RESUMED, PRESENCE_UPDATE,
/// TYPING_START and VOICE_SPEAKING, which are never replayed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DispatchFrame {
    /// Always `dispatch`.
    pub op: String,
    pub t: DispatchType,
    pub s: Option<i64>,
    /// The payload; its shape depends on `t` (see [`DispatchType`]).
    #[schema(value_type = Object)]
    pub d: serde_json::Value,
}

/// What a dispatch announces, and the payload it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DispatchType {
    /// [`Ready`]
    Ready,
    /// `{}`: the replay after a resume is complete.
    Resumed,
    /// `Message`
    MessageCreate,
    /// `Message`
    MessageUpdate,
    /// [`MessageDeleted`]
    MessageDelete,
    /// `Channel`
    ChannelCreate,
    /// `Channel`
    ChannelUpdate,
    /// [`ChannelDeleted`]
    ChannelDelete,
    /// [`GatewayGuild`]: you joined this guild.
    GuildCreate,
    /// `Guild`
    GuildUpdate,
    /// [`GuildDeleted`]: you left, were removed, or the guild was deleted.
    GuildDelete,
    /// [`GuildMember`]
    GuildMemberAdd,
    /// [`GuildMember`]
    GuildMemberUpdate,
    /// [`GuildMemberRemoved`]
    GuildMemberRemove,
    /// [`GuildBan`], to members who may ban.
    GuildBanAdd,
    /// [`GuildBanRemoved`], to members who may ban.
    GuildBanRemove,
    /// `Invite`, to members who may manage the guild.
    InviteCreate,
    /// [`InviteDeleted`], to members who may manage the guild.
    InviteDelete,
    /// `CurrentUser`, to the user's own sessions.
    UserUpdate,
    /// `ReadState`, to the user's own sessions.
    ReadStateUpdate,
    /// [`PresenceUpdate`]
    PresenceUpdate,
    /// [`TypingStart`]
    TypingStart,
    /// [`VoiceState`]: someone joined, left (`channel_id` null) or changed flags in a voice
    /// channel of the guild.
    VoiceStateUpdate,
    /// [`VoiceSpeaking`], best effort, to the participants of the voice channel.
    VoiceSpeaking,
}

impl DispatchType {
    /// The name on the wire, as in `"t"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DispatchType::Ready => "READY",
            DispatchType::Resumed => "RESUMED",
            DispatchType::MessageCreate => "MESSAGE_CREATE",
            DispatchType::MessageUpdate => "MESSAGE_UPDATE",
            DispatchType::MessageDelete => "MESSAGE_DELETE",
            DispatchType::ChannelCreate => "CHANNEL_CREATE",
            DispatchType::ChannelUpdate => "CHANNEL_UPDATE",
            DispatchType::ChannelDelete => "CHANNEL_DELETE",
            DispatchType::GuildCreate => "GUILD_CREATE",
            DispatchType::GuildUpdate => "GUILD_UPDATE",
            DispatchType::GuildDelete => "GUILD_DELETE",
            DispatchType::GuildMemberAdd => "GUILD_MEMBER_ADD",
            DispatchType::GuildMemberUpdate => "GUILD_MEMBER_UPDATE",
            DispatchType::GuildMemberRemove => "GUILD_MEMBER_REMOVE",
            DispatchType::GuildBanAdd => "GUILD_BAN_ADD",
            DispatchType::GuildBanRemove => "GUILD_BAN_REMOVE",
            DispatchType::InviteCreate => "INVITE_CREATE",
            DispatchType::InviteDelete => "INVITE_DELETE",
            DispatchType::UserUpdate => "USER_UPDATE",
            DispatchType::ReadStateUpdate => "READ_STATE_UPDATE",
            DispatchType::PresenceUpdate => "PRESENCE_UPDATE",
            DispatchType::TypingStart => "TYPING_START",
            DispatchType::VoiceStateUpdate => "VOICE_STATE_UPDATE",
            DispatchType::VoiceSpeaking => "VOICE_SPEAKING",
        }
    }
}

/// The first dispatch of a session.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Ready {
    /// Keep it to resume.
    pub session_id: Id,
    pub user: CurrentUser,
    pub guilds: Vec<GatewayGuild>,
    pub read_states: Vec<ReadState>,
}

/// A guild with what a member needs to show it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GatewayGuild {
    #[serde(flatten)]
    pub guild: Guild,
    /// In display order.
    pub channels: Vec<Channel>,
    /// Your role in the guild.
    pub role: MemberRole,
    /// Members who are not offline, at most 1000 (in READY; empty in GUILD_CREATE, where
    /// PRESENCE_UPDATE dispatches follow as people change status).
    pub presences: Vec<PresenceUpdate>,
    /// Who is in the guild's voice channels now (in READY; empty in GUILD_CREATE, where
    /// VOICE_STATE_UPDATE dispatches follow).
    pub voice_states: Vec<VoiceState>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageDeleted {
    pub id: Id,
    pub channel_id: Id,
    pub guild_id: Id,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChannelDeleted {
    pub id: Id,
    pub guild_id: Id,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GuildDeleted {
    pub id: Id,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GuildMember {
    pub guild_id: Id,
    pub member: Member,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GuildMemberRemoved {
    pub guild_id: Id,
    pub user: User,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GuildBan {
    pub guild_id: Id,
    pub ban: Ban,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GuildBanRemoved {
    pub guild_id: Id,
    pub user_id: Id,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InviteDeleted {
    pub code: String,
    pub guild_id: Id,
}

/// A user's status as others see it (`invisible` shows as `offline`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PresenceUpdate {
    pub user_id: Id,
    pub status: PresenceStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TypingStart {
    pub channel_id: Id,
    pub guild_id: Id,
    pub user_id: Id,
    pub timestamp: Timestamp,
}

// ---- voice ----

/// An SDP offer or answer as the browser's `RTCSessionDescription` writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionDescription {
    #[serde(rename = "type")]
    pub kind: SdpType,
    pub sdp: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SdpType {
    Offer,
    Answer,
}

/// What a media track carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VoiceTrackKind {
    /// The microphone (Opus).
    Audio,
    /// The camera (VP8 or H264).
    Camera,
    /// A screen share.
    Screen,
}

/// Names what one of the client's sending m-lines carries (SDP cannot tell a camera from a
/// screen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoiceTrackLabel {
    /// The m-line's `mid` (`RTCRtpTransceiver.mid`).
    pub mid: String,
    pub kind: VoiceTrackKind,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoiceJoin {
    /// A voice channel of a guild the user is a member of.
    pub channel_id: Id,
    /// The client's offer: its own `sendonly` transceivers and a data channel.
    pub offer: SessionDescription,
    pub tracks: Vec<VoiceTrackLabel>,
    pub self_mute: bool,
    pub self_deaf: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoiceClientOffer {
    pub offer: SessionDescription,
    pub tracks: Vec<VoiceTrackLabel>,
}

/// An SDP answer: the server's to a client offer, or the client's to a server offer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoiceAnswer {
    pub answer: SessionDescription,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoiceStateRequest {
    pub self_mute: bool,
    pub self_deaf: bool,
    pub self_video: bool,
    pub self_stream: bool,
}

/// The quality a client wants of one video track it receives (`voice_video_quality`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoiceVideoQuality {
    /// The m-line the track arrives on, as the server's `voice_offer` listed it.
    pub mid: String,
    pub quality: VideoQuality,
}

/// The most of a video track a client wants. Cameras are sent in three simulcast layers
/// (quarter, half and full resolution): `low`, `medium` and `high` cap the layer forwarded
/// (the server may send a lower one when the bandwidth is short); a screen share has one
/// layer, which all three mean. `off` forwards nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VideoQuality {
    Off,
    Low,
    Medium,
    High,
}

/// The server's offer of what the client receives.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VoiceServerOffer {
    pub offer: SessionDescription,
    /// Every m-line on which the server sends media, and whose track it carries.
    pub tracks: Vec<VoiceReceivedTrack>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VoiceReceivedTrack {
    pub mid: String,
    pub user_id: Id,
    pub kind: VoiceTrackKind,
}

/// Why a voice op was refused. `unknown_channel`: no such voice channel visible to you;
/// `voice_channel_full`: its `user_limit` or the server's limit is reached; others as in
/// REST (`validation_failed` for unusable SDP, `conflict` for an op that needs you in a
/// voice channel, `unavailable` when voice is switched off).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VoiceError {
    pub code: ErrorCode,
    pub message: String,
}

/// Who is in which voice channel, with their flags. `channel_id` null: they left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VoiceState {
    pub guild_id: Id,
    pub channel_id: Option<Id>,
    pub user_id: Id,
    pub self_mute: bool,
    pub self_deaf: bool,
    pub self_video: bool,
    pub self_stream: bool,
    /// Muted by a moderator: nothing the user says is forwarded, whatever `self_mute` says.
    pub server_mute: bool,
    /// Always false here; speaking comes in VOICE_SPEAKING.
    pub speaking: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VoiceSpeaking {
    pub channel_id: Id,
    pub user_id: Id,
    pub speaking: bool,
}
