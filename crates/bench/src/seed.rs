//! `madang-bench seed`: writes benchmark data (users, one guild with one text channel, every
//! user a member, and optionally a long history) straight into a database, because creating
//! it through the API would take hours of password hashing and rate limits. Nothing measured
//! goes this way. Ids are deterministic, so later runs know them without reading them back.
//!
//! PostgreSQL gets `COPY`; SQLite gets multi-row `INSERT`s in one transaction. Every value
//! written is generated here (numbers and fixed ASCII text), so it is spelled into the SQL
//! with standard quoting.

use std::fmt::Write as _;
use std::str::FromStr;

use anyhow::Context;
use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
use madang_protocol::EPOCH_MS;
use sqlx::Connection;

use crate::servers::SEEDED_PASSWORD;

/// Node id of the seeded ids' snowflakes: the last one, which a benchmark cluster never uses.
const SEED_NODE_ID: i64 = 1023;
/// Users, the guild and the channel are dated just after madang's epoch…
const ENTITIES_MS: i64 = EPOCH_MS + 1_000;
/// …and history after them, 4096 messages per millisecond.
const HISTORY_MS: i64 = EPOCH_MS + 10_000_000;
/// Rows per SQLite INSERT statement.
const SQLITE_ROWS_PER_STATEMENT: usize = 500;
/// Rows per PostgreSQL COPY chunk sent.
const COPY_CHUNK_ROWS: usize = 20_000;

/// A madang-style id at `ms` with sequence `seq` (see `madang_domain::id`).
fn snowflake(ms: i64, seq: i64) -> i64 {
    ((ms - EPOCH_MS) << 22) | (SEED_NODE_ID << 12) | seq
}

/// The ids of everything seeded, computed from the sizes alone.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub users: usize,
    pub history: u64,
}

impl Layout {
    pub fn user_id(&self, index: usize) -> i64 {
        snowflake(
            ENTITIES_MS + 1 + (index / 4096) as i64,
            (index % 4096) as i64,
        )
    }

    pub fn username(index: usize) -> String {
        format!("bench{index}")
    }

    pub fn guild_id(&self) -> i64 {
        snowflake(ENTITIES_MS, 0)
    }

    pub fn channel_id(&self) -> i64 {
        snowflake(ENTITIES_MS, 1)
    }

    pub fn history_id(&self, index: u64) -> i64 {
        snowflake(HISTORY_MS + (index / 4096) as i64, (index % 4096) as i64)
    }
}

/// Which schema to fill: madang's own, or the Socket.IO peer's (`bench/peers/socketio/schema.sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Schema {
    Madang,
    Socketio,
}

enum Value {
    Int(i64),
    Text(String),
    Null,
}

