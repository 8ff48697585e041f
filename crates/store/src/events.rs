//! The event logs: every mutation that clients must hear about appends its dispatch to a
//! guild's log or a user's log in the same transaction as the change, with a sequence
//! number taken from a counter on the guild or user row. After the commit the events go to
//! the event sink (the bus); readers fill any gap from here.
//!
//! The store never builds a payload: callers hand over [`Dispatch`]es (or closures that make
//! them from the rows written), so the JSON shapes stay with the HTTP layer.

use std::collections::{BTreeMap, HashMap};

use madang_domain::GuildRole;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use tokio::sync::mpsc::UnboundedSender;

use crate::{Result, Store, push_value_rows};

/// A dispatch as clients will receive it: its type (`MESSAGE_CREATE`, …) and JSON payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispatch {
    pub event_type: String,
    pub payload: String,
}

impl Dispatch {
    pub fn new(event_type: impl Into<String>, payload: impl Into<String>) -> Dispatch {
        Dispatch {
            event_type: event_type.into(),
            payload: payload.into(),
        }
    }
}

/// The dispatches of a member joining: one for the other members, one (the whole guild)
/// for the member who joined.
pub struct MemberJoin {
    pub for_members: Dispatch,
    pub for_joiner: Dispatch,
}

/// The dispatches of a member leaving (or being kicked or banned).
pub struct MemberRemoval {
    pub for_members: Dispatch,
    pub for_removed: Dispatch,
}

/// What an event changes about who sees a guild's later events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "role")]
pub enum MembershipEffect {
    None,
    /// The target user became a member with this role.
    Joined(GuildRole),
    /// The target user is no longer a member.
    Left,
    /// The guild is gone; nobody is a member any more.
    GuildDeleted,
    /// The target member's role is now this.
    RoleChanged(GuildRole),
}

/// One committed event of a guild's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuildEvent {
    pub guild_id: i64,
    pub seq: i64,
    pub dispatch: Dispatch,
    /// The user the event is about; they receive `target_dispatch` (when set) instead of
    /// `dispatch`.
    pub target_user_id: Option<i64>,
    pub target_dispatch: Option<Dispatch>,
    pub effect: MembershipEffect,
    /// Permission bits a member needs to see the event; 0 for every member.
    pub required_permissions: u64,
    pub created_at: i64,
}

/// One committed event of a user's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserEvent {
    pub user_id: i64,
    pub seq: i64,
    pub kind: UserEventKind,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserEventKind {
    /// A dispatch for the user's own sessions.
    Dispatch(Dispatch),
    /// Silent: the user joined `guild_id` at that guild's `guild_seq`. Lets a session that
    /// resumes on another node find every guild joined meanwhile.
    Joined { guild_id: i64, guild_seq: i64 },
}

/// A committed event of either log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoggedEvent {
    Guild(GuildEvent),
    User(UserEvent),
}

/// Which log an event belongs to: the unit of ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventSource {
    Guild(i64),
    User(i64),
}

impl LoggedEvent {
    pub fn source(&self) -> EventSource {
        match self {
            LoggedEvent::Guild(event) => EventSource::Guild(event.guild_id),
            LoggedEvent::User(event) => EventSource::User(event.user_id),
        }
    }

    pub fn seq(&self) -> i64 {
        match self {
            LoggedEvent::Guild(event) => event.seq,
            LoggedEvent::User(event) => event.seq,
        }
    }
}

/// One event as a gateway node received it: its place in the node's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub position: i64,
    pub source: EventSource,
    pub seq: i64,
}

/// Where a gateway session's stream can be recomputed from (see the migration's comments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCheckpoint {
    pub session_id: i64,
    pub user_id: i64,
    pub login_session_id: i64,
    pub generation: i64,
    pub stream_id: i64,
    pub position: i64,
    pub seq: i64,
    pub state: String,
    pub updated_at: i64,
}

/// Receives events once their transaction has committed.
pub type EventSink = UnboundedSender<LoggedEvent>;

/// Events written by one transaction, to hand to the sink once it commits.
#[derive(Default)]
pub(crate) struct Appended(Vec<LoggedEvent>);

