//! Bodies of the REST API under `/api`. Responses are what the server sends; requests are
//! what it accepts. Unknown fields in requests are refused, so a typo never passes silently.

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{Id, Timestamp};

/// Every error answers with this body and an HTTP status that matches its code.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// A human-readable explanation in English; clients translate by `code`.
    pub message: String,
}

/// Stable, machine-readable error codes. The HTTP status of each is fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the body is not JSON or has a field of the wrong type.
    InvalidJson,
    /// 400: a path or query parameter is malformed (for example an id that is not a number).
    InvalidParameter,
    /// 415: a body that is not `application/json`.
    UnsupportedMediaType,
    /// 422: a well-formed value breaks a rule (length, format, range).
    ValidationFailed,
    /// 401: no credentials, or they are invalid or expired.
    Unauthorized,
    /// 401: wrong login or password.
    InvalidCredentials,
    /// 403: a member lacking the permission.
    Forbidden,
    /// 403: the user is banned from this guild.
    Banned,
    /// 404: not found, or not visible to the caller.
    NotFound,
    /// 404 (voice ops): no voice channel with this id is visible to the caller.
    UnknownChannel,
    /// 409 (voice ops): the voice channel holds as many people as it may.
    VoiceChannelFull,
    /// 404 (voice ops): no video track reaches you on this m-line (any more).
    UnknownTrack,
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 409: the username is taken.
    UsernameTaken,
    /// 409: the e-mail address is taken.
    EmailTaken,
    /// 409: the request conflicts with the current state (for example the owner leaving).
    Conflict,
    /// 410: the invite has expired.
    InviteExpired,
    /// 410: the invite has been used as often as allowed.
    InviteUsedUp,
    /// 410: the invite was revoked.
    InviteRevoked,
    /// 413: the body is larger than allowed.
    PayloadTooLarge,
    /// 429: too many requests; retry after `Retry-After` seconds.
    RateLimited,
    /// 403: a browser request from another site's origin.
    CrossOriginRefused,
    /// 500: an unexpected server fault (logged with its request id).
    Internal,
    /// 503: a dependency (the database) is unavailable.
    Unavailable,
}

/// Deserialises a field that may be absent (outer `None`), `null` (`Some(None)`) or a value.
fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

// ---- accounts ----

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub email: String,
    /// 2–32 characters of `a-z 0-9 _ .`
    pub username: String,
    /// 12–128 characters.
    pub password: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The e-mail address or the username.
    pub login: String,
    pub password: String,
}

/// Answer of register, login and refresh. The refresh token travels only in its HttpOnly
/// cookie.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuthResponse {
    pub user: CurrentUser,
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SystemRole {
    User,
    Admin,
}

/// The signed-in user, with private fields.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CurrentUser {
    pub id: Id,
    pub username: String,
    pub display_name: Option<String>,
    pub email: String,
    pub system_role: SystemRole,
    pub created_at: Timestamp,
}

/// A user as other people see them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Id,
    pub username: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCurrentUser {
    pub username: Option<String>,
    /// `null` clears the display name.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    /// A new password; requires `current_password`. Signs out every other login.
    pub new_password: Option<String>,
    pub current_password: Option<String>,
}

