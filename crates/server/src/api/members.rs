//! Members, roles, kicks and bans.

use axum::extract::State;
use axum::http::StatusCode;
use madang_domain::validate::BanReason;
use madang_domain::{GuildRole, Permissions};
use madang_protocol::Id;
use madang_protocol::rest::{
    Ban, CreateBan, ErrorBody, Member, MemberRole, PageQuery, UpdateMember,
};

use super::access::guild_access;
use super::{dispatches, page_limit, views};
use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::state::{AppState, now_ms};
use crate::voice::VoiceControl;

/// The guild's members in user-id order; page with `after` (the last user id you have).
#[utoipa::path(get, path = "/api/guilds/{guild_id}/members", tag = "members", security(("bearer" = [])),
    params(("guild_id" = Id, Path), PageQuery),
    responses((status = 200, body = Vec<Member>), (status = "4XX", body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    session: Session,
    Path(guild_id): Path<Id>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<Vec<Member>>> {
    guild_access(&state, &session, guild_id).await?;
    let limit = page_limit(query.limit)?;
    let members = state
        .store
        .members(guild_id.0, query.after.map_or(0, |id| id.0), limit)
        .await?;
    Ok(Json(members.iter().map(views::member).collect()))
}

/// Leave the guild (your own user id) or kick a member (admins; only members ranked below
/// you). The owner must transfer ownership or delete the guild before leaving.
#[utoipa::path(delete, path = "/api/guilds/{guild_id}/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("guild_id" = Id, Path), ("user_id" = Id, Path)),
    responses((status = 204, description = "Removed."), (status = "4XX", body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    session: Session,
    Path((guild_id, user_id)): Path<(Id, Id)>,
) -> ApiResult<StatusCode> {
    let access = guild_access(&state, &session, guild_id).await?;
    if user_id == session.user_id {
        if access.role() == GuildRole::Owner {
            return Err(ApiError::conflict(
                "the owner must transfer ownership or delete the guild before leaving",
            ));
        }
    } else {
        access.require(Permissions::KICK_MEMBERS)?;
        let target = state
            .store
            .member(guild_id.0, user_id.0)
            .await?
            .ok_or_else(|| ApiError::not_found("member"))?;
        if !access.role().outranks(target.role) {
            return Err(ApiError::forbidden(
                "you can only remove members ranked below you",
            ));
        }
    }
    state
        .store
        .remove_member(guild_id.0, user_id.0, now_ms(), dispatches::member_removed)
        .await?;
    state.gateway.control_voice(VoiceControl::Disconnect {
        guild_id: guild_id.0,
        user_id: user_id.0,
    });
    Ok(StatusCode::NO_CONTENT)
}

/// Make a member an admin or a plain member again (owner).
#[utoipa::path(patch, path = "/api/guilds/{guild_id}/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("guild_id" = Id, Path), ("user_id" = Id, Path)), request_body = UpdateMember,
    responses((status = 200, body = Member), (status = "4XX", body = ErrorBody)))]
pub async fn update_member(
    State(state): State<AppState>,
    session: Session,
    Path((guild_id, user_id)): Path<(Id, Id)>,
    Json(request): Json<UpdateMember>,
) -> ApiResult<Json<Member>> {
    guild_access(&state, &session, guild_id)
        .await?
        .require(Permissions::MANAGE_ADMINS)?;
    let role = match request.role {
        MemberRole::Admin => GuildRole::Admin,
        MemberRole::Member => GuildRole::Member,
        MemberRole::Owner => {
            return Err(ApiError::validation(
                "role: use PATCH /api/guilds/{guild_id} with owner_id to transfer ownership",
            ));
        }
    };
    let target = state
        .store
        .member(guild_id.0, user_id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("member"))?;
    if target.role == GuildRole::Owner {
        return Err(ApiError::conflict(
            "the owner's role changes only by transferring ownership",
        ));
    }
    let updated = state
        .store
        .set_member_role(
            guild_id.0,
            user_id.0,
            role,
            now_ms(),
            dispatches::member_updated,
        )
        .await?;
    Ok(Json(views::member(&updated)))
}

/// The guild's bans in user-id order (admins).
#[utoipa::path(get, path = "/api/guilds/{guild_id}/bans", tag = "members", security(("bearer" = [])),
    params(("guild_id" = Id, Path), PageQuery),
    responses((status = 200, body = Vec<Ban>), (status = "4XX", body = ErrorBody)))]
