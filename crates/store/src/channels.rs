//! Channels: text, voice, and the categories that group them.

use sqlx::{FromRow, Row};

use madang_domain::GuildRole;

use crate::events::Appended;
use crate::{Dispatch, MemberRow, Result, Store};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    Text = 0,
    Voice = 1,
    Category = 2,
}

impl ChannelKind {
    pub fn from_i16(value: i16) -> Option<ChannelKind> {
        match value {
            0 => Some(ChannelKind::Text),
            1 => Some(ChannelKind::Voice),
            2 => Some(ChannelKind::Category),
            _ => None,
        }
    }

    pub fn as_i16(self) -> i16 {
        self as i16
    }
}

#[derive(Debug, Clone)]
pub struct ChannelRow {
    pub id: i64,
    pub guild_id: i64,
    pub kind: ChannelKind,
    pub name: String,
    pub topic: Option<String>,
    pub parent_id: Option<i64>,
    pub position: i32,
    /// Voice channels: people admitted; `None`: the server-wide limit.
    pub user_limit: Option<i32>,
    pub created_at: i64,
}

impl<'r> FromRow<'r, sqlx::any::AnyRow> for ChannelRow {
    fn from_row(row: &'r sqlx::any::AnyRow) -> sqlx::Result<Self> {
        let kind: i16 = row.try_get("kind")?;
        Ok(ChannelRow {
            id: row.try_get("id")?,
            guild_id: row.try_get("guild_id")?,
            kind: ChannelKind::from_i16(kind).ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown channel kind {kind}").into())
            })?,
            name: row.try_get("name")?,
            topic: row.try_get("topic")?,
            parent_id: row.try_get("parent_id")?,
            position: row.try_get("position")?,
            user_limit: row.try_get("user_limit")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// Fields to change on a channel; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct ChannelUpdate<'a> {
    pub name: Option<&'a str>,
    pub topic: Option<Option<&'a str>>,
    pub parent_id: Option<Option<i64>>,
    pub position: Option<i32>,
    pub user_limit: Option<Option<i32>>,
}

/// Where a channel goes in a reorder.
#[derive(Debug, Clone, Copy)]
pub struct ChannelPlacement {
    pub id: i64,
    pub position: i32,
    pub parent_id: Option<i64>,
}

pub(crate) const CHANNEL_SELECT: &str = "SELECT id, guild_id, kind, name, topic, parent_id, position, user_limit, created_at FROM channels";

impl Store {
    pub async fn create_channel(
        &self,
        channel: &ChannelRow,
        now: i64,
        created: Dispatch,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        insert_channel(&mut tx, channel).await?;
        let mut events = Appended::default();
        events
            .guild_dispatch(&mut tx, channel.guild_id, created, now)
            .await?;
        tx.commit().await?;
        events.publish(self);
        Ok(())
    }

