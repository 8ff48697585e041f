//! Invite codes and joining a guild through them.

use madang_domain::GuildRole;
use sqlx::FromRow;

use crate::events::{Appended, MembershipEffect};
use crate::guilds::{GuildRow, guild_with_channels};
use crate::members::{is_banned, select_member};
use crate::{ChannelRow, Dispatch, MemberJoin, MemberRow, Result, Store};

#[derive(Debug, Clone, FromRow)]
pub struct InviteRow {
    pub code: String,
    pub guild_id: i64,
    pub creator_id: i64,
    /// `None`: unlimited.
    pub max_uses: Option<i32>,
    pub uses: i32,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub created_at: i64,
}

/// What accepting an invite came to. Refusals are checked in this order, inside the same
/// transaction as the join, so a last use cannot be taken twice.
#[derive(Debug, PartialEq, Eq)]
pub enum InviteAcceptance {
    Joined { guild_id: i64 },
    AlreadyMember { guild_id: i64 },
    Unknown,
    Revoked,
    Expired,
    UsedUp,
    Banned,
}

const INVITE_SELECT: &str = "SELECT code, guild_id, creator_id, max_uses, uses, expires_at, revoked_at, created_at FROM invites";

impl Store {
    /// Stores an invite; `created` is seen by members with `required_permissions`.
    pub async fn create_invite(
        &self,
        invite: &InviteRow,
        created: Dispatch,
        required_permissions: u64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO invites (code, guild_id, creator_id, max_uses, uses, expires_at, created_at)
             VALUES ($1, $2, $3, $4, 0, $5, $6)",
        )
        .bind(&invite.code)
        .bind(invite.guild_id)
        .bind(invite.creator_id)
        .bind(invite.max_uses)
        .bind(invite.expires_at)
        .bind(invite.created_at)
        .execute(&mut *tx)
        .await?;
        let mut events = Appended::default();
        let now = invite.created_at;
        events
            .guild(
                &mut tx,
                invite.guild_id,
                created,
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

    pub async fn invite(&self, code: &str) -> Result<Option<InviteRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{INVITE_SELECT} WHERE code = $1"
        )))
        .bind(code)
        .fetch_optional(&self.read)
        .await?)
    }

    /// A guild's usable invites (not revoked, expired or used up), newest first; only
    /// `creator_id`'s when given.
    pub async fn invites_of_guild(
        &self,
        guild_id: i64,
        creator_id: Option<i64>,
        now: i64,
    ) -> Result<Vec<InviteRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{INVITE_SELECT} WHERE guild_id = $1 AND revoked_at IS NULL
               AND (expires_at IS NULL OR expires_at > $2) AND (max_uses IS NULL OR uses < max_uses)
               AND ($3 = 0 OR creator_id = $4)
             ORDER BY created_at DESC"
        )))
        .bind(guild_id)
        .bind(now)
        .bind(i16::from(creator_id.is_some()))
        .bind(creator_id.unwrap_or(0))
        .fetch_all(&self.read)
        .await?)
    }

    /// Revokes a live invite; `revoked` is seen by members with `required_permissions`.
    pub async fn revoke_invite(
        &self,
        invite: &InviteRow,
        now: i64,
        revoked: Dispatch,
        required_permissions: u64,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE invites SET revoked_at = $1 WHERE code = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(&invite.code)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let mut events = Appended::default();
        if changed {
            events
                .guild(
                    &mut tx,
                    invite.guild_id,
                    revoked,
                    None,
                    MembershipEffect::None,
                    required_permissions,
                    now,
                )
                .await?;
        }
        tx.commit().await?;
        events.publish(self);
        Ok(())
    }

    /// Joins `user_id` to the invite's guild, taking one use.
    pub async fn accept_invite(
        &self,
        code: &str,
        user_id: i64,
        now: i64,
        joined: impl FnOnce(&GuildRow, &[ChannelRow], &MemberRow) -> MemberJoin,
    ) -> Result<InviteAcceptance> {
        let mut tx = self.begin().await?;
        let invite: Option<InviteRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{INVITE_SELECT} WHERE code = $1"
        )))
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(invite) = invite else {
            return Ok(InviteAcceptance::Unknown);
        };
        let guild_id = invite.guild_id;
        if invite.revoked_at.is_some() {
            return Ok(InviteAcceptance::Revoked);
        }
        if invite.expires_at.is_some_and(|at| at <= now) {
            return Ok(InviteAcceptance::Expired);
        }
        if is_banned(&mut tx, guild_id, user_id).await? {
            return Ok(InviteAcceptance::Banned);
        }
        let already =
            sqlx::query("SELECT 1 FROM guild_members WHERE guild_id = $1 AND user_id = $2")
                .bind(guild_id)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        if already.is_some() {
            return Ok(InviteAcceptance::AlreadyMember { guild_id });
        }
        let took_use = sqlx::query("UPDATE invites SET uses = uses + 1 WHERE code = $1 AND (max_uses IS NULL OR uses < max_uses)")
            .bind(code)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if !took_use {
            return Ok(InviteAcceptance::UsedUp);
        }
        sqlx::query("INSERT INTO guild_members (guild_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
            .bind(guild_id)
            .bind(user_id)
            .bind(GuildRole::Member.as_i16())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let (guild, channels) = guild_with_channels(&mut tx, guild_id).await?;
        let member = select_member(&mut tx, guild_id, user_id).await?;
        let mut events = Appended::default();
        events
            .join(
                &mut tx,
                guild_id,
                user_id,
                GuildRole::Member,
                joined(&guild, &channels, &member),
                now,
            )
            .await?;
        tx.commit().await?;
        events.publish(self);
        Ok(InviteAcceptance::Joined { guild_id })
    }
}
