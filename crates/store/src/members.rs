//! Guild membership, roles and bans.

use madang_domain::GuildRole;
use sqlx::{FromRow, Row};

use crate::events::{Appended, MembershipEffect};
use crate::{Dispatch, MemberRemoval, Result, Store};

#[derive(Debug, Clone)]
pub struct MemberRow {
    pub guild_id: i64,
    pub user_id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub role: GuildRole,
    pub joined_at: i64,
}

impl<'r> FromRow<'r, sqlx::any::AnyRow> for MemberRow {
    fn from_row(row: &'r sqlx::any::AnyRow) -> sqlx::Result<Self> {
        let role: i16 = row.try_get("role")?;
        Ok(MemberRow {
            guild_id: row.try_get("guild_id")?,
            user_id: row.try_get("user_id")?,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            role: GuildRole::from_i16(role)
                .ok_or_else(|| sqlx::Error::Decode(format!("unknown guild role {role}").into()))?,
            joined_at: row.try_get("joined_at")?,
        })
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct BanRow {
    pub guild_id: i64,
    pub user_id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub reason: Option<String>,
    pub banned_by: i64,
    pub created_at: i64,
}

const MEMBER_SELECT: &str =
    "SELECT m.guild_id, m.user_id, u.username, u.display_name, m.role, m.joined_at
    FROM guild_members m JOIN users u ON u.id = m.user_id";
const BAN_SELECT: &str =
    "SELECT b.guild_id, b.user_id, u.username, u.display_name, b.reason, b.banned_by, b.created_at
    FROM guild_bans b JOIN users u ON u.id = b.user_id";

impl Store {
    /// The membership of `user_id` in `guild_id`: the question behind every authorisation.
    pub async fn member(&self, guild_id: i64, user_id: i64) -> Result<Option<MemberRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{MEMBER_SELECT} WHERE m.guild_id = $1 AND m.user_id = $2"
        )))
        .bind(guild_id)
        .bind(user_id)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Members in user-id order after `after`.
    pub async fn members(&self, guild_id: i64, after: i64, limit: i64) -> Result<Vec<MemberRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{MEMBER_SELECT} WHERE m.guild_id = $1 AND m.user_id > $2 ORDER BY m.user_id LIMIT $3"
        )))
        .bind(guild_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn set_member_role(
        &self,
        guild_id: i64,
        user_id: i64,
        role: GuildRole,
        now: i64,
        updated: impl FnOnce(&MemberRow) -> Dispatch,
    ) -> Result<MemberRow> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE guild_members SET role = $1 WHERE guild_id = $2 AND user_id = $3")
            .bind(role.as_i16())
            .bind(guild_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let member = select_member(&mut tx, guild_id, user_id).await?;
        let mut events = Appended::default();
        let effect = MembershipEffect::RoleChanged(role);
        events
            .guild(
                &mut tx,
                guild_id,
                updated(&member),
                Some((user_id, None)),
                effect,
                0,
                now,
            )
            .await?;
        tx.commit().await?;
        events.publish(self);
        Ok(member)
    }

    /// Removes a member (leave or kick) with their read states in the guild; false when they
    /// were not a member.
    pub async fn remove_member(
        &self,
        guild_id: i64,
        user_id: i64,
        now: i64,
        removed: impl FnOnce(&MemberRow) -> MemberRemoval,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let mut events = Appended::default();
        let was_member =
            remove_with_event(&mut tx, &mut events, guild_id, user_id, now, removed).await?;
        tx.commit().await?;
        events.publish(self);
        Ok(was_member)
    }

    /// Bans `user_id` (member or not) and removes them from the guild, in one step. `banned`
    /// is seen by members who may ban.
    #[allow(clippy::too_many_arguments)]
    pub async fn ban(
        &self,
        guild_id: i64,
        user_id: i64,
        reason: Option<&str>,
        banned_by: i64,
        now: i64,
        banned: impl FnOnce(&BanRow) -> (Dispatch, u64),
        removed: impl FnOnce(&MemberRow) -> MemberRemoval,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO guild_bans (guild_id, user_id, reason, banned_by, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (guild_id, user_id) DO UPDATE SET reason = excluded.reason, banned_by = excluded.banned_by",
        )
        .bind(guild_id)
        .bind(user_id)
        .bind(reason)
        .bind(banned_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let mut events = Appended::default();
        remove_with_event(&mut tx, &mut events, guild_id, user_id, now, removed).await?;
        let ban: BanRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{BAN_SELECT} WHERE b.guild_id = $1 AND b.user_id = $2"
        )))
        .bind(guild_id)
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        let (dispatch, required_permissions) = banned(&ban);
        events
            .guild(
                &mut tx,
                guild_id,
                dispatch,
                None,
                MembershipEffect::None,
                required_permissions,
                now,
            )
            .await?;
        tx.commit().await?;
        events.publish(self);
        Ok(())
    }

    pub async fn ban_of(&self, guild_id: i64, user_id: i64) -> Result<Option<BanRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{BAN_SELECT} WHERE b.guild_id = $1 AND b.user_id = $2"
        )))
        .bind(guild_id)
        .bind(user_id)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Bans in user-id order after `after`.
    pub async fn bans(&self, guild_id: i64, after: i64, limit: i64) -> Result<Vec<BanRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{BAN_SELECT} WHERE b.guild_id = $1 AND b.user_id > $2 ORDER BY b.user_id LIMIT $3"
        )))
        .bind(guild_id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// Lifts a ban; false when there was none. `unbanned` is seen by members with
    /// `required_permissions`.
    pub async fn unban(
        &self,
        guild_id: i64,
        user_id: i64,
        now: i64,
        unbanned: Dispatch,
        required_permissions: u64,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let lifted = sqlx::query("DELETE FROM guild_bans WHERE guild_id = $1 AND user_id = $2")
            .bind(guild_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        let mut events = Appended::default();
        if lifted {
            events
                .guild(
                    &mut tx,
                    guild_id,
                    unbanned,
                    None,
                    MembershipEffect::None,
                    required_permissions,
                    now,
                )
                .await?;
        }
        tx.commit().await?;
        events.publish(self);
        Ok(lifted)
    }
}

pub(crate) async fn is_banned(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    guild_id: i64,
    user_id: i64,
) -> Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) FROM guild_bans WHERE guild_id = $1 AND user_id = $2")
        .bind(guild_id)
        .bind(user_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}