/// Seeds an empty database at `url`. For madang the schema is made by madang's own
/// migrations (through `madang-store`) first.
pub async fn seed(
    url: &str,
    schema: Schema,
    layout: Layout,
    socketio_schema_sql: &str,
) -> anyhow::Result<()> {
    let postgres = url.starts_with("postgres");
    match schema {
        Schema::Madang => {
            madang_store::Store::connect(url)
                .await
                .context("cannot migrate the madang database")?
                .close()
                .await;
        }
        Schema::Socketio => {
            anyhow::ensure!(postgres, "the Socket.IO peer runs on PostgreSQL only");
            let mut connection = sqlx::PgConnection::connect(url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(socketio_schema_sql.to_owned()))
                .execute(&mut connection)
                .await?;
        }
    }
    let mut writer = if postgres {
        Writer::Postgres(sqlx::PgConnection::connect(url).await?)
    } else {
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Off);
        Writer::Sqlite(sqlx::SqliteConnection::connect_with(&options).await?)
    };
    let now = ENTITIES_MS;
    let users = layout.users;
    match schema {
        Schema::Madang => {
            let hash = cheap_password_hash()?;
            writer
                .write(
                    "users",
                    &[
                        "id",
                        "username",
                        "email",
                        "display_name",
                        "password_hash",
                        "system_role",
                        "created_at",
                    ],
                    users as u64,
                    |i| {
                        let i = i as usize;
                        vec![
                            Value::Int(layout.user_id(i)),
                            Value::Text(Layout::username(i)),
                            Value::Text(format!("bench{i}@bench.invalid")),
                            Value::Null,
                            Value::Text(hash.clone()),
                            Value::Int(0),
                            Value::Int(now),
                        ]
                    },
                )
                .await?;
            writer
                .write(
                    "guilds",
                    &["id", "name", "owner_id", "created_at"],
                    1,
                    |_| {
                        vec![
                            Value::Int(layout.guild_id()),
                            Value::Text("Benchmark".into()),
                            Value::Int(layout.user_id(0)),
                            Value::Int(now),
                        ]
                    },
                )
                .await?;
            writer
                .write(
                    "channels",
                    &[
                        "id",
                        "guild_id",
                        "kind",
                        "name",
                        "topic",
                        "parent_id",
                        "position",
                        "created_at",
                    ],
                    1,
                    |_| {
                        vec![
                            Value::Int(layout.channel_id()),
                            Value::Int(layout.guild_id()),
                            Value::Int(0),
                            Value::Text("general".into()),
                            Value::Null,
                            Value::Null,
                            Value::Int(0),
                            Value::Int(now),
                        ]
                    },
                )
                .await?;
            writer
                .write(
                    "guild_members",
                    &["guild_id", "user_id", "role", "joined_at"],
                    users as u64,
                    |i| {
                        vec![
                            Value::Int(layout.guild_id()),
                            Value::Int(layout.user_id(i as usize)),
                            // the first user owns the guild (2), the rest are members (0)
                            Value::Int(if i == 0 { 2 } else { 0 }),
                            Value::Int(now),
                        ]
                    },
                )
                .await?;
            writer
                .write(
                    "messages",
                    &[
                        "id",
                        "channel_id",
                        "guild_id",
                        "author_id",
                        "content",
                        "nonce",
                        "reply_to",
                        "edited_at",
                    ],
                    layout.history,
                    |i| {
                        vec![
                            Value::Int(layout.history_id(i)),
                            Value::Int(layout.channel_id()),
                            Value::Int(layout.guild_id()),
                            Value::Int(layout.user_id(i as usize % users)),
                            Value::Text(history_content(i)),
                            Value::Null,
                            Value::Null,
                            Value::Null,
                        ]
                    },
                )
                .await?;
        }
        Schema::Socketio => {
            writer
                .write(
                    "users",
                    &["id", "username", "display_name"],
                    users as u64,
                    |i| {
                        vec![
                            Value::Int(layout.user_id(i as usize)),
                            Value::Text(Layout::username(i as usize)),
                            Value::Null,
                        ]
                    },
                )
                .await?;
            writer
                .write("channels", &["id", "guild_id", "name"], 1, |_| {
                    vec![
                        Value::Int(layout.channel_id()),
                        Value::Int(layout.guild_id()),
                        Value::Text("general".into()),
                    ]
                })
                .await?;
            writer
                .write(
                    "channel_members",
                    &["channel_id", "user_id"],
                    users as u64,
                    |i| {
                        vec![
                            Value::Int(layout.channel_id()),
                            Value::Int(layout.user_id(i as usize)),
                        ]
                    },
                )
                .await?;
            writer
                .write(
                    "messages",
                    &["id", "channel_id", "guild_id", "author_id", "content"],
                    layout.history,
                    |i| {
                        vec![
                            Value::Int(layout.history_id(i)),
                            Value::Int(layout.channel_id()),
                            Value::Int(layout.guild_id()),
                            Value::Int(layout.user_id(i as usize % users)),
                            Value::Text(history_content(i)),
                        ]
                    },
                )
                .await?;
            // New messages take ids after the seeded history.
            writer
                .execute(
                    "SELECT setval('messages_id_seq', (SELECT COALESCE(MAX(id), 1) FROM messages))",
                )
                .await?;
        }
    }
    writer.execute("ANALYZE").await?;
    Ok(())
}