pub async fn list_bans(
    State(state): State<AppState>,
    session: Session,
    Path(guild_id): Path<Id>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<Vec<Ban>>> {
    guild_access(&state, &session, guild_id)
        .await?
        .require(Permissions::BAN_MEMBERS)?;
    let limit = page_limit(query.limit)?;
    let bans = state
        .store
        .bans(guild_id.0, query.after.map_or(0, |id| id.0), limit)
        .await?;
    Ok(Json(bans.iter().map(views::ban).collect()))
}

/// One ban (admins).
#[utoipa::path(get, path = "/api/guilds/{guild_id}/bans/{user_id}", tag = "members", security(("bearer" = [])),
    params(("guild_id" = Id, Path), ("user_id" = Id, Path)),
    responses((status = 200, body = Ban), (status = "4XX", body = ErrorBody)))]
pub async fn get_ban(
    State(state): State<AppState>,
    session: Session,
    Path((guild_id, user_id)): Path<(Id, Id)>,
) -> ApiResult<Json<Ban>> {
    guild_access(&state, &session, guild_id)
        .await?
        .require(Permissions::BAN_MEMBERS)?;
    let ban = state
        .store
        .ban_of(guild_id.0, user_id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("ban"))?;
    Ok(Json(views::ban(&ban)))
}

/// Ban a user (admins): they are removed from the guild and cannot rejoin through any
/// invite until unbanned.
#[utoipa::path(put, path = "/api/guilds/{guild_id}/bans/{user_id}", tag = "members", security(("bearer" = [])),
    params(("guild_id" = Id, Path), ("user_id" = Id, Path)), request_body = CreateBan,
    responses((status = 200, body = Ban), (status = "4XX", body = ErrorBody)))]
pub async fn create_ban(
    State(state): State<AppState>,
    session: Session,
    Path((guild_id, user_id)): Path<(Id, Id)>,
    Json(request): Json<CreateBan>,
) -> ApiResult<Json<Ban>> {
    let access = guild_access(&state, &session, guild_id).await?;
    access.require(Permissions::BAN_MEMBERS)?;
    if user_id == session.user_id {
        return Err(ApiError::validation("user_id: you cannot ban yourself"));
    }
    let reason = request
        .reason
        .as_deref()
        .map(BanReason::parse)
        .transpose()?
        .filter(|r| !r.as_str().is_empty());
    state
        .store
        .user(user_id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    if let Some(target) = state.store.member(guild_id.0, user_id.0).await?
        && !access.role().outranks(target.role)
    {
        return Err(ApiError::forbidden(
            "you can only ban members ranked below you",
        ));
    }
    state
        .store
        .ban(
            guild_id.0,
            user_id.0,
            reason.as_ref().map(BanReason::as_str),
            session.user_id.0,
            now_ms(),
            dispatches::ban_added,
            dispatches::member_removed,
        )
        .await?;
    state.gateway.control_voice(VoiceControl::Disconnect {
        guild_id: guild_id.0,
        user_id: user_id.0,
    });
    let ban = state
        .store
        .ban_of(guild_id.0, user_id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("ban"))?;
    Ok(Json(views::ban(&ban)))
}

/// Lift a ban (admins).
#[utoipa::path(delete, path = "/api/guilds/{guild_id}/bans/{user_id}", tag = "members", security(("bearer" = [])),
    params(("guild_id" = Id, Path), ("user_id" = Id, Path)),
    responses((status = 204, description = "Unbanned."), (status = "4XX", body = ErrorBody)))]
pub async fn delete_ban(
    State(state): State<AppState>,
    session: Session,
    Path((guild_id, user_id)): Path<(Id, Id)>,
) -> ApiResult<StatusCode> {
    guild_access(&state, &session, guild_id)
        .await?
        .require(Permissions::BAN_MEMBERS)?;
    let unbanned = dispatches::ban_removed(guild_id, user_id);
    if !state
        .store
        .unban(
            guild_id.0,
            user_id.0,
            now_ms(),
            unbanned,
            dispatches::BAN_AUDIENCE.bits(),
        )
        .await?
    {
        return Err(ApiError::not_found("ban"));
    }
    Ok(StatusCode::NO_CONTENT)
}