// ---- guilds ----

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Guild {
    pub id: Id,
    pub name: String,
    pub owner_id: Id,
    pub member_count: i64,
    pub created_at: Timestamp,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGuild {
    /// 2–100 characters.
    pub name: String,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGuild {
    pub name: Option<String>,
    /// Transfers ownership to this member (owner only). The previous owner becomes an admin.
    pub owner_id: Option<Id>,
}

// ---- channels ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Text,
    Voice,
    Category,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Channel {
    pub id: Id,
    pub guild_id: Id,
    pub kind: ChannelKind,
    pub name: String,
    pub topic: Option<String>,
    /// The category this channel sits under.
    pub parent_id: Option<Id>,
    pub position: i32,
    /// Voice channels: how many people may be in it; `null` means the server's limit.
    /// Always `null` for other kinds.
    pub user_limit: Option<i32>,
    pub created_at: Timestamp,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannel {
    pub name: String,
    pub kind: ChannelKind,
    pub topic: Option<String>,
    pub parent_id: Option<Id>,
    /// Defaults to the end of the list.
    pub position: Option<i64>,
    /// Voice channels only: 1–99 people, absent for the server's limit.
    pub user_limit: Option<i64>,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannel {
    pub name: Option<String>,
    /// `null` clears the topic.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub topic: Option<Option<String>>,
    /// `null` takes the channel out of its category.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Id>)]
    pub parent_id: Option<Option<Id>>,
    pub position: Option<i64>,
    /// Voice channels only: 1–99 people; `null` clears it (the server's limit applies).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub user_limit: Option<Option<i64>>,
}

/// One entry of a reorder: the channel's new position and category (`null`: none).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelPosition {
    pub id: Id,
    pub position: i64,
    pub parent_id: Option<Id>,
}

// ---- members and bans ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    Member,
    Admin,
    Owner,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub user: User,
    pub role: MemberRole,
    pub joined_at: Timestamp,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMember {
    /// `admin` or `member`; ownership moves with `PATCH /api/guilds/{guild_id}`.
    pub role: MemberRole,
}

#[derive(Debug, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Return entries whose user id is greater than this.
    pub after: Option<Id>,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Ban {
    pub user: User,
    pub reason: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBan {
    /// Up to 512 characters.
    pub reason: Option<String>,
}

// ---- invites ----

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Invite {
    /// The secret part of the invite link.
    pub code: String,
    pub guild_id: Id,
    pub inviter_id: Id,
    /// `null`: unlimited.
    pub max_uses: Option<i32>,
    pub uses: i32,
    /// `null`: never expires.
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvite {
    /// 1–1000; absent means unlimited.
    pub max_uses: Option<i64>,
    /// 60 s to 30 days; absent means the invite never expires.
    pub max_age_seconds: Option<i64>,
}

/// What anyone holding an invite link may see before joining.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct InvitePreview {
    pub code: String,
    pub guild: GuildPreview,
    pub inviter: User,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GuildPreview {
    pub id: Id,
    pub name: String,
    pub member_count: i64,
}

// ---- messages ----

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: Id,
    pub channel_id: Id,
    pub guild_id: Id,
    pub author: User,
    /// Raw text as sent (trimmed); clients render it as markdown, never as HTML.
    pub content: String,
    /// The sender's idempotency token, echoed so the sender can match its optimistic copy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub reply_to: Option<Id>,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMessage {
    /// 1–4000 characters after trimming.
    pub content: String,
    /// 1–64 printable ASCII characters. Resending with the same nonce returns the first
    /// message instead of posting a second one.
    pub nonce: Option<String>,
    /// A message in the same channel that this one answers.
    pub reply_to: Option<Id>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMessage {
    pub content: String,
}

/// Which page of history to read: at most one of `before`, `after`, `around`.
#[derive(Debug, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    pub before: Option<Id>,
    pub after: Option<Id>,
    pub around: Option<Id>,
    /// 1–100, default 50.
    pub limit: Option<i64>,
}

// ---- read states ----

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckRequest {
    pub message_id: Id,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReadState {
    pub channel_id: Id,
    /// The newest message the user has read; ids are ordered, so anything greater is unread.
    pub last_read_message_id: Id,
    /// Messages after it, counted up to 1000 (show "999+" beyond).
    pub unread_count: i64,
}

// ---- voice ----

/// TURN servers for `RTCPeerConnection`'s `iceServers`, with short-lived credentials.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IceServers {
    /// Empty when the server has no TURN configured (host candidates only).
    pub ice_servers: Vec<IceServer>,
    /// When the credentials stop working; fetch again before joining after this.
    pub expires_at: Timestamp,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IceServer {
    /// For example `turn:turn.example.com:3478?transport=udp`.
    pub urls: Vec<String>,
    /// `<expiry unix seconds>:<user id>` (coturn's `use-auth-secret` scheme).
    pub username: String,
    /// base64(HMAC-SHA1(secret, username)).
    pub credential: String,
}

/// A moderator's change to someone's voice state.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateVoiceState {
    /// Muted by a moderator: nothing the user says is forwarded until unmuted.
    pub server_mute: bool,
}

// ---- operations ----

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok` when serving; readiness also checks the database.
    pub status: String,
}
