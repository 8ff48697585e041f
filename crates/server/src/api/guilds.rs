//! Guilds and their channel lists.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use madang_domain::Permissions;
use madang_domain::validate::{self, ChannelName, ChannelTopic, GuildName};
use madang_protocol::Id;
use madang_protocol::gateway::DispatchType;
use madang_protocol::rest::{
    Channel, ChannelKind, ChannelPosition, CreateChannel, CreateGuild, ErrorBody, Guild,
    UpdateGuild,
};
use madang_store::{ChannelPlacement, ChannelRow};

use super::access::guild_access;
use super::{dispatches, views};
use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::state::{AppState, now_ms};
use crate::voice::VoiceControl;

/// Create a guild you own, with a text channel `general` and a voice channel `General`.
#[utoipa::path(post, path = "/api/guilds", tag = "guilds", security(("bearer" = [])), request_body = CreateGuild,
    responses((status = 201, body = Guild), (status = "4XX", body = ErrorBody)))]
pub async fn create_guild(
    State(state): State<AppState>,
    session: Session,
    Json(request): Json<CreateGuild>,
) -> ApiResult<(StatusCode, Json<Guild>)> {
    let name = GuildName::parse(&request.name)?;
    let now = now_ms();
    let guild_id = state.next_id();
    let starting_channel = |kind, name: &str, position| ChannelRow {
        id: state.next_id().0,
        guild_id: guild_id.0,
        kind,
        name: name.to_owned(),
        topic: None,
        parent_id: None,
        position,
        user_limit: None,
        created_at: now,
    };
    let channels = [
        starting_channel(madang_store::ChannelKind::Text, "general", 0),
        starting_channel(madang_store::ChannelKind::Voice, "General", 1),
    ];
    let guild = state
        .store
        .create_guild(
            guild_id.0,
            name.as_str(),
            session.user_id.0,
            &channels,
            now,
            dispatches::member_joined,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(views::guild(&guild))))
}

/// A guild you are a member of.
#[utoipa::path(get, path = "/api/guilds/{guild_id}", tag = "guilds", security(("bearer" = [])),
    params(("guild_id" = Id, Path)),
    responses((status = 200, body = Guild), (status = "4XX", body = ErrorBody)))]
pub async fn get_guild(
    State(state): State<AppState>,
    session: Session,
    Path(guild_id): Path<Id>,
) -> ApiResult<Json<Guild>> {
    guild_access(&state, &session, guild_id).await?;
    let guild = state
        .store
        .guild(guild_id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("guild"))?;
    Ok(Json(views::guild(&guild)))
}

/// Rename the guild (admins) or transfer its ownership to another member (owner).
#[utoipa::path(patch, path = "/api/guilds/{guild_id}", tag = "guilds", security(("bearer" = [])),
    params(("guild_id" = Id, Path)), request_body = UpdateGuild,
    responses((status = 200, body = Guild), (status = "4XX", body = ErrorBody)))]
pub async fn update_guild(
    State(state): State<AppState>,
    session: Session,
    Path(guild_id): Path<Id>,
    Json(request): Json<UpdateGuild>,
) -> ApiResult<Json<Guild>> {
    let access = guild_access(&state, &session, guild_id).await?;
    access.require(Permissions::MANAGE_GUILD)?;
    let name = request.name.as_deref().map(GuildName::parse).transpose()?;
    if let Some(new_owner) = request.owner_id {
        access.require(Permissions::OWN_GUILD)?;
        if state.store.member(guild_id.0, new_owner.0).await?.is_none() {
            return Err(ApiError::validation(
                "owner_id: must be a member of the guild",
            ));
        }
    }
    if let Some(name) = &name {
        state
            .store
            .rename_guild(
                guild_id.0,
                name.as_str(),
                now_ms(),
                dispatches::guild_updated,
            )
            .await?;
    }
    if let Some(new_owner) = request.owner_id.filter(|owner| *owner != session.user_id) {
        state
            .store
            .transfer_ownership(
                guild_id.0,
                new_owner.0,
                now_ms(),
                dispatches::member_updated,
                dispatches::guild_updated,
            )
            .await?;
    }
    let guild = state
        .store
        .guild(guild_id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("guild"))?;
    Ok(Json(views::guild(&guild)))
}

/// Delete the guild with everything in it (owner).
#[utoipa::path(delete, path = "/api/guilds/{guild_id}", tag = "guilds", security(("bearer" = [])),
    params(("guild_id" = Id, Path)),
    responses((status = 204, description = "Deleted."), (status = "4XX", body = ErrorBody)))]
pub async fn delete_guild(
    State(state): State<AppState>,
    session: Session,
    Path(guild_id): Path<Id>,
) -> ApiResult<StatusCode> {
    guild_access(&state, &session, guild_id)
        .await?
        .require(Permissions::OWN_GUILD)?;
    state
        .store
        .delete_guild(guild_id.0, now_ms(), dispatches::guild_deleted(guild_id.0))
        .await?;
    state.gateway.control_voice(VoiceControl::CloseGuild {
        guild_id: guild_id.0,
    });
    Ok(StatusCode::NO_CONTENT)
}

/// The guild's channels in display order.
#[utoipa::path(get, path = "/api/guilds/{guild_id}/channels", tag = "channels", security(("bearer" = [])),
    params(("guild_id" = Id, Path)),
    responses((status = 200, body = Vec<Channel>), (status = "4XX", body = ErrorBody)))]