impl Appended {
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn guild(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        guild_id: i64,
        dispatch: Dispatch,
        target: Option<(i64, Option<Dispatch>)>,
        effect: MembershipEffect,
        required_permissions: u64,
        now: i64,
    ) -> Result<i64> {
        let seq: i64 = sqlx::query(
            "UPDATE guilds SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq",
        )
        .bind(guild_id)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
        let (target_user_id, target_dispatch) = match target {
            Some((user_id, dispatch)) => (Some(user_id), dispatch),
            None => (None, None),
        };
        let event = GuildEvent {
            guild_id,
            seq,
            dispatch,
            target_user_id,
            target_dispatch,
            effect,
            required_permissions,
            created_at: now,
        };
        insert_guild_events(tx, std::slice::from_ref(&event)).await?;
        self.0.push(LoggedEvent::Guild(event));
        Ok(seq)
    }

    /// A guild event seen by every member.
    pub(crate) async fn guild_dispatch(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        guild_id: i64,
        dispatch: Dispatch,
        now: i64,
    ) -> Result<()> {
        self.guild_dispatches(tx, vec![(guild_id, dispatch, now)])
            .await
    }

    /// Guild events seen by every member, as (guild, dispatch, time), logged in this order.
    /// Each guild's counter is bumped once, by the number of its events, so a batch holds
    /// the counter's row (PostgreSQL locks it until COMMIT) no longer than one event does,
    /// and the numbers stay gap-free and unique across nodes.
    pub(crate) async fn guild_dispatches(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        dispatches: Vec<(i64, Dispatch, i64)>,
    ) -> Result<()> {
        if dispatches.is_empty() {
            return Ok(());
        }
        // In guild order, so that transactions bumping several guilds cannot deadlock.
        let mut counts: BTreeMap<i64, i64> = BTreeMap::new();
        for (guild_id, _, _) in &dispatches {
            *counts.entry(*guild_id).or_default() += 1;
        }
        let mut next_seq: HashMap<i64, i64> = HashMap::with_capacity(counts.len());
        for (guild_id, count) in counts {
            let last: i64 = sqlx::query(
                "UPDATE guilds SET event_seq = event_seq + $1 WHERE id = $2 RETURNING event_seq",
            )
            .bind(count)
            .bind(guild_id)
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
            next_seq.insert(guild_id, last - count + 1);
        }
        let mut events = Vec::with_capacity(dispatches.len());
        for (guild_id, dispatch, now) in dispatches {
            let seq = next_seq
                .get_mut(&guild_id)
                .expect("every guild was counted");
            events.push(GuildEvent {
                guild_id,
                seq: *seq,
                dispatch,
                target_user_id: None,
                target_dispatch: None,
                effect: MembershipEffect::None,
                required_permissions: 0,
                created_at: now,
            });
            *seq += 1;
        }
        // Bounded statements: SQLite allows 32,766 parameters.
        for chunk in events.chunks(1000) {
            insert_guild_events(tx, chunk).await?;
        }
        self.0.extend(events.into_iter().map(LoggedEvent::Guild));
        Ok(())
    }

    pub(crate) async fn user(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        user_id: i64,
        kind: UserEventKind,
        now: i64,
    ) -> Result<i64> {
        let seq: i64 = sqlx::query(
            "UPDATE users SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq",
        )
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)?;
        let (event_type, payload, joined_guild_id, joined_guild_seq) = match &kind {
            UserEventKind::Dispatch(d) => (
                Some(d.event_type.as_str()),
                Some(d.payload.as_str()),
                None,
                None,
            ),
            UserEventKind::Joined {
                guild_id,
                guild_seq,
            } => (None, None, Some(*guild_id), Some(*guild_seq)),
        };
        sqlx::query(
            "INSERT INTO user_events (user_id, seq, event_type, payload, joined_guild_id, joined_guild_seq, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user_id)
        .bind(seq)
        .bind(event_type)
        .bind(payload)
        .bind(joined_guild_id)
        .bind(joined_guild_seq)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        self.0.push(LoggedEvent::User(UserEvent {
            user_id,
            seq,
            kind,
            created_at: now,
        }));
        Ok(seq)
    }

    /// A member joining: the guild-side event and the joiner's silent marker.
    pub(crate) async fn join(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        guild_id: i64,
        user_id: i64,
        role: GuildRole,
        join: MemberJoin,
        now: i64,
    ) -> Result<()> {
        let target = Some((user_id, Some(join.for_joiner)));
        let guild_seq = self
            .guild(
                tx,
                guild_id,
                join.for_members,
                target,
                MembershipEffect::Joined(role),
                0,
                now,
            )
            .await?;
        self.user(
            tx,
            user_id,
            UserEventKind::Joined {
                guild_id,
                guild_seq,
            },
            now,
        )
        .await?;
        Ok(())
    }

