//! The REST API under `/api`: every route, its OpenAPI description, and the operational
//! endpoints (`/healthz`, `/readyz`, `/metrics`).

mod access;
mod accounts;
mod admin;
mod channels;
pub(crate) mod dispatches;
mod guilds;
mod invites;
mod members;
mod messages;
pub(crate) mod views;
mod voice;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use madang_protocol::gateway;
use madang_protocol::rest::{ErrorBody, ErrorCode, Health};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Madang",
        description = "REST API of Madang, a self-hosted community chat. Ids are 64-bit integers sent as strings; \
            times are RFC 3339 strings. Every error is `{\"error\": {\"code\", \"message\"}}`; the codes are listed \
            in the `ErrorCode` schema. Authenticate with `Authorization: Bearer <access_token>` from login, \
            register or refresh.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&BearerAuth),
    components(schemas(
        ErrorCode,
        gateway::ClientFrame,
        gateway::ServerFrame,
        gateway::DispatchFrame,
        gateway::DispatchType,
        gateway::Ready,
        gateway::GatewayGuild,
        gateway::MessageDeleted,
        gateway::ChannelDeleted,
        gateway::GuildDeleted,
        gateway::GuildMember,
        gateway::GuildMemberRemoved,
        gateway::GuildBan,
        gateway::GuildBanRemoved,
        gateway::InviteDeleted,
        gateway::PresenceUpdate,
        gateway::TypingStart,
        gateway::VoiceState,
        gateway::VoiceSpeaking
    )),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "users", description = "The signed-in user"),
        (name = "guilds", description = "Guilds (communities)"),
        (name = "channels", description = "Text and voice channels, and categories"),
        (name = "members", description = "Members, roles and bans"),
        (name = "invites", description = "Invite links"),
        (name = "messages", description = "Messages and read state"),
        (name = "voice", description = "Voice channels: TURN credentials and moderation"),
        (name = "admin", description = "System administration"),
        (name = "operations", description = "Health and readiness")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(accounts::register))
        .routes(routes!(accounts::login))
        .routes(routes!(accounts::refresh))
        .routes(routes!(accounts::logout))
        .routes(routes!(accounts::get_me, accounts::update_me))
        .routes(routes!(accounts::my_guilds))
        .routes(routes!(accounts::my_read_states))
        .routes(routes!(guilds::create_guild))
        .routes(routes!(
            guilds::get_guild,
            guilds::update_guild,
            guilds::delete_guild
        ))
        .routes(routes!(
            guilds::list_channels,
            guilds::create_channel,
            guilds::reorder_channels
        ))
        .routes(routes!(channels::update_channel, channels::delete_channel))
        .routes(routes!(members::list_members))
        .routes(routes!(members::remove_member, members::update_member))
        .routes(routes!(members::list_bans))
        .routes(routes!(
            members::get_ban,
            members::create_ban,
            members::delete_ban
        ))
        .routes(routes!(invites::list_invites, invites::create_invite))
        .routes(routes!(
            invites::preview_invite,
            invites::accept_invite,
            invites::revoke_invite
        ))
        .routes(routes!(messages::list_messages, messages::create_message))
        .routes(routes!(
            messages::get_message,
            messages::update_message,
            messages::delete_message
        ))
        .routes(routes!(messages::ack))
        .routes(routes!(voice::ice_servers))
        .routes(routes!(voice::update_voice_state, voice::disconnect_voice))
        .routes(routes!(admin::list_users))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The OpenAPI document, as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().into_openapi()
}

/// Every route of the server, without the cross-cutting layers (see `app`). Unknown paths
/// under `/api` are JSON 404s; every other unknown path belongs to the web client.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api_router().split_for_parts();
    // The docs page is Swagger UI's own HTML, which needs inline styles; it gets its own
    // policy and the rest of the server keeps the strict one.
    let docs = Router::from(SwaggerUi::new("/api/docs").url("/api/openapi.json", openapi)).layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"),
    ));
    api.merge(docs)
        .route("/metrics", get(crate::metrics::render))
        .route("/gateway", get(crate::gateway::upgrade))
        .route("/api", any(|| async { ApiError::not_found("route") }))
        .route(
            "/api/{*rest}",
            any(|| async { ApiError::not_found("route") }),
        )
        .fallback(crate::web::serve)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this path does not take that method",
            )
        })
        .with_state(state)
}

/// `limit` of a page of members, bans or users (`PageQuery`): 1–1000, default 100.
fn page_limit(limit: Option<i64>) -> ApiResult<i64> {
    match limit.unwrap_or(100) {
        limit @ 1..=1000 => Ok(limit),
        _ => Err(ApiError::validation("limit: must be 1 to 1000")),
    }
}

/// Liveness: the process serves requests.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody, description = "The database is unreachable.")))]
async fn readyz(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    state.store.ping().await?;
    Ok(Json(Health {
        status: "ok".into(),
    }))
}