pub async fn list_channels(
    State(state): State<AppState>,
    session: Session,
    Path(guild_id): Path<Id>,
) -> ApiResult<Json<Vec<Channel>>> {
    guild_access(&state, &session, guild_id)
        .await?
        .require(Permissions::VIEW_CHANNELS)?;
    let channels = state.store.channels_of_guild(guild_id.0).await?;
    Ok(Json(channels.iter().map(views::channel).collect()))
}

/// Checks that `parent_id` may hold a channel of `kind`: it must be a category of the same
/// guild, and categories cannot nest.
pub(super) async fn check_parent(
    state: &AppState,
    guild_id: i64,
    kind: ChannelKind,
    parent_id: Option<Id>,
) -> ApiResult<()> {
    let Some(parent_id) = parent_id else {
        return Ok(());
    };
    if kind == ChannelKind::Category {
        return Err(ApiError::validation(
            "parent_id: categories cannot be placed in a category",
        ));
    }
    match state.store.channel(parent_id.0).await? {
        Some(parent)
            if parent.guild_id == guild_id
                && parent.kind == madang_store::ChannelKind::Category =>
        {
            Ok(())
        }
        _ => Err(ApiError::validation(
            "parent_id: must be a category of this guild",
        )),
    }
}

/// Create a text or voice channel, or a category (admins).
#[utoipa::path(post, path = "/api/guilds/{guild_id}/channels", tag = "channels", security(("bearer" = [])),
    params(("guild_id" = Id, Path)), request_body = CreateChannel,
    responses((status = 201, body = Channel), (status = "4XX", body = ErrorBody)))]
pub async fn create_channel(
    State(state): State<AppState>,
    session: Session,
    Path(guild_id): Path<Id>,
    Json(request): Json<CreateChannel>,
) -> ApiResult<(StatusCode, Json<Channel>)> {
    guild_access(&state, &session, guild_id)
        .await?
        .require(Permissions::MANAGE_CHANNELS)?;
    let name = ChannelName::parse(&request.name)?;
    let topic = request
        .topic
        .as_deref()
        .map(ChannelTopic::parse)
        .transpose()?;
    check_parent(&state, guild_id.0, request.kind, request.parent_id).await?;
    let position = match request.position {
        Some(position) => validate::position(position)?,
        None => state.store.next_channel_position(guild_id.0).await?,
    };
    let user_limit = match (request.kind, request.user_limit) {
        (_, None) => None,
        (ChannelKind::Voice, Some(limit)) => Some(validate::user_limit(limit)?),
        (_, Some(_)) => {
            return Err(ApiError::validation(
                "user_limit: only voice channels have one",
            ));
        }
    };
    let channel = ChannelRow {
        id: state.next_id().0,
        guild_id: guild_id.0,
        kind: views::store_channel_kind(request.kind),
        name: name.into_inner(),
        topic: topic
            .map(ChannelTopic::into_inner)
            .filter(|t| !t.is_empty()),
        parent_id: request.parent_id.map(|id| id.0),
        position,
        user_limit,
        created_at: now_ms(),
    };
    state
        .store
        .create_channel(
            &channel,
            now_ms(),
            dispatches::channel_event(DispatchType::ChannelCreate, &channel),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(views::channel(&channel))))
}

/// Reorder channels and move them between categories in one step (admins). Channels not
/// listed keep their place.
#[utoipa::path(patch, path = "/api/guilds/{guild_id}/channels", tag = "channels", security(("bearer" = [])),
    params(("guild_id" = Id, Path)), request_body = Vec<ChannelPosition>,
    responses((status = 200, body = Vec<Channel>, description = "The guild's channels after the change."),
              (status = "4XX", body = ErrorBody)))]
pub async fn reorder_channels(
    State(state): State<AppState>,
    session: Session,
    Path(guild_id): Path<Id>,
    Json(request): Json<Vec<ChannelPosition>>,
) -> ApiResult<Json<Vec<Channel>>> {
    guild_access(&state, &session, guild_id)
        .await?
        .require(Permissions::MANAGE_CHANNELS)?;
    if request.is_empty() || request.len() > 500 {
        return Err(ApiError::validation("give 1 to 500 channel positions"));
    }
    let channels = state.store.channels_of_guild(guild_id.0).await?;
    let by_id: HashMap<i64, &ChannelRow> = channels.iter().map(|c| (c.id, c)).collect();
    let mut placements = Vec::with_capacity(request.len());
    for entry in &request {
        let channel = by_id.get(&entry.id.0).ok_or_else(|| {
            ApiError::validation(format!("id: {} is not a channel of this guild", entry.id))
        })?;
        if let Some(parent_id) = entry.parent_id {
            let parent = by_id
                .get(&parent_id.0)
                .filter(|p| p.kind == madang_store::ChannelKind::Category);
            if parent.is_none() || channel.kind == madang_store::ChannelKind::Category {
                return Err(ApiError::validation(
                    "parent_id: must be a category of this guild, and categories cannot nest",
                ));
            }
        }
        placements.push(ChannelPlacement {
            id: entry.id.0,
            position: validate::position(entry.position)?,
            parent_id: entry.parent_id.map(|id| id.0),
        });
    }
    state
        .store
        .place_channels(
            guild_id.0,
            &placements,
            now_ms(),
            dispatches::channel_updated,
        )
        .await?;
    let channels = state.store.channels_of_guild(guild_id.0).await?;
    Ok(Json(channels.iter().map(views::channel).collect()))
}
