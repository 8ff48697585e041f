//! How far each member has read each channel, and how much is left unread.

use sqlx::Row;

use crate::events::{Appended, UserEventKind};
use crate::{ChannelKind, Dispatch, Result, Store, UNREAD_COUNT_CAP, push_value_rows};
use madang_domain::Id;

const UNREAD_COUNT: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE channel_id = $1 AND id > $2 LIMIT $3) unread";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadStateRow {
    pub channel_id: i64,
    pub last_read_message_id: i64,
    /// Messages after the last read one, up to [`UNREAD_COUNT_CAP`].
    pub unread_count: i64,
}

impl Store {
    /// Moves the user's read marker in the channel forward to `message_id` (never back);
    /// the user's other sessions hear of it through `updated`.
    pub async fn ack(
        &self,
        user_id: i64,
        channel_id: i64,
        message_id: i64,
        now: i64,
        updated: impl FnOnce(&ReadStateRow) -> Dispatch,
    ) -> Result<ReadStateRow> {
        let mut tx = self.begin().await?;
        advance_read_states(&mut tx, &[(user_id, channel_id, message_id)]).await?;
        let last_read: i64 = sqlx::query(
            "SELECT last_read_message_id FROM read_states WHERE user_id = $1 AND channel_id = $2",
        )
        .bind(user_id)
        .bind(channel_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let unread_count: i64 = sqlx::query(UNREAD_COUNT)
            .bind(channel_id)
            .bind(last_read)
            .bind(UNREAD_COUNT_CAP)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let state = ReadStateRow {
            channel_id,
            last_read_message_id: last_read,
            unread_count,
        };
        let mut events = Appended::default();
        events
            .user(
                &mut tx,
                user_id,
                UserEventKind::Dispatch(updated(&state)),
                now,
            )
            .await?;
        tx.commit().await?;
        events.publish(self);
        Ok(state)
    }

    /// The user's read state in every text channel of every guild they are in.
    pub async fn read_states_of_user(&self, user_id: i64) -> Result<Vec<ReadStateRow>> {
        let rows = sqlx::query(
            "SELECT c.id, r.last_read_message_id, m.joined_at
             FROM guild_members m
             JOIN channels c ON c.guild_id = m.guild_id
             LEFT JOIN read_states r ON r.channel_id = c.id AND r.user_id = m.user_id
             WHERE m.user_id = $1 AND c.kind = $2
             ORDER BY c.id",
        )
        .bind(user_id)
        .bind(ChannelKind::Text.as_i16())
        .fetch_all(&self.read)
        .await?;
        let mut states = Vec::with_capacity(rows.len());
        for row in rows {
            let channel_id: i64 = row.try_get(0)?;
            let last_read: Option<i64> = row.try_get(1)?;
            let joined_at: i64 = row.try_get(2)?;
            // Without a marker, everything sent before the member joined counts as read.
            let last_read = last_read.unwrap_or_else(|| Id::first_at(joined_at).0 - 1);
            states.push(self.read_state(channel_id, last_read).await?);
        }
        Ok(states)
    }

    async fn read_state(&self, channel_id: i64, last_read_message_id: i64) -> Result<ReadStateRow> {
        let unread_count: i64 = sqlx::query(UNREAD_COUNT)
            .bind(channel_id)
            .bind(last_read_message_id)
            .bind(UNREAD_COUNT_CAP)
            .fetch_one(&self.read)
            .await?
            .try_get(0)?;
        Ok(ReadStateRow {
            channel_id,
            last_read_message_id,
            unread_count,
        })
    }
}

/// Moves read markers, given as (user, channel, message), forward (never back). Each
/// (user, channel) pair may appear once: PostgreSQL refuses to update a row twice in one
/// statement.
pub(crate) async fn advance_read_states(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    markers: &[(i64, i64, i64)],
) -> Result<()> {
    if markers.is_empty() {
        return Ok(());
    }
    let mut sql =
        String::from("INSERT INTO read_states (user_id, channel_id, last_read_message_id) VALUES ");
    push_value_rows(&mut sql, markers.len(), 3);
    sql.push_str(
        " ON CONFLICT (user_id, channel_id) DO UPDATE SET last_read_message_id =
            CASE WHEN excluded.last_read_message_id > read_states.last_read_message_id
                 THEN excluded.last_read_message_id ELSE read_states.last_read_message_id END",
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (user_id, channel_id, message_id) in markers {
        query = query.bind(*user_id).bind(*channel_id).bind(*message_id);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}
