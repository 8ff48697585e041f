//! Messages in text channels, and read markers.

use axum::extract::State;
use axum::http::StatusCode;
use madang_domain::Permissions;
use madang_domain::validate::{MessageContent, Nonce};
use madang_protocol::Id;
use madang_protocol::gateway::DispatchType;
use madang_protocol::rest::{
    AckRequest, CreateMessage, ErrorBody, Message, MessagesQuery, ReadState, UpdateMessage,
};
use madang_store::{ChannelKind, ChannelRow, MessagesPage, NewMessage};

use super::access::channel_access;
use super::{dispatches, views};
use crate::auth::Session;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::state::{AppState, now_ms};

fn require_text(channel: &ChannelRow) -> ApiResult<()> {
    if channel.kind == ChannelKind::Text {
        Ok(())
    } else {
        Err(ApiError::validation("messages live in text channels only"))
    }
}

/// A page of history, newest first: the latest, or `before`, `after` or `around` an id.
#[utoipa::path(get, path = "/api/channels/{channel_id}/messages", tag = "messages", security(("bearer" = [])),
    params(("channel_id" = Id, Path), MessagesQuery),
    responses((status = 200, body = Vec<Message>), (status = "4XX", body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    session: Session,
    Path(channel_id): Path<Id>,
    Query(query): Query<MessagesQuery>,
) -> ApiResult<Json<Vec<Message>>> {
    let (channel, _) = channel_access(&state, &session, channel_id).await?;
    require_text(&channel)?;
    let limit = match query.limit.unwrap_or(50) {
        limit @ 1..=100 => limit,
        _ => return Err(ApiError::validation("limit: must be 1 to 100")),
    };
    let page = match (query.before, query.after, query.around) {
        (None, None, None) => MessagesPage::Latest,
        (Some(id), None, None) => MessagesPage::Before(id.0),
        (None, Some(id), None) => MessagesPage::After(id.0),
        (None, None, Some(id)) => MessagesPage::Around(id.0),
        _ => {
            return Err(ApiError::validation(
                "use at most one of before, after and around",
            ));
        }
    };
    let messages = state.store.messages(channel_id.0, page, limit).await?;
    Ok(Json(messages.iter().map(views::message).collect()))
}

/// Send a message. With a `nonce` you have used in this channel before, nothing new is
/// posted and the first message comes back with 200.
#[utoipa::path(post, path = "/api/channels/{channel_id}/messages", tag = "messages", security(("bearer" = [])),
    params(("channel_id" = Id, Path)), request_body = CreateMessage,
    responses((status = 201, body = Message, description = "Posted."),
              (status = 200, body = Message, description = "Already posted with this nonce."),
              (status = "4XX", body = ErrorBody)))]
pub async fn create_message(
    State(state): State<AppState>,
    session: Session,
    Path(channel_id): Path<Id>,
    Json(request): Json<CreateMessage>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let (channel, access) = channel_access(&state, &session, channel_id).await?;
    access.require(Permissions::SEND_MESSAGES)?;
    require_text(&channel)?;
    let content = MessageContent::parse(&request.content)?;
    let nonce = request.nonce.as_deref().map(Nonce::parse).transpose()?;
    if let Some(reply_to) = request.reply_to
        && state
            .store
            .message(channel_id.0, reply_to.0)
            .await?
            .is_none()
    {
        return Err(ApiError::validation(
            "reply_to: must be a message in this channel",
        ));
    }
    let (message, created) = state
        .store
        .create_message(
            NewMessage {
                id: state.next_id().0,
                channel_id: channel_id.0,
                guild_id: channel.guild_id,
                author_id: session.user_id.0,
                content: content.as_str(),
                nonce: nonce.as_ref().map(Nonce::as_str),
                reply_to: request.reply_to.map(|id| id.0),
            },
            now_ms(),
            |row| dispatches::message_event(DispatchType::MessageCreate, row),
        )
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(views::message(&message))))
}

/// One message.
#[utoipa::path(get, path = "/api/channels/{channel_id}/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("channel_id" = Id, Path), ("message_id" = Id, Path)),
    responses((status = 200, body = Message), (status = "4XX", body = ErrorBody)))]
pub async fn get_message(
    State(state): State<AppState>,
    session: Session,
    Path((channel_id, message_id)): Path<(Id, Id)>,
) -> ApiResult<Json<Message>> {
    channel_access(&state, &session, channel_id).await?;
    let message = state
        .store
        .message(channel_id.0, message_id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    Ok(Json(views::message(&message)))
}

/// Edit your own message.
#[utoipa::path(patch, path = "/api/channels/{channel_id}/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("channel_id" = Id, Path), ("message_id" = Id, Path)), request_body = UpdateMessage,
    responses((status = 200, body = Message), (status = "4XX", body = ErrorBody)))]
pub async fn update_message(
    State(state): State<AppState>,
    session: Session,
    Path((channel_id, message_id)): Path<(Id, Id)>,
    Json(request): Json<UpdateMessage>,
) -> ApiResult<Json<Message>> {
    channel_access(&state, &session, channel_id).await?;
    let message = state
        .store
        .message(channel_id.0, message_id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    if message.author_id != session.user_id.0 {
        return Err(ApiError::forbidden("only the author can edit a message"));
    }
    let content = MessageContent::parse(&request.content)?;
    let edited = state
        .store
        .edit_message(message_id.0, content.as_str(), now_ms(), |row| {
            dispatches::message_event(DispatchType::MessageUpdate, row)
        })
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    Ok(Json(views::message(&edited)))
}

/// Delete a message: your own, or anyone's as an admin.
#[utoipa::path(delete, path = "/api/channels/{channel_id}/messages/{message_id}", tag = "messages", security(("bearer" = [])),
    params(("channel_id" = Id, Path), ("message_id" = Id, Path)),
    responses((status = 204, description = "Deleted."), (status = "4XX", body = ErrorBody)))]
pub async fn delete_message(
    State(state): State<AppState>,
    session: Session,
    Path((channel_id, message_id)): Path<(Id, Id)>,
) -> ApiResult<StatusCode> {
    let (_, access) = channel_access(&state, &session, channel_id).await?;
    let message = state
        .store
        .message(channel_id.0, message_id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    if message.author_id != session.user_id.0 {
        access.require(Permissions::MANAGE_MESSAGES)?;
    }
    state
        .store
        .delete_message(&message, now_ms(), dispatches::message_deleted(&message))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark the channel read up to a message. The marker only moves forward.
#[utoipa::path(post, path = "/api/channels/{channel_id}/ack", tag = "messages", security(("bearer" = [])),
    params(("channel_id" = Id, Path)), request_body = AckRequest,
    responses((status = 200, body = ReadState), (status = "4XX", body = ErrorBody)))]
pub async fn ack(
    State(state): State<AppState>,
    session: Session,
    Path(channel_id): Path<Id>,
    Json(request): Json<AckRequest>,
) -> ApiResult<Json<ReadState>> {
    let (channel, _) = channel_access(&state, &session, channel_id).await?;
    require_text(&channel)?;
    state
        .store
        .message(channel_id.0, request.message_id.0)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    let read_state = state
        .store
        .ack(
            session.user_id.0,
            channel_id.0,
            request.message_id.0,
            now_ms(),
            dispatches::read_state_updated,
        )
        .await?;
    Ok(Json(views::read_state(&read_state)))
}
