//! Editing and deleting a channel.

use axum::extract::State;
use axum::http::StatusCode;
use madang_domain::Permissions;
use madang_domain::validate::{self, ChannelName, ChannelTopic};
use madang_protocol::Id;
use madang_protocol::rest::{Channel, ErrorBody, UpdateChannel};
use madang_store::{ChannelKind, ChannelUpdate};

use super::access::channel_access;
use super::guilds::check_parent;
use super::{dispatches, views};
use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::state::{AppState, now_ms};
use crate::voice::VoiceControl;

/// Rename a channel, set its topic, move it (admins).
#[utoipa::path(patch, path = "/api/channels/{channel_id}", tag = "channels", security(("bearer" = [])),
    params(("channel_id" = Id, Path)), request_body = UpdateChannel,
    responses((status = 200, body = Channel), (status = "4XX", body = ErrorBody)))]
pub async fn update_channel(
    State(state): State<AppState>,
    session: Session,
    Path(channel_id): Path<Id>,
    Json(request): Json<UpdateChannel>,
) -> ApiResult<Json<Channel>> {
    let (channel, access) = channel_access(&state, &session, channel_id).await?;
    access.require(Permissions::MANAGE_CHANNELS)?;
    let name = request
        .name
        .as_deref()
        .map(ChannelName::parse)
        .transpose()?;
    let topic = match &request.topic {
        Some(Some(topic)) => {
            Some(Some(ChannelTopic::parse(topic)?).filter(|t| !t.as_str().is_empty()))
        }
        Some(None) => Some(None),
        None => None,
    };
    if let Some(parent_id) = request.parent_id {
        if parent_id == Some(channel_id) {
            return Err(ApiError::validation(
                "parent_id: a channel cannot contain itself",
            ));
        }
        check_parent(
            &state,
            channel.guild_id,
            views::channel_kind(channel.kind),
            parent_id,
        )
        .await?;
    }
    let position = request.position.map(validate::position).transpose()?;
    let user_limit = match request.user_limit {
        None => None,
        Some(_) if channel.kind != ChannelKind::Voice => {
            return Err(ApiError::validation(
                "user_limit: only voice channels have one",
            ));
        }
        Some(limit) => Some(limit.map(validate::user_limit).transpose()?),
    };
    let update = ChannelUpdate {
        name: name.as_ref().map(ChannelName::as_str),
        topic: topic.as_ref().map(|t| t.as_ref().map(ChannelTopic::as_str)),
        parent_id: request.parent_id.map(|p| p.map(|id| id.0)),
        position,
        user_limit,
    };
    let updated = state
        .store
        .update_channel(channel_id.0, &update, now_ms(), dispatches::channel_updated)
        .await?
        .ok_or_else(|| ApiError::not_found("channel"))?;
    Ok(Json(views::channel(&updated)))
}

/// Delete a channel and its messages (admins). A deleted category's channels stay,
/// uncategorised.
#[utoipa::path(delete, path = "/api/channels/{channel_id}", tag = "channels", security(("bearer" = [])),
    params(("channel_id" = Id, Path)),
    responses((status = 204, description = "Deleted."), (status = "4XX", body = ErrorBody)))]
pub async fn delete_channel(
    State(state): State<AppState>,
    session: Session,
    Path(channel_id): Path<Id>,
) -> ApiResult<StatusCode> {
    let (channel, access) = channel_access(&state, &session, channel_id).await?;
    access.require(Permissions::MANAGE_CHANNELS)?;
    state
        .store
        .delete_channel(
            &channel,
            now_ms(),
            dispatches::channel_deleted(&channel),
            dispatches::channel_updated,
        )
        .await?;
    state.gateway.control_voice(VoiceControl::CloseChannel {
        channel_id: channel_id.0,
    });
    Ok(StatusCode::NO_CONTENT)
}
