//! Building and running one Madang node: `Application::build(config)` binds the listener
//! (port 0 works, for tests), `run_until_stopped(shutdown)` serves until the future resolves
//! and lets in-flight requests finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::middleware;
use axum::serve::ListenerExt;
use madang_domain::IdGenerator;
use madang_store::Store;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{AccessTokens, LoginSessions, PasswordHasher};
use crate::config::Config;
use crate::error::ApiError;
use crate::gateway::Gateway;
use crate::rate_limit::Limiters;
use crate::state::{AppState, Shared, now_ms};
use crate::voice::{self, Voice};
use crate::{api, metrics};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Name of the HS256 key for access tokens in the `server_secrets` table.
const ACCESS_TOKEN_KEY: &str = "access_token_hs256_key";

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        config.validate()?;
        if config.database_url.is_empty() {
            std::fs::create_dir_all(&config.data_dir).with_context(|| {
                format!(
                    "cannot create the data directory {}",
                    config.data_dir.display()
                )
            })?;
        }
        let store = Store::connect(&config.effective_database_url())
            .await
            .context("cannot open the database")?;
        let ids = IdGenerator::new(config.node_id);
        let stream_id = ids.next(now_ms()).0;
        let (voice_commands, voice_received) = voice::command_channel();
        let login_sessions = Arc::new(LoginSessions::new());
        let (gateway, store) = Gateway::start(
            &config,
            store,
            stream_id,
            voice_commands.clone(),
            login_sessions.clone(),
        )
        .await?;
        let voice = if config.voice.enabled {
            // Chat keeps working without voice: a taken UDP port (a second node on one host)
            // switches voice off on this node, loudly, instead of refusing to start.
            match Voice::start(
                &config.voice,
                store.clone(),
                stream_id,
                voice_commands,
                voice_received,
                gateway.session_frames(),
            ) {
                Ok(voice) => Some(voice),
                Err(error) => {
                    tracing::error!("voice is off on this node: {error:#}");
                    None
                }
            }
        } else {
            None
        };
        let key = store
            .secret(ACCESS_TOKEN_KEY, now_ms(), || {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
            })
            .await?;
        metrics::install();
        let state = AppState::new(Shared {
            tokens: AccessTokens::new(key.as_bytes(), config.access_token_ttl_seconds),
            passwords: PasswordHasher::new(&config.password_hashing)?,
            login_sessions,
            limits: Limiters::new(&config.rate_limits),
            ids,
            gateway,
            voice,
            stream_id,
            public_origin: config.public_origin(),
            store,
            config,
        });
        let listener = TcpListener::bind(state.config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", state.config.listen))?;
        let router = with_layers(api::router(state.clone()), state.config.body_limit_bytes);
        Ok(Application {
            listener,
            router,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// Serves until `shutdown` resolves, then stops accepting, waits for in-flight requests,
    /// and closes the database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let state = self.state.clone();
        let housekeeping = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            for minute in 0u64.. {
                tick.tick().await;
                state.limits.forget_idle();
                if minute % 60 == 0 {
                    prune_logins(&state).await;
                }
            }
        });
        tracing::info!(address = %self.local_addr(), "madang is serving");
        // Frames go out as soon as they are written: with Nagle's algorithm, a small frame
        // written while an earlier one is unacknowledged waits for the client's delayed ACK
        // (40 ms on Linux), as the SFU's offer did behind its answer to a voice join. Batched
        // writes (a flush per queue drain) still fill whole segments.
        let listener = self.listener.tap_io(|connection| {
            if let Err(error) = connection.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY");
            }
        });
        let served = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        housekeeping.abort();
        self.state.gateway.shut_down().await;
        self.state.store.close().await;
        tracing::info!("madang stopped");
        Ok(served?)
    }
}

/// Removes refresh tokens and login sessions that can no longer be used, once an access
/// token's lifetime has passed since they could (see `Store::prune_logins`).
async fn prune_logins(state: &AppState) {
    let before = now_ms() - state.config.access_token_ttl_seconds * 1000;
    match state.store.prune_logins(before).await {
        Ok(removed) => tracing::debug!(removed, "pruned expired and revoked logins"),
        Err(error) => tracing::warn!(%error, "cannot prune expired logins"),
    }
}

/// The cross-cutting layers, outermost first: request ids, tracing, panic safety, body
/// limit, metrics and security headers.
fn with_layers(router: Router, body_limit: usize) -> Router {
    let strict_csp = HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'");
    router.route_layer(middleware::from_fn(metrics::track)).layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let request_id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
            }))
            .layer(CatchPanicLayer::custom(|_| {
                tracing::error!("a request handler panicked");
                axum::response::IntoResponse::into_response(ApiError::internal())
            }))
            .layer(axum::extract::DefaultBodyLimit::max(body_limit))
            .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, strict_csp))
            .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
            .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
            .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"))),
    )
}
