//! Messages and their history.

use sqlx::FromRow;
use tokio::sync::oneshot;

use crate::events::Appended;
use crate::message_writer::{self, PendingMessage, Post};
use crate::{Backend, Dispatch, Result, Store};

#[derive(Debug, Clone, FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub channel_id: i64,
    pub guild_id: i64,
    pub author_id: i64,
    pub author_username: String,
    pub author_display_name: Option<String>,
    pub content: String,
    pub nonce: Option<String>,
    pub reply_to: Option<i64>,
    pub edited_at: Option<i64>,
}

pub struct NewMessage<'a> {
    pub id: i64,
    pub channel_id: i64,
    pub guild_id: i64,
    pub author_id: i64,
    pub content: &'a str,
    pub nonce: Option<&'a str>,
    pub reply_to: Option<i64>,
}

/// Which slice of a channel's history to read.
#[derive(Debug, Clone, Copy)]
pub enum MessagesPage {
    Latest,
    Before(i64),
    After(i64),
    /// Half the page before the id, the message itself, and the rest after it.
    Around(i64),
}

pub(crate) const MESSAGE_SELECT: &str =
    "SELECT m.id, m.channel_id, m.guild_id, m.author_id, u.username AS author_username,
    u.display_name AS author_display_name, m.content, m.nonce, m.reply_to, m.edited_at
    FROM messages m JOIN users u ON u.id = m.author_id";

impl Store {
    /// Stores a message and marks it read for its author. With a nonce already used by this
    /// author in this channel, stores nothing and returns the first message instead; the flag
    /// says whether the message is new. Only a new message is announced, with `created`.
    ///
    /// Messages are committed in batches by the store's message writer (see
    /// `message_writer`); this returns once the message's batch has committed.
    pub async fn create_message(
        &self,
        message: NewMessage<'_>,
        now: i64,
        created: fn(&MessageRow) -> Dispatch,
    ) -> Result<(MessageRow, bool)> {
        let (reply, posted) = oneshot::channel();
        let post = Post {
            message: PendingMessage {
                id: message.id,
                channel_id: message.channel_id,
                guild_id: message.guild_id,
                author_id: message.author_id,
                content: message.content.to_owned(),
                nonce: message.nonce.map(str::to_owned),
                reply_to: message.reply_to,
                now,
                created,
            },
            reply,
        };
        let writer = self.message_writer.get_or_init(|| {
            let lanes = match self.backend {
                Backend::Sqlite => 1,
                Backend::Postgres => 4,
            };
            message_writer::start(self.write.clone(), self.events.clone(), lanes)
        });
        // The writer only stops when its runtime does.
        writer
            .send(post)
            .await
            .map_err(|_| sqlx::Error::WorkerCrashed)?;
        posted.await.map_err(|_| sqlx::Error::WorkerCrashed)?
    }

    pub async fn message(&self, channel_id: i64, id: i64) -> Result<Option<MessageRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{MESSAGE_SELECT} WHERE m.id = $1 AND m.channel_id = $2"
        )))
        .bind(id)
        .bind(channel_id)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Up to `limit` messages of a channel, newest first.
    pub async fn messages(
        &self,
        channel_id: i64,
        page: MessagesPage,
        limit: i64,
    ) -> Result<Vec<MessageRow>> {
        let older = |before: i64, limit: i64| {
            sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(format!(
                "{MESSAGE_SELECT} WHERE m.channel_id = $1 AND m.id < $2 ORDER BY m.id DESC LIMIT $3"
            )))
            .bind(channel_id)
            .bind(before)
            .bind(limit)
            .fetch_all(&self.read)
        };
        let newer = |after: i64, limit: i64| {
            sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(format!(
                "{MESSAGE_SELECT} WHERE m.channel_id = $1 AND m.id > $2 ORDER BY m.id ASC LIMIT $3"
            )))
            .bind(channel_id)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.read)
        };
        Ok(match page {
            MessagesPage::Latest => older(i64::MAX, limit).await?,
            MessagesPage::Before(id) => older(id, limit).await?,
            MessagesPage::After(id) => {
                let mut rows = newer(id, limit).await?;
                rows.reverse();
                rows
            }
            MessagesPage::Around(id) => {
                // The message itself counts toward the newer half, so `around` includes it.
                let newer_count = limit - limit / 2;
                let mut rows = newer(id - 1, newer_count).await?;
                rows.reverse();
                rows.extend(older(id, limit / 2).await?);
                rows
            }
        })
    }

    pub async fn edit_message(
        &self,
        id: i64,
        content: &str,
        now: i64,
        updated: impl FnOnce(&MessageRow) -> Dispatch,
    ) -> Result<Option<MessageRow>> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE messages SET content = $1, edited_at = $2 WHERE id = $3")
            .bind(content)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let row: Option<MessageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{MESSAGE_SELECT} WHERE m.id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut events = Appended::default();
        if let Some(message) = &row {
            events
                .guild_dispatch(&mut tx, message.guild_id, updated(message), now)
                .await?;
        }
        tx.commit().await?;
        events.publish(self);
        Ok(row)
    }

    pub async fn delete_message(
        &self,
        message: &MessageRow,
        now: i64,
        deleted: Dispatch,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let removed = sqlx::query("DELETE FROM messages WHERE id = $1")
            .bind(message.id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        let mut events = Appended::default();
        if removed {
            events
                .guild_dispatch(&mut tx, message.guild_id, deleted, now)
                .await?;
        }
        tx.commit().await?;
        events.publish(self);
        Ok(())
    }
}