    pub(crate) async fn removal(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        guild_id: i64,
        user_id: i64,
        removal: MemberRemoval,
        now: i64,
    ) -> Result<()> {
        let target = Some((user_id, Some(removal.for_removed)));
        self.guild(
            tx,
            guild_id,
            removal.for_members,
            target,
            MembershipEffect::Left,
            0,
            now,
        )
        .await?;
        Ok(())
    }

    /// Hands the events to the store's sink; call after the transaction committed.
    pub(crate) fn publish(self, store: &Store) {
        self.publish_to(store.events.as_ref());
    }

    /// Hands the events to `sink`; call after the transaction committed.
    pub(crate) fn publish_to(self, sink: Option<&EventSink>) {
        if let Some(sink) = sink {
            for event in self.0 {
                // A closed sink means the node is shutting down; the log has the event.
                let _ = sink.send(event);
            }
        }
    }
}

/// Logs guild events whose counters are already bumped.
async fn insert_guild_events(
    tx: &mut Transaction<'static, Any>,
    events: &[GuildEvent],
) -> Result<()> {
    let mut sql = format!("INSERT INTO guild_events ({GUILD_EVENT_COLUMNS}) VALUES ");
    push_value_rows(&mut sql, events.len(), 11);
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for event in events {
        let (effect_code, target_role) = effect_columns(event.effect);
        let target = event.target_dispatch.as_ref();
        query = query
            .bind(event.guild_id)
            .bind(event.seq)
            .bind(event.dispatch.event_type.as_str())
            .bind(event.dispatch.payload.as_str())
            .bind(event.target_user_id)
            .bind(target.map(|d| d.event_type.as_str()))
            .bind(target.map(|d| d.payload.as_str()))
            .bind(effect_code)
            .bind(target_role)
            .bind(event.required_permissions as i64)
            .bind(event.created_at);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

fn effect_columns(effect: MembershipEffect) -> (i16, Option<i16>) {
    match effect {
        MembershipEffect::None => (0, None),
        MembershipEffect::Joined(role) => (1, Some(role.as_i16())),
        MembershipEffect::Left => (2, None),
        MembershipEffect::GuildDeleted => (3, None),
        MembershipEffect::RoleChanged(role) => (4, Some(role.as_i16())),
    }
}

fn effect_from_columns(code: i16, role: Option<i16>) -> sqlx::Result<MembershipEffect> {
    let role = || {
        role.and_then(GuildRole::from_i16).ok_or_else(|| {
            sqlx::Error::Decode(format!("event effect {code} without a valid role").into())
        })
    };
    Ok(match code {
        0 => MembershipEffect::None,
        1 => MembershipEffect::Joined(role()?),
        2 => MembershipEffect::Left,
        3 => MembershipEffect::GuildDeleted,
        4 => MembershipEffect::RoleChanged(role()?),
        other => {
            return Err(sqlx::Error::Decode(
                format!("unknown event effect {other}").into(),
            ));
        }
    })
}

const GUILD_EVENT_COLUMNS: &str =
    "guild_id, seq, event_type, payload, target_user_id, target_event_type, target_payload,
    effect, target_role, required_permissions, created_at";
const USER_EVENT_COLUMNS: &str =
    "user_id, seq, event_type, payload, joined_guild_id, joined_guild_seq, created_at";

fn guild_event(row: &AnyRow) -> sqlx::Result<GuildEvent> {
    let target_type: Option<String> = row.try_get("target_event_type")?;
    let target_payload: Option<String> = row.try_get("target_payload")?;
    let required: i64 = row.try_get("required_permissions")?;
    Ok(GuildEvent {
        guild_id: row.try_get("guild_id")?,
        seq: row.try_get("seq")?,
        dispatch: Dispatch {
            event_type: row.try_get("event_type")?,
            payload: row.try_get("payload")?,
        },
        target_user_id: row.try_get("target_user_id")?,
        target_dispatch: target_type
            .zip(target_payload)
            .map(|(event_type, payload)| Dispatch {
                event_type,
                payload,
            }),
        effect: effect_from_columns(row.try_get("effect")?, row.try_get("target_role")?)?,
        required_permissions: required as u64,
        created_at: row.try_get("created_at")?,
    })
}

fn user_event(row: &AnyRow) -> sqlx::Result<UserEvent> {
    let event_type: Option<String> = row.try_get("event_type")?;
    let payload: Option<String> = row.try_get("payload")?;
    let joined: (Option<i64>, Option<i64>) = (
        row.try_get("joined_guild_id")?,
        row.try_get("joined_guild_seq")?,
    );
    let kind = match (event_type, payload, joined) {
        (Some(event_type), Some(payload), _) => UserEventKind::Dispatch(Dispatch {
            event_type,
            payload,
        }),
        (None, None, (Some(guild_id), Some(guild_seq))) => UserEventKind::Joined {
            guild_id,
            guild_seq,
        },
        _ => {
            return Err(sqlx::Error::Decode(
                "a user event is neither a dispatch nor a join marker".into(),
            ));
        }
    };
    Ok(UserEvent {
        user_id: row.try_get("user_id")?,
        seq: row.try_get("seq")?,
        kind,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Sends every event committed from now on to `sink`.
    pub fn with_event_sink(mut self, sink: EventSink) -> Store {
        self.events = Some(sink);
        // A message writer started before has no sink; this store starts its own.
        self.message_writer = Default::default();
        self
    }

    /// Events of `source` with `after < seq <= up_to`, in order. Fewer than asked for means
    /// some were pruned (or never existed).
    pub async fn events(
        &self,
        source: EventSource,
        after: i64,
        up_to: i64,
    ) -> Result<Vec<LoggedEvent>> {
        if up_to <= after {
            return Ok(Vec::new());
        }
        let events = match source {
            EventSource::Guild(guild_id) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {GUILD_EVENT_COLUMNS} FROM guild_events WHERE guild_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq"
            )))
            .bind(guild_id)
            .bind(after)
            .bind(up_to)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|row| guild_event(row).map(LoggedEvent::Guild))
            .collect::<sqlx::Result<Vec<_>>>()?,
            EventSource::User(user_id) => sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {USER_EVENT_COLUMNS} FROM user_events WHERE user_id = $1 AND seq > $2 AND seq <= $3 ORDER BY seq"
            )))
            .bind(user_id)
            .bind(after)
            .bind(up_to)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|row| user_event(row).map(LoggedEvent::User))
            .collect::<sqlx::Result<Vec<_>>>()?,
        };
        Ok(events)
    }

    /// The last sequence number of a log (0 when it has none, or its owner is gone).
    pub async fn last_seq(&self, source: EventSource) -> Result<i64> {
        let row = match source {
            EventSource::Guild(id) => {
                sqlx::query("SELECT event_seq FROM guilds WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.write)
                    .await?
            }
            EventSource::User(id) => {
                sqlx::query("SELECT event_seq FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.write)
                    .await?
            }
        };
        Ok(match row {
            Some(row) => row.try_get(0)?,
            None => 0,
        })
    }

    /// The user's guilds with their role and each guild log's last sequence number.
    pub async fn memberships(&self, user_id: i64) -> Result<Vec<(i64, GuildRole, i64)>> {
        let rows = sqlx::query(
            "SELECT m.guild_id, m.role, g.event_seq FROM guild_members m JOIN guilds g ON g.id = m.guild_id
             WHERE m.user_id = $1 ORDER BY m.guild_id",
        )
        .bind(user_id)
        .fetch_all(&self.write)
        .await?;
        rows.iter()
            .map(|row| {
                let role: i16 = row.try_get(1)?;
                let role = GuildRole::from_i16(role).ok_or_else(|| {
                    sqlx::Error::Decode(format!("unknown guild role {role}").into())
                })?;
                Ok((row.try_get(0)?, role, row.try_get(2)?))
            })
            .collect()
    }

    /// The newest sequence number of each log written to since `since` (unix ms): how a
    /// gateway notices an event the bus lost when no later event reveals the gap.
    pub async fn recent_log_heads(&self, since: i64) -> Result<Vec<(EventSource, i64)>> {
        let mut heads = Vec::new();
        for row in sqlx::query(
            "SELECT guild_id, MAX(seq) FROM guild_events WHERE created_at >= $1 GROUP BY guild_id",
        )
        .bind(since)
        .fetch_all(&self.read)
        .await?
        {
            heads.push((EventSource::Guild(row.try_get(0)?), row.try_get(1)?));
        }
        for row in sqlx::query(
            "SELECT user_id, MAX(seq) FROM user_events WHERE created_at >= $1 GROUP BY user_id",
        )
        .bind(since)
        .fetch_all(&self.read)
        .await?
        {
            heads.push((EventSource::User(row.try_get(0)?), row.try_get(1)?));
        }
        Ok(heads)
    }

    /// Records the order in which a gateway node received events.
    pub async fn append_receipts(
        &self,
        stream_id: i64,
        receipts: &[Receipt],
        now: i64,
    ) -> Result<()> {
        // Bounded statements: SQLite allows 32766 parameters, and small batches keep the
        // single writer free for others.
        for chunk in receipts.chunks(500) {
            let mut sql = String::from(
                "INSERT INTO gateway_receipts (stream_id, position, source_kind, source_id, source_seq, created_at) VALUES ",
            );
            push_value_rows(&mut sql, chunk.len(), 6);
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for receipt in chunk {
                let (kind, id) = source_columns(receipt.source);
                query = query
                    .bind(stream_id)
                    .bind(receipt.position)
                    .bind(kind)
                    .bind(id)
                    .bind(receipt.seq)
                    .bind(now);
            }
            query.execute(&self.write).await?;
        }
        Ok(())
    }

    /// Up to `limit` receipts of a stream after `position`, in order.
    pub async fn receipts(&self, stream_id: i64, after: i64, limit: i64) -> Result<Vec<Receipt>> {
        let rows = sqlx::query(
            "SELECT position, source_kind, source_id, source_seq FROM gateway_receipts
             WHERE stream_id = $1 AND position > $2 ORDER BY position LIMIT $3",
        )
        .bind(stream_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let kind: i16 = row.try_get(1)?;
                let id: i64 = row.try_get(2)?;
                let source = match kind {
                    0 => EventSource::Guild(id),
                    1 => EventSource::User(id),
                    other => {
                        return Err(sqlx::Error::Decode(
                            format!("unknown receipt source kind {other}").into(),
                        )
                        .into());
                    }
                };
                Ok(Receipt {
                    position: row.try_get(0)?,
                    source,
                    seq: row.try_get(3)?,
                })
            })
            .collect()
    }

    /// One event by its log and sequence number.
    pub async fn event(&self, source: EventSource, seq: i64) -> Result<Option<LoggedEvent>> {
        Ok(self.events(source, seq - 1, seq).await?.pop())
    }

    pub async fn session_checkpoint(&self, session_id: i64) -> Result<Option<SessionCheckpoint>> {
        let row = sqlx::query(
            "SELECT id, user_id, login_session_id, generation, stream_id, position, seq, state, updated_at
             FROM gateway_sessions WHERE id = $1",
        )
        .bind(session_id)
        .fetch_optional(&self.write)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(SessionCheckpoint {
            session_id: row.try_get(0)?,
            user_id: row.try_get(1)?,
            login_session_id: row.try_get(2)?,
            generation: row.try_get(3)?,
            stream_id: row.try_get(4)?,
            position: row.try_get(5)?,
            seq: row.try_get(6)?,
            state: row.try_get(7)?,
            updated_at: row.try_get(8)?,
        }))
    }

    /// Stores a checkpoint, unless a newer generation of the session has been stored since;
    /// false then (the session was resumed elsewhere).
    pub async fn save_session_checkpoint(&self, checkpoint: &SessionCheckpoint) -> Result<bool> {
        let result = sqlx::query(
            "INSERT INTO gateway_sessions (id, user_id, login_session_id, generation, stream_id, position, seq, state, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, stream_id = excluded.stream_id,
                position = excluded.position, seq = excluded.seq, state = excluded.state, updated_at = excluded.updated_at
             WHERE gateway_sessions.generation <= excluded.generation",
        )
        .bind(checkpoint.session_id)
        .bind(checkpoint.user_id)
        .bind(checkpoint.login_session_id)
        .bind(checkpoint.generation)
        .bind(checkpoint.stream_id)
        .bind(checkpoint.position)
        .bind(checkpoint.seq)
        .bind(&checkpoint.state)
        .bind(checkpoint.updated_at)
        .execute(&self.write)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Deletes events, receipts and session checkpoints older than `before` (unix ms).
    pub async fn prune_events(&self, before: i64) -> Result<()> {
        for statement in [
            "DELETE FROM guild_events WHERE created_at < $1",
            "DELETE FROM user_events WHERE created_at < $1",
            "DELETE FROM gateway_receipts WHERE created_at < $1",
            "DELETE FROM gateway_sessions WHERE updated_at < $1",
        ] {
            sqlx::query(statement)
                .bind(before)
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }
}

fn source_columns(source: EventSource) -> (i16, i64) {
    match source {
        EventSource::Guild(id) => (0, id),
        EventSource::User(id) => (1, id),
    }
}
