//! What every request handler shares.

use std::ops::Deref;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use madang_domain::{Id, IdGenerator};
use madang_store::Store;

use crate::auth::{AccessTokens, LoginSessions, PasswordHasher};
use crate::config::Config;
use crate::gateway::Gateway;
use crate::rate_limit::Limiters;
use crate::voice::Voice;

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub config: Config,
    pub store: Store,
    pub ids: IdGenerator,
    pub tokens: AccessTokens,
    pub passwords: PasswordHasher,
    /// Shared with the gateway, which forgets the logins that revocations cover.
    pub login_sessions: Arc<LoginSessions>,
    pub limits: Limiters,
    pub gateway: Gateway,
    /// `None` when voice is switched off (`voice.enabled = false`).
    pub voice: Option<Voice>,
    /// This process's receipt stream: the id under which the gateway records the order it
    /// received events in.
    pub stream_id: i64,
    /// `scheme://host` browsers must send as `Origin`, when a public URL is configured.
    pub public_origin: Option<String>,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }

    pub fn next_id(&self) -> Id {
        self.ids.next(now_ms())
    }
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Wall-clock time in unix milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