/// 64 bytes of text, like the messages the benchmarks send.
fn history_content(index: u64) -> String {
    format!("history message {index:>12} ........................................")[..64].to_owned()
}

/// An argon2id hash of the seeded password at the cheapest settings; the server verifies
/// with the parameters stored in the hash, so logging in stays cheap whatever it is set to.
fn cheap_password_hash() -> anyhow::Result<String> {
    let params = Params::new(64, 1, 1, None).map_err(|e| anyhow::anyhow!("{e}"))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    Ok(argon2
        .hash_password(SEEDED_PASSWORD.as_bytes())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .to_string())
}

enum Writer {
    Postgres(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

impl Writer {
    async fn execute(&mut self, sql: &str) -> anyhow::Result<()> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self {
            Writer::Postgres(connection) => {
                sqlx::raw_sql(sql).execute(connection).await?;
            }
            Writer::Sqlite(connection) => {
                sqlx::raw_sql(sql).execute(connection).await?;
            }
        }
        Ok(())
    }

    async fn write(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: u64,
        row: impl Fn(u64) -> Vec<Value>,
    ) -> anyhow::Result<()> {
        if rows == 0 {
            return Ok(());
        }
        match self {
            Writer::Postgres(connection) => {
                let statement = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
                let mut copy = connection.copy_in_raw(&statement).await?;
                let mut chunk = String::new();
                for i in 0..rows {
                    for (n, value) in row(i).into_iter().enumerate() {
                        if n > 0 {
                            chunk.push('\t');
                        }
                        match value {
                            Value::Int(v) => write!(chunk, "{v}")?,
                            Value::Text(text) => chunk.push_str(&text),
                            Value::Null => chunk.push_str("\\N"),
                        }
                    }
                    chunk.push('\n');
                    if (i + 1) % COPY_CHUNK_ROWS as u64 == 0 {
                        copy.send(std::mem::take(&mut chunk).into_bytes()).await?;
                    }
                }
                if !chunk.is_empty() {
                    copy.send(chunk.into_bytes()).await?;
                }
                copy.finish().await?;
            }
            Writer::Sqlite(connection) => {
                let mut transaction = connection.begin().await?;
                let head = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
                let mut statement = head.clone();
                for i in 0..rows {
                    if !statement.ends_with("VALUES ") {
                        statement.push(',');
                    }
                    statement.push('(');
                    for (n, value) in row(i).into_iter().enumerate() {
                        if n > 0 {
                            statement.push(',');
                        }
                        match value {
                            Value::Int(v) => write!(statement, "{v}")?,
                            Value::Text(text) => {
                                write!(statement, "'{}'", text.replace('\'', "''"))?
                            }
                            Value::Null => statement.push_str("NULL"),
                        }
                    }
                    statement.push(')');
                    if (i + 1) % SQLITE_ROWS_PER_STATEMENT as u64 == 0 || i + 1 == rows {
                        sqlx::raw_sql(sqlx::AssertSqlSafe(std::mem::replace(
                            &mut statement,
                            head.clone(),
                        )))
                        .execute(&mut *transaction)
                        .await?;
                    }
                }
                transaction.commit().await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_are_distinct_and_ordered() {
        let layout = Layout {
            users: 10_000,
            history: 10_000,
        };
        assert!(layout.user_id(4095) < layout.user_id(4096));
        assert!(layout.channel_id() < layout.user_id(0));
        assert!(layout.user_id(9_999) < layout.history_id(0));
        assert!(layout.history_id(4095) < layout.history_id(4096));
        assert_eq!(history_content(7).len(), 64);
    }
}
