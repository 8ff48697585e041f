//! Persistence for Madang. One SQL dialect serves SQLite and PostgreSQL through sqlx's `Any`
//! driver, so every query is written once:
//! - placeholders are `$1, $2, …`, numbered in the order they first appear in the statement
//!   (SQLite numbers named parameters by first appearance);
//! - ids are BIGINT, times BIGINT unix milliseconds, booleans and enums SMALLINT;
//! - `RETURNING`, `ON CONFLICT … DO …` and transactions behave alike on both.
//!
//! The store is deliberately dumb: the caller has already validated and authorised, and
//! passes in ids and the current time. Methods are grouped by entity, in the same order in
//! each file: create, read, update, delete.

mod auth;
mod channels;
mod events;
mod guilds;
mod invites;
mod members;
mod message_writer;
mod messages;
mod read_states;
#[cfg(feature = "testing")]
pub mod testing;
mod users;
mod voice_states;

use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Executor, Transaction};

pub use auth::{AuthenticatedUser, RefreshOutcome};
pub use channels::{ChannelKind, ChannelPlacement, ChannelRow, ChannelUpdate};
pub use events::{
    Dispatch, EventSink, EventSource, GuildEvent, LoggedEvent, MemberJoin, MemberRemoval,
    MembershipEffect, Receipt, SessionCheckpoint, UserEvent, UserEventKind,
};
pub use guilds::GuildRow;
pub use invites::{InviteAcceptance, InviteRow};
pub use members::{BanRow, MemberRow};
pub use messages::{MessageRow, MessagesPage, NewMessage};
pub use read_states::ReadStateRow;
pub use users::{NewUser, UserRow};
pub use voice_states::{VoiceFlags, VoiceStateRow};

/// Unread counts stop at this number; clients show "999+". Counting further would make a
/// read-state query cost as much as the backlog is long.
pub const UNREAD_COUNT_CAP: i64 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value (the named field) is taken.
    #[error("{0} is already taken")]
    Conflict(&'static str),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database. Cheap to clone; clones share the pools.
#[derive(Clone)]
pub struct Store {
    /// Reads run here, concurrently.
    read: AnyPool,
    /// Writes run here. On SQLite this pool holds a single connection: SQLite admits one
    /// writer at a time anyway, and queueing in the pool avoids SQLITE_BUSY between writers.
    /// On PostgreSQL it is the same pool as `read`.
    write: AnyPool,
    backend: Backend,
    /// Where committed events go (the bus publisher); none in tools that only administer.
    events: Option<EventSink>,
    /// The task that commits new messages in batches, started by the first post.
    message_writer: Arc<OnceLock<tokio::sync::mpsc::Sender<message_writer::Post>>>,
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`), creating an SQLite file if needed,
    /// and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                format!("unsupported database URL {url:?}: use sqlite://… or postgres://…").into(),
            )));
        };
        let options = AnyConnectOptions::from_str(url)?;
        let store = match backend {
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?;
                Store {
                    read: pool.clone(),
                    write: pool,
                    backend,
                    events: None,
                    message_writer: Arc::default(),
                }
            }
            Backend::Sqlite => {
                let sqlite_pool = |max| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(Duration::from_secs(10))
                        .after_connect(|conn, _| {
                            Box::pin(async move {
                                // WAL lets readers run beside the writer; NORMAL sync in WAL
                                // mode survives a process crash (not a power cut) and keeps
                                // commits fast; foreign keys are off by default in SQLite.
                                conn.execute("PRAGMA journal_mode = WAL").await?;
                                conn.execute("PRAGMA synchronous = NORMAL").await?;
                                conn.execute("PRAGMA busy_timeout = 5000").await?;
                                conn.execute("PRAGMA foreign_keys = ON").await?;
                                Ok(())
                            })
                        })
                };
                let write = sqlite_pool(1).connect_with(options.clone()).await?;
                let read = sqlite_pool(8).connect_with(options).await?;
                Store {
                    read,
                    write,
                    backend,
                    events: None,
                    message_writer: Arc::default(),
                }
            }
        };
        sqlx::migrate!("./migrations").run(&store.write).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers; for readiness probes.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    async fn begin(&self) -> Result<Transaction<'static, Any>> {
        Ok(self.write.begin().await?)
    }
}

/// Appends `rows` groups of `columns` placeholders, `($1, $2, …), (…)`, to a VALUES clause.
pub(crate) fn push_value_rows(sql: &mut String, rows: usize, columns: usize) {
    use std::fmt::Write as _;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 1..=columns {
            let separator = if column > 1 { ", " } else { "" };
            let _ = write!(sql, "{separator}${}", row * columns + column);
        }
        sql.push(')');
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}
