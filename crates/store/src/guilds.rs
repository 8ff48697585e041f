//! Guilds (communities) and ownership.

use madang_domain::GuildRole;
use sqlx::FromRow;

use crate::channels::insert_channel;
use crate::{ChannelRow, Result, Store};

#[derive(Debug, Clone, FromRow)]
pub struct GuildRow {
    pub id: i64,
    pub name: String,
    pub owner_id: i64,
    pub created_at: i64,
    pub member_count: i64,
}

const GUILD_SELECT: &str = "SELECT g.id, g.name, g.owner_id, g.created_at,
    (SELECT COUNT(*) FROM guild_members c WHERE c.guild_id = g.id) AS member_count
    FROM guilds g";

impl Store {
    /// Creates a guild owned by `owner_id`, with the given starting channels.
    pub async fn create_guild(
        &self,
        id: i64,
        name: &str,
        owner_id: i64,
        channels: &[ChannelRow],
        now: i64,
    ) -> Result<GuildRow> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO guilds (id, name, owner_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(name)
            .bind(owner_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO guild_members (guild_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(owner_id)
            .bind(GuildRole::Owner.as_i16())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        for channel in channels {
            debug_assert_eq!(channel.guild_id, id);
            insert_channel(&mut tx, channel).await?;
        }
        tx.commit().await?;
        Ok(GuildRow {
            id,
            name: name.to_owned(),
            owner_id,
            created_at: now,
            member_count: 1,
        })
    }

    pub async fn guild(&self, id: i64) -> Result<Option<GuildRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{GUILD_SELECT} WHERE g.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.read)
        .await?)
    }

    /// The guilds `user_id` is a member of, oldest first.
    pub async fn guilds_of_user(&self, user_id: i64) -> Result<Vec<GuildRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{GUILD_SELECT} JOIN guild_members m ON m.guild_id = g.id WHERE m.user_id = $1 ORDER BY g.id"
        )))
        .bind(user_id)
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn rename_guild(&self, id: i64, name: &str) -> Result<()> {
        sqlx::query("UPDATE guilds SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Makes `new_owner` (already a member) the owner; the previous owner stays as an admin.
    pub async fn transfer_ownership(&self, guild_id: i64, new_owner: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE guild_members SET role = $1 WHERE guild_id = $2 AND role = $3")
            .bind(GuildRole::Admin.as_i16())
            .bind(guild_id)
            .bind(GuildRole::Owner.as_i16())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE guild_members SET role = $1 WHERE guild_id = $2 AND user_id = $3")
            .bind(GuildRole::Owner.as_i16())
            .bind(guild_id)
            .bind(new_owner)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE guilds SET owner_id = $1 WHERE id = $2")
            .bind(new_owner)
            .bind(guild_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the guild with its channels, messages, members, bans and invites.
    pub async fn delete_guild(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM guilds WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
