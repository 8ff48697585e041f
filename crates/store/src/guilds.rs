//! Guilds (communities) and ownership.

use madang_domain::GuildRole;
use sqlx::{FromRow, Row};

use crate::channels::{CHANNEL_SELECT, insert_channel};
use crate::events::{Appended, MembershipEffect};
use crate::members::select_member;
use crate::{ChannelRow, Dispatch, MemberJoin, MemberRow, Result, Store};

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
    /// Creates a guild owned by `owner_id`, with the given starting channels; the owner's
    /// joining is the guild's first event.
    pub async fn create_guild(
        &self,
        id: i64,
        name: &str,
        owner_id: i64,
        channels: &[ChannelRow],
        now: i64,
        joined: impl FnOnce(&GuildRow, &[ChannelRow], &MemberRow) -> MemberJoin,
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
        let guild = GuildRow {
            id,
            name: name.to_owned(),
            owner_id,
            created_at: now,
            member_count: 1,
        };
        let owner = select_member(&mut tx, id, owner_id).await?;
        let mut events = Appended::default();
        events
            .join(
                &mut tx,
                id,
                owner_id,
                GuildRole::Owner,
                joined(&guild, channels, &owner),
                now,
            )
            .await?;
        tx.commit().await?;
        events.publish(self);
        Ok(guild)
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

    pub async fn rename_guild(
        &self,
        id: i64,
        name: &str,
        now: i64,
        updated: impl FnOnce(&GuildRow) -> Dispatch,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE guilds SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let guild = select_guild(&mut tx, id).await?;
        let mut events = Appended::default();
        events
            .guild_dispatch(&mut tx, id, updated(&guild), now)
            .await?;
        tx.commit().await?;
        events.publish(self);
        Ok(())
    }

    /// Makes `new_owner` (already a member) the owner; the previous owner stays as an admin.
    pub async fn transfer_ownership(
        &self,
        guild_id: i64,
        new_owner: i64,
        now: i64,
        member_updated: impl Fn(&MemberRow) -> Dispatch,
        guild_updated: impl FnOnce(&GuildRow) -> Dispatch,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let previous_owner: i64 = sqlx::query("SELECT owner_id FROM guilds WHERE id = $1")
            .bind(guild_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
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
        let mut events = Appended::default();
        for (user_id, role) in [
            (previous_owner, GuildRole::Admin),
            (new_owner, GuildRole::Owner),
        ] {
            let member = select_member(&mut tx, guild_id, user_id).await?;
            let dispatch = member_updated(&member);
            events
                .guild(
                    &mut tx,
                    guild_id,
                    dispatch,
                    Some((user_id, None)),
                    MembershipEffect::RoleChanged(role),
                    0,
                    now,
                )
                .await?;
        }
        let guild = select_guild(&mut tx, guild_id).await?;
        events
            .guild_dispatch(&mut tx, guild_id, guild_updated(&guild), now)
            .await?;
        tx.commit().await?;
        events.publish(self);
        Ok(())
    }

    /// Deletes the guild with its channels, messages, members, bans and invites. Its last
    /// event, `deleted`, outlives it in the log.
    pub async fn delete_guild(&self, id: i64, now: i64, deleted: Dispatch) -> Result<()> {
        let mut tx = self.begin().await?;
        let mut events = Appended::default();
        events
            .guild(
                &mut tx,
                id,
                deleted,
                None,
                MembershipEffect::GuildDeleted,
                0,
                now,
            )
            .await?;
        sqlx::query("DELETE FROM guilds WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        events.publish(self);
        Ok(())
    }
}

pub(crate) async fn select_guild(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: i64,
) -> Result<GuildRow> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{GUILD_SELECT} WHERE g.id = $1"
    )))
    .bind(id)
    .fetch_one(&mut **tx)
    .await?)
}

/// The guild with its channels, as a member who joins it receives it.
pub(crate) async fn guild_with_channels(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: i64,
) -> Result<(GuildRow, Vec<ChannelRow>)> {
    let guild = select_guild(tx, id).await?;
    let channels = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{CHANNEL_SELECT} WHERE guild_id = $1 ORDER BY position, id"
    )))
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    Ok((guild, channels))
}
