//! Voice over REST: TURN credentials for the browser, and moderators' mute and disconnect.
//! The calls themselves are driven over the gateway (see `crate::voice`).

use axum::extract::State;
use axum::http::StatusCode;
use madang_domain::Permissions;
use madang_protocol::gateway::VoiceState;
use madang_protocol::rest::{ErrorBody, IceServer, IceServers, UpdateVoiceState};
use madang_protocol::{Id, Timestamp};

use super::access::{GuildAccess, guild_access};
use super::{dispatches, views};
use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::state::{AppState, now_ms};
use crate::voice::VoiceControl;
use crate::voice::turn;

/// TURN servers and short-lived credentials for `RTCPeerConnection` (coturn's
/// `use-auth-secret`); an empty list when the server has no TURN configured.
#[utoipa::path(get, path = "/api/voice/ice-servers", tag = "voice", security(("bearer" = [])),
    responses((status = 200, body = IceServers), (status = "4XX", body = ErrorBody)))]
pub async fn ice_servers(State(state): State<AppState>, session: Session) -> Json<IceServers> {
    let config = &state.config.voice;
    let expires_at = now_ms() / 1000 + config.turn_credential_ttl_seconds as i64;
    let ice_servers = if config.turn_urls.is_empty() {
        Vec::new()
    } else {
        let username = turn::username(expires_at, session.user_id.0);
        vec![IceServer {
            urls: config.turn_urls.clone(),
            credential: turn::credential(&config.turn_secret, &username),
            username,
        }]
    };
    Json(IceServers {
        ice_servers,
        expires_at: Timestamp(expires_at * 1000),
    })
}

/// Server-mute or unmute someone in one of the guild's voice channels (admins and the owner,
/// on members ranked below them). The mute stays on the membership until lifted.
#[utoipa::path(patch, path = "/api/guilds/{guild_id}/voice-states/{user_id}", tag = "voice", security(("bearer" = [])),
    params(("guild_id" = Id, Path), ("user_id" = Id, Path)), request_body = UpdateVoiceState,
    responses((status = 200, body = VoiceState), (status = "4XX", body = ErrorBody)))]
pub async fn update_voice_state(
    State(state): State<AppState>,
    session: Session,
    Path((guild_id, user_id)): Path<(Id, Id)>,
    Json(request): Json<UpdateVoiceState>,
) -> ApiResult<Json<VoiceState>> {
    let access = guild_access(&state, &session, guild_id).await?;
    require_moderation(&state, &access, guild_id, user_id).await?;
    let updated = state
        .store
        .set_server_mute(
            guild_id.0,
            user_id.0,
            request.server_mute,
            now_ms(),
            dispatches::voice_state_updated,
        )
        .await?
        .ok_or_else(|| ApiError::not_found("voice state"))?;
    state.gateway.control_voice(VoiceControl::ServerMute {
        guild_id: guild_id.0,
        user_id: user_id.0,
        server_mute: request.server_mute,
    });
    Ok(Json(views::voice_state(&updated)))
}

/// Disconnect someone from the guild's voice channels (admins and the owner, on members
/// ranked below them). A VOICE_STATE_UPDATE with `channel_id: null` follows.
#[utoipa::path(delete, path = "/api/guilds/{guild_id}/voice-states/{user_id}", tag = "voice", security(("bearer" = [])),
    params(("guild_id" = Id, Path), ("user_id" = Id, Path)),
    responses((status = 204, description = "Disconnecting."), (status = "4XX", body = ErrorBody)))]
pub async fn disconnect_voice(
    State(state): State<AppState>,
    session: Session,
    Path((guild_id, user_id)): Path<(Id, Id)>,
) -> ApiResult<StatusCode> {
    let access = guild_access(&state, &session, guild_id).await?;
    require_moderation(&state, &access, guild_id, user_id).await?;
    state
        .store
        .voice_state(user_id.0)
        .await?
        .filter(|row| row.guild_id == guild_id.0)
        .ok_or_else(|| ApiError::not_found("voice state"))?;
    state.gateway.control_voice(VoiceControl::Disconnect {
        guild_id: guild_id.0,
        user_id: user_id.0,
    });
    Ok(StatusCode::NO_CONTENT)
}

/// The caller may moderate the target in voice: the permission, and a higher rank.
async fn require_moderation(
    state: &AppState,
    access: &GuildAccess,
    guild_id: Id,
    user_id: Id,
) -> ApiResult<()> {
    access.require(Permissions::MODERATE_VOICE)?;
    let target = state
        .store
        .member(guild_id.0, user_id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("member"))?;
    if !access.role().outranks(target.role) {
        return Err(ApiError::forbidden(
            "you can only moderate members ranked below you",
        ));
    }
    Ok(())
}
