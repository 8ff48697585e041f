//! Invite links: creating, listing, revoking, previewing and accepting them.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use madang_domain::Permissions;
use madang_domain::validate::InviteCode;
use madang_protocol::rest::{
    CreateInvite, ErrorBody, ErrorCode, Guild, GuildPreview, Invite, InvitePreview,
};
use madang_protocol::{Id, Timestamp};
use madang_store::{InviteAcceptance, InviteRow};

use super::access::guild_access;
use super::{dispatches, views};
use crate::auth::{Session, client_ip};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::state::{AppState, now_ms};

const MAX_AGE_SECONDS: std::ops::RangeInclusive<i64> = 60..=30 * 86_400;

/// 128 random bits, base64url: unguessable, and short enough to type from a screen.
fn new_invite_code() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

/// The code from the path; anything that cannot be a code is simply an unknown invite.
fn invite_code(raw: &str) -> ApiResult<InviteCode> {
    InviteCode::parse(raw).map_err(|_| ApiError::not_found("invite"))
}

/// Why an invite cannot be used, if it cannot.
fn unusable(invite: &InviteRow, now: i64) -> Option<ApiError> {
    if invite.revoked_at.is_some() {
        Some(ApiError::new(
            ErrorCode::InviteRevoked,
            "this invite was revoked",
        ))
    } else if invite.expires_at.is_some_and(|at| at <= now) {
        Some(ApiError::new(
            ErrorCode::InviteExpired,
            "this invite has expired",
        ))
    } else if invite.max_uses.is_some_and(|max| invite.uses >= max) {
        Some(ApiError::new(
            ErrorCode::InviteUsedUp,
            "this invite has been used up",
        ))
    } else {
        None
    }
}

/// Usable invites of the guild: all of them for admins, your own for other members.
#[utoipa::path(get, path = "/api/guilds/{guild_id}/invites", tag = "invites", security(("bearer" = [])),
    params(("guild_id" = Id, Path)),
    responses((status = 200, body = Vec<Invite>), (status = "4XX", body = ErrorBody)))]
pub async fn list_invites(
    State(state): State<AppState>,
    session: Session,
    Path(guild_id): Path<Id>,
) -> ApiResult<Json<Vec<Invite>>> {
    let access = guild_access(&state, &session, guild_id).await?;
    let only_mine =
        (!access.permissions.contains(Permissions::MANAGE_GUILD)).then_some(session.user_id.0);
    let invites = state
        .store
        .invites_of_guild(guild_id.0, only_mine, now_ms())
        .await?;
    Ok(Json(invites.iter().map(views::invite).collect()))
}

/// Create an invite, optionally limited in uses and lifetime.
#[utoipa::path(post, path = "/api/guilds/{guild_id}/invites", tag = "invites", security(("bearer" = [])),
    params(("guild_id" = Id, Path)), request_body = CreateInvite,
    responses((status = 201, body = Invite), (status = "4XX", body = ErrorBody)))]
pub async fn create_invite(
    State(state): State<AppState>,
    session: Session,
    Path(guild_id): Path<Id>,
    Json(request): Json<CreateInvite>,
) -> ApiResult<(StatusCode, Json<Invite>)> {
    guild_access(&state, &session, guild_id)
        .await?
        .require(Permissions::CREATE_INVITES)?;
    let max_uses = match request.max_uses {
        None => None,
        Some(uses @ 1..=1000) => Some(uses as i32),
        Some(_) => return Err(ApiError::validation("max_uses: must be 1 to 1000")),
    };
    let now = now_ms();
    let expires_at = match request.max_age_seconds {
        None => None,
        Some(age) if MAX_AGE_SECONDS.contains(&age) => Some(now + age * 1000),
        Some(_) => {
            return Err(ApiError::validation(
                "max_age_seconds: must be 60 to 2592000 (30 days)",
            ));
        }
    };
    let invite = InviteRow {
        code: new_invite_code(),
        guild_id: guild_id.0,
        creator_id: session.user_id.0,
        max_uses,
        uses: 0,
        expires_at,
        revoked_at: None,
        created_at: now,
    };
    state
        .store
        .create_invite(
            &invite,
            dispatches::invite_created(&invite),
            dispatches::INVITE_AUDIENCE.bits(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(views::invite(&invite))))
}