    pub async fn channel(&self, id: i64) -> Result<Option<ChannelRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CHANNEL_SELECT} WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.read)
        .await?)
    }

    /// A channel and `user_id`'s membership in its guild (`None`: not a member), in one
    /// query: the question behind every channel route.
    pub async fn channel_for_member(
        &self,
        channel_id: i64,
        user_id: i64,
    ) -> Result<Option<(ChannelRow, Option<MemberRow>)>> {
        let row = sqlx::query(
            "SELECT c.id, c.guild_id, c.kind, c.name, c.topic, c.parent_id, c.position, c.user_limit, c.created_at,
                m.user_id AS member_user_id, u.username, u.display_name, m.role, m.joined_at
             FROM channels c
             LEFT JOIN guild_members m ON m.guild_id = c.guild_id AND m.user_id = $2
             LEFT JOIN users u ON u.id = m.user_id
             WHERE c.id = $1",
        )
        .bind(channel_id)
        .bind(user_id)
        .fetch_optional(&self.read)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let channel = ChannelRow::from_row(&row)?;
        let member_user_id: Option<i64> = row.try_get("member_user_id")?;
        let member = match member_user_id {
            Some(user_id) => {
                let role: i16 = row.try_get("role")?;
                Some(MemberRow {
                    guild_id: channel.guild_id,
                    user_id,
                    username: row.try_get("username")?,
                    display_name: row.try_get("display_name")?,
                    role: GuildRole::from_i16(role).ok_or_else(|| {
                        sqlx::Error::Decode(format!("unknown guild role {role}").into())
                    })?,
                    joined_at: row.try_get("joined_at")?,
                })
            }
            None => None,
        };
        Ok(Some((channel, member)))
    }

    /// A guild's channels in display order: by position, then by age.
    pub async fn channels_of_guild(&self, guild_id: i64) -> Result<Vec<ChannelRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CHANNEL_SELECT} WHERE guild_id = $1 ORDER BY position, id"
        )))
        .bind(guild_id)
        .fetch_all(&self.read)
        .await?)
    }

    /// The next free position at the end of a guild's channel list.
    pub async fn next_channel_position(&self, guild_id: i64) -> Result<i32> {
        let row =
            sqlx::query("SELECT COALESCE(MAX(position) + 1, 0) FROM channels WHERE guild_id = $1")
                .bind(guild_id)
                .fetch_one(&self.read)
                .await?;
        let next: i64 = row.try_get(0)?;
        Ok(next as i32)
    }

    pub async fn update_channel(
        &self,
        id: i64,
        update: &ChannelUpdate<'_>,
        now: i64,
        updated: impl FnOnce(&ChannelRow) -> Dispatch,
    ) -> Result<Option<ChannelRow>> {
        let mut tx = self.begin().await?;
        let row: Option<ChannelRow> = sqlx::query_as(
            "UPDATE channels SET
                name = COALESCE($1, name),
                topic = CASE WHEN $2 = 1 THEN $3 ELSE topic END,
                parent_id = CASE WHEN $4 = 1 THEN $5 ELSE parent_id END,
                position = COALESCE($6, position),
                user_limit = CASE WHEN $7 = 1 THEN $8 ELSE user_limit END
             WHERE id = $9
             RETURNING id, guild_id, kind, name, topic, parent_id, position, user_limit, created_at",
        )
        .bind(update.name)
        .bind(i16::from(update.topic.is_some()))
        .bind(update.topic.flatten())
        .bind(i16::from(update.parent_id.is_some()))
        .bind(update.parent_id.flatten())
        .bind(update.position)
        .bind(i16::from(update.user_limit.is_some()))
        .bind(update.user_limit.flatten())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut events = Appended::default();
        if let Some(channel) = &row {
            events
                .guild_dispatch(&mut tx, channel.guild_id, updated(channel), now)
                .await?;
        }
        tx.commit().await?;
        events.publish(self);
        Ok(row)
    }

    /// Applies a reorder atomically; every id must belong to `guild_id` (checked by the caller).
    pub async fn place_channels(
        &self,
        guild_id: i64,
        placements: &[ChannelPlacement],
        now: i64,
        updated: impl Fn(&ChannelRow) -> Dispatch,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let mut events = Appended::default();
        for placement in placements {
            sqlx::query(
                "UPDATE channels SET position = $1, parent_id = $2 WHERE id = $3 AND guild_id = $4",
            )
            .bind(placement.position)
            .bind(placement.parent_id)
            .bind(placement.id)
            .bind(guild_id)
            .execute(&mut *tx)
            .await?;
        }
        for placement in placements {
            let channel: ChannelRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{CHANNEL_SELECT} WHERE id = $1"
            )))
            .bind(placement.id)
            .fetch_one(&mut *tx)
            .await?;
            events
                .guild_dispatch(&mut tx, guild_id, updated(&channel), now)
                .await?;
        }
        tx.commit().await?;
        events.publish(self);
        Ok(())
    }

    /// Deletes a channel with its messages; a deleted category's channels become
    /// uncategorised, each announced with `reparented`.
    pub async fn delete_channel(
        &self,
        channel: &ChannelRow,
        now: i64,
        deleted: Dispatch,
        reparented: impl Fn(&ChannelRow) -> Dispatch,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let children: Vec<ChannelRow> = sqlx::query_as(
            "UPDATE channels SET parent_id = NULL WHERE parent_id = $1
             RETURNING id, guild_id, kind, name, topic, parent_id, position, user_limit, created_at",
        )
        .bind(channel.id)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM channels WHERE id = $1")
            .bind(channel.id)
            .execute(&mut *tx)
            .await?;
        let mut events = Appended::default();
        for child in &children {
            events
                .guild_dispatch(&mut tx, channel.guild_id, reparented(child), now)
                .await?;
        }
        events
            .guild_dispatch(&mut tx, channel.guild_id, deleted, now)
            .await?;
        tx.commit().await?;
        events.publish(self);
        Ok(())
    }
}

pub(crate) async fn insert_channel(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    channel: &ChannelRow,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO channels (id, guild_id, kind, name, topic, parent_id, position, user_limit, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(channel.id)
    .bind(channel.guild_id)
    .bind(channel.kind.as_i16())
    .bind(&channel.name)
    .bind(&channel.topic)
    .bind(channel.parent_id)
    .bind(channel.position)
    .bind(channel.user_limit)
    .bind(channel.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
