//! Group commit for new messages. Posting is the hottest write, and every post appends to its
//! guild's event log, whose sequence counter is one row: posts to one guild serialise on it
//! (PostgreSQL holds the row lock until COMMIT; SQLite has one writer anyway). So the store's
//! message writer takes every post that is waiting and commits them together: a few
//! multi-row statements, one bump of each guild's counter by the number of its posts
//! (sequence numbers are handed out in the order the posts arrived), one COMMIT and one WAL
//! flush.
//!
//! A post is answered only after its batch committed, so an acknowledged message is as
//! durable as before, and events reach the event sink in sequence order. When a
//! batch fails, each of its posts is retried in a transaction of its own, so one bad post (its
//! channel deleted meanwhile, say) fails alone, with its own error; a database that is gone
//! fails every post.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::Arc;

use sqlx::{AnyPool, Row};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::events::{Appended, EventSink};
use crate::messages::{MESSAGE_SELECT, MessageRow};
use crate::read_states::advance_read_states;
use crate::{Dispatch, Result, push_value_rows};

/// The most posts one transaction carries. It bounds the statements' parameters (7 per post
/// for the message, 11 per event; SQLite allows 32,766) and how long the writer is held.
const MAX_BATCH: usize = 256;

/// Posts that may wait for the writer before senders wait to hand theirs over.
const QUEUE_CAPACITY: usize = 4096;

/// A message to store, as the writer task receives it.
pub(crate) struct PendingMessage {
    pub id: i64,
    pub channel_id: i64,
    pub guild_id: i64,
    pub author_id: i64,
    pub content: String,
    pub nonce: Option<String>,
    pub reply_to: Option<i64>,
    pub now: i64,
    /// Makes the announcement of the stored row; a plain function, so a retried post can
    /// make it again.
    pub created: fn(&MessageRow) -> Dispatch,
}

/// The stored row, and whether it is new (false: the nonce had been used).
pub(crate) type Posted = Result<(MessageRow, bool)>;

pub(crate) struct Post {
    pub message: PendingMessage,
    pub reply: oneshot::Sender<Posted>,
}

/// Starts the writer for `pool` with `lanes` batches in flight at once; it stops when every
/// sender is dropped. On PostgreSQL a second lane prepares its batch (inserts, read markers)
/// while the first waits for its COMMIT's WAL flush, then takes its turn at the sequence
/// numbers; across nodes, the guild's row lock keeps them gap-free. SQLite has one write
/// connection, so one lane.
pub(crate) fn start(pool: AnyPool, events: Option<EventSink>, lanes: usize) -> mpsc::Sender<Post> {
    let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
    let writer = Arc::new(Writer {
        pool,
        events,
        posts: Mutex::new(receiver),
        sequencing: Mutex::new(()),
    });
    for _ in 0..lanes {
        tokio::spawn(writer.clone().run());
    }
    sender
}

struct Writer {
    pool: AnyPool,
    events: Option<EventSink>,
    /// Held by the lane waiting for posts; the others are committing theirs.
    posts: Mutex<mpsc::Receiver<Post>>,
    /// Held from taking sequence numbers to publishing the events, which is when the
    /// database holds the guild's row anyway: this node's events reach the sink in order.
    sequencing: Mutex<()>,
}

impl Writer {
    async fn run(self: Arc<Writer>) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while self
            .posts
            .lock()
            .await
            .recv_many(&mut batch, MAX_BATCH)
            .await
            > 0
        {
            self.commit_batch(&mut batch).await;
        }
    }

    /// Commits the posts and answers each.
    async fn commit_batch(&self, batch: &mut Vec<Post>) {
        let messages: Vec<&PendingMessage> = batch.iter().map(|post| &post.message).collect();
        match self.commit(&messages).await {
            Ok(rows) => {
                for (post, row) in batch.drain(..).zip(rows) {
                    // The poster may have given up (its request was dropped); the message
                    // is stored all the same.
                    let _ = post.reply.send(Ok(row));
                }
            }
            Err(error) if batch.len() == 1 => {
                if let Some(post) = batch.pop() {
                    let _ = post.reply.send(Err(error));
                }
            }
            Err(error) => {
                tracing::debug!(%error, posts = batch.len(), "a message batch failed; retrying each post alone");
                for post in batch.drain(..) {
                    let outcome = self
                        .commit(&[&post.message])
                        .await
                        .map(|mut rows| rows.remove(0));
                    let _ = post.reply.send(outcome);
                }
            }
        }
    }

    /// Stores `messages` in one transaction and publishes their events; returns each one's
    /// row and whether it is new, in order.
    async fn commit(&self, messages: &[&PendingMessage]) -> Result<Vec<(MessageRow, bool)>> {
        let mut tx = self.pool.begin().await?;

        let mut sql = String::from(
            "INSERT INTO messages (id, channel_id, guild_id, author_id, content, nonce, reply_to) VALUES ",
        );
        push_value_rows(&mut sql, messages.len(), 7);
        sql.push_str(
            " ON CONFLICT (channel_id, author_id, nonce) WHERE nonce IS NOT NULL DO NOTHING RETURNING id",
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for message in messages {
            insert = insert
                .bind(message.id)
                .bind(message.channel_id)
                .bind(message.guild_id)
                .bind(message.author_id)
                .bind(message.content.as_str())
                .bind(message.nonce.as_deref())
                .bind(message.reply_to);
        }
        let inserted = insert
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<sqlx::Result<HashSet<i64>>>()?;

        let mut rows_by_id: HashMap<i64, MessageRow> = HashMap::with_capacity(inserted.len());
        if !inserted.is_empty() {
            // Each author has read what they wrote.
            let mut read_up_to: BTreeMap<(i64, i64), i64> = BTreeMap::new();
            for message in messages.iter().filter(|m| inserted.contains(&m.id)) {
                let last = read_up_to
                    .entry((message.author_id, message.channel_id))
                    .or_default();
                *last = (*last).max(message.id);
            }
            let markers: Vec<(i64, i64, i64)> = read_up_to
                .into_iter()
                .map(|((user_id, channel_id), message_id)| (user_id, channel_id, message_id))
                .collect();
            advance_read_states(&mut tx, &markers).await?;

            let mut sql = format!("{MESSAGE_SELECT} WHERE m.id IN (");
            for i in 1..=inserted.len() {
                let separator = if i > 1 { "," } else { "" };
                let _ = write!(sql, "{separator}${i}");
            }
            sql.push(')');
            let mut select = sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(sql));
            for id in &inserted {
                select = select.bind(*id);
            }
            for row in select.fetch_all(&mut *tx).await? {
                rows_by_id.insert(row.id, row);
            }
        }

        let mut results = Vec::with_capacity(messages.len());
        let mut announcements = Vec::with_capacity(inserted.len());
        for message in messages {
            if let Some(row) = rows_by_id.remove(&message.id) {
                announcements.push((message.guild_id, (message.created)(&row), message.now));
                results.push((row, true));
            } else {
                // The nonce was used before, or earlier in this batch: the first message stands.
                let row = sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(format!(
                    "{MESSAGE_SELECT} WHERE m.channel_id = $1 AND m.author_id = $2 AND m.nonce = $3"
                )))
                .bind(message.channel_id)
                .bind(message.author_id)
                .bind(message.nonce.as_deref())
                .fetch_one(&mut *tx)
                .await?;
                results.push((row, false));
            }
        }

        let mut appended = Appended::default();
        let _turn = self.sequencing.lock().await;
        appended.guild_dispatches(&mut tx, announcements).await?;
        tx.commit().await?;
        appended.publish_to(self.events.as_ref());
        Ok(results)
    }
}