async fn delete_member(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    guild_id: i64,
    user_id: i64,
) -> Result<bool> {
    let removed = sqlx::query("DELETE FROM guild_members WHERE guild_id = $1 AND user_id = $2")
        .bind(guild_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        == 1;
    sqlx::query("DELETE FROM read_states WHERE user_id = $1 AND channel_id IN (SELECT id FROM channels WHERE guild_id = $2)")
        .bind(user_id)
        .bind(guild_id)
        .execute(&mut **tx)
        .await?;
    Ok(removed)
}

pub(crate) async fn select_member(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    guild_id: i64,
    user_id: i64,
) -> Result<MemberRow> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{MEMBER_SELECT} WHERE m.guild_id = $1 AND m.user_id = $2"
    )))
    .bind(guild_id)
    .bind(user_id)
    .fetch_one(&mut **tx)
    .await?)
}

/// Removes a member and records the removal, when they are one.
async fn remove_with_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    events: &mut Appended,
    guild_id: i64,
    user_id: i64,
    now: i64,
    removed: impl FnOnce(&MemberRow) -> MemberRemoval,
) -> Result<bool> {
    let member: Option<MemberRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{MEMBER_SELECT} WHERE m.guild_id = $1 AND m.user_id = $2"
    )))
    .bind(guild_id)
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(member) = member else {
        return Ok(false);
    };
    delete_member(tx, guild_id, user_id).await?;
    events
        .removal(tx, guild_id, user_id, removed(&member), now)
        .await?;
    Ok(true)
}