/// What the invite leads to; no sign-in needed.
#[utoipa::path(get, path = "/api/invites/{code}", tag = "invites",
    params(("code" = String, Path)),
    responses((status = 200, body = InvitePreview),
              (status = "4XX", body = ErrorBody, description = "Unknown (404), revoked, expired or used up (410), rate limited (429).")))]
pub async fn preview_invite(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> ApiResult<Json<InvitePreview>> {
    state.limits.invites(client_ip(
        &headers,
        Some(&peer),
        state.config.trust_forwarded_for,
    ))?;
    let code = invite_code(&code)?;
    let invite = state
        .store
        .invite(code.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found("invite"))?;
    if let Some(error) = unusable(&invite, now_ms()) {
        return Err(error);
    }
    let guild = state
        .store
        .guild(invite.guild_id)
        .await?
        .ok_or_else(|| ApiError::not_found("invite"))?;
    let inviter = state
        .store
        .user(invite.creator_id)
        .await?
        .ok_or_else(|| ApiError::not_found("invite"))?;
    Ok(Json(InvitePreview {
        code: invite.code,
        guild: GuildPreview {
            id: Id(guild.id),
            name: guild.name,
            member_count: guild.member_count,
        },
        inviter: views::user(inviter.id, &inviter.username, &inviter.display_name),
        expires_at: invite.expires_at.map(Timestamp),
    }))
}

/// Join the guild through the invite. Already a member: the guild is returned, no use is
/// taken.
#[utoipa::path(post, path = "/api/invites/{code}", tag = "invites", security(("bearer" = [])),
    params(("code" = String, Path)),
    responses((status = 201, body = Guild, description = "Joined."),
              (status = 200, body = Guild, description = "Already a member."),
              (status = "4XX", body = ErrorBody, description = "Unknown (404), banned (403), revoked, expired or used up (410), rate limited (429).")))]
pub async fn accept_invite(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    session: Session,
    Path(code): Path<String>,
) -> ApiResult<(StatusCode, Json<Guild>)> {
    state.limits.invites(client_ip(
        &headers,
        Some(&peer),
        state.config.trust_forwarded_for,
    ))?;
    let code = invite_code(&code)?;
    let (status, guild_id) = match state
        .store
        .accept_invite(
            code.as_str(),
            session.user_id.0,
            now_ms(),
            dispatches::member_joined,
        )
        .await?
    {
        InviteAcceptance::Joined { guild_id } => (StatusCode::CREATED, guild_id),
        InviteAcceptance::AlreadyMember { guild_id } => (StatusCode::OK, guild_id),
        InviteAcceptance::Unknown => return Err(ApiError::not_found("invite")),
        InviteAcceptance::Revoked => {
            return Err(ApiError::new(
                ErrorCode::InviteRevoked,
                "this invite was revoked",
            ));
        }
        InviteAcceptance::Expired => {
            return Err(ApiError::new(
                ErrorCode::InviteExpired,
                "this invite has expired",
            ));
        }
        InviteAcceptance::UsedUp => {
            return Err(ApiError::new(
                ErrorCode::InviteUsedUp,
                "this invite has been used up",
            ));
        }
        InviteAcceptance::Banned => {
            return Err(ApiError::new(
                ErrorCode::Banned,
                "you are banned from this guild",
            ));
        }
    };
    let guild = state
        .store
        .guild(guild_id)
        .await?
        .ok_or_else(|| ApiError::not_found("invite"))?;
    Ok((status, Json(views::guild(&guild))))
}

/// Revoke an invite (its creator, or admins).
#[utoipa::path(delete, path = "/api/invites/{code}", tag = "invites", security(("bearer" = [])),
    params(("code" = String, Path)),
    responses((status = 204, description = "Revoked."), (status = "4XX", body = ErrorBody)))]
pub async fn revoke_invite(
    State(state): State<AppState>,
    session: Session,
    Path(code): Path<String>,
) -> ApiResult<StatusCode> {
    let code = invite_code(&code)?;
    let invite = state
        .store
        .invite(code.as_str())
        .await?
        .ok_or_else(|| ApiError::not_found("invite"))?;
    let access = guild_access(&state, &session, Id(invite.guild_id))
        .await
        .map_err(|_| ApiError::not_found("invite"))?;
    if invite.creator_id != session.user_id.0 {
        access.require(Permissions::MANAGE_GUILD)?;
    }
    state
        .store
        .revoke_invite(
            &invite,
            now_ms(),
            dispatches::invite_deleted(&invite),
            dispatches::INVITE_AUDIENCE.bits(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
