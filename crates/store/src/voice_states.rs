//! Who is in which voice channel. Every change is written with its VOICE_STATE_UPDATE guild
//! event in one transaction, so READY (which reads the rows) and resume (which replays the
//! events) agree. The node holding a call refreshes its rows; rows of a node that stopped are
//! found by their age and removed by the others.

use sqlx::{Any, FromRow, Row, Transaction};

use crate::events::Appended;
use crate::{Dispatch, Result, Store};

/// The flags a user sets on their own voice connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VoiceFlags {
    pub self_mute: bool,
    pub self_deaf: bool,
    pub self_video: bool,
    pub self_stream: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceStateRow {
    pub user_id: i64,
    pub guild_id: i64,
    pub channel_id: i64,
    /// One join of one gateway session; a later join (another channel, another device)
    /// gets a new one, so a late departure of the old call cannot remove the new row.
    pub participant_id: i64,
    /// The node holding the call (its receipt stream id).
    pub stream_id: i64,
    pub flags: VoiceFlags,
    /// Set by moderators on the membership; survives leaving and rejoining.
    pub server_mute: bool,
    pub refreshed_at: i64,
}

impl<'r> FromRow<'r, sqlx::any::AnyRow> for VoiceStateRow {
    fn from_row(row: &'r sqlx::any::AnyRow) -> sqlx::Result<Self> {
        let flag = |name: &str| -> sqlx::Result<bool> { Ok(row.try_get::<i16, _>(name)? != 0) };
        Ok(VoiceStateRow {
            user_id: row.try_get("user_id")?,
            guild_id: row.try_get("guild_id")?,
            channel_id: row.try_get("channel_id")?,
            participant_id: row.try_get("participant_id")?,
            stream_id: row.try_get("stream_id")?,
            flags: VoiceFlags {
                self_mute: flag("self_mute")?,
                self_deaf: flag("self_deaf")?,
                self_video: flag("self_video")?,
                self_stream: flag("self_stream")?,
            },
            server_mute: flag("server_mute")?,
            refreshed_at: row.try_get("refreshed_at")?,
        })
    }
}

const VOICE_STATE_SELECT: &str = "SELECT v.user_id, v.guild_id, v.channel_id, v.participant_id,
    v.stream_id, v.self_mute, v.self_deaf, v.self_video, v.self_stream,
    COALESCE(m.server_mute, 0) AS server_mute, v.refreshed_at
    FROM voice_states v
    LEFT JOIN guild_members m ON m.guild_id = v.guild_id AND m.user_id = v.user_id";

fn flag(value: bool) -> i16 {
    i16::from(value)
}

impl Store {
    /// Puts the user in a voice channel, replacing where they were. `left` announces the
    /// departure from the previous guild when the user moves between guilds; `joined`
    /// announces the new state to the guild's members.
    pub async fn put_voice_state(
        &self,
        state: &VoiceStateRow,
        left: impl FnOnce(&VoiceStateRow) -> Dispatch,
        joined: impl FnOnce(&VoiceStateRow) -> Dispatch,
    ) -> Result<VoiceStateRow> {
        let mut tx = self.begin().await?;
        let previous: Option<VoiceStateRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{VOICE_STATE_SELECT} WHERE v.user_id = $1"
        )))
        .bind(state.user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut events = Appended::default();
        if let Some(previous) = previous.filter(|p| p.guild_id != state.guild_id) {
            events
                .guild_dispatch(
                    &mut tx,
                    previous.guild_id,
                    left(&previous),
                    state.refreshed_at,
                )
                .await?;
        }
        sqlx::query(
            "INSERT INTO voice_states (user_id, guild_id, channel_id, participant_id, stream_id,
                self_mute, self_deaf, self_video, self_stream, refreshed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (user_id) DO UPDATE SET guild_id = $2, channel_id = $3,
                participant_id = $4, stream_id = $5, self_mute = $6, self_deaf = $7,
                self_video = $8, self_stream = $9, refreshed_at = $10",
        )
        .bind(state.user_id)
        .bind(state.guild_id)
        .bind(state.channel_id)
        .bind(state.participant_id)
        .bind(state.stream_id)
        .bind(flag(state.flags.self_mute))
        .bind(flag(state.flags.self_deaf))
        .bind(flag(state.flags.self_video))
        .bind(flag(state.flags.self_stream))
        .bind(state.refreshed_at)
        .execute(&mut *tx)
        .await?;
        let written: VoiceStateRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{VOICE_STATE_SELECT} WHERE v.user_id = $1"
        )))
        .bind(state.user_id)
        .fetch_one(&mut *tx)
        .await?;
        events
            .guild_dispatch(
                &mut tx,
                written.guild_id,
                joined(&written),
                state.refreshed_at,
            )
            .await?;
        tx.commit().await?;
        events.publish(self);
        Ok(written)
    }

    /// The user's voice state, if they are in a voice channel.
    pub async fn voice_state(&self, user_id: i64) -> Result<Option<VoiceStateRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{VOICE_STATE_SELECT} WHERE v.user_id = $1"
        )))
        .bind(user_id)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Everyone in the guild's voice channels.
    pub async fn voice_states_of_guild(&self, guild_id: i64) -> Result<Vec<VoiceStateRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{VOICE_STATE_SELECT} WHERE v.guild_id = $1 ORDER BY v.user_id"
        )))
        .bind(guild_id)
        .fetch_all(&self.read)
        .await?)
    }

    /// Claims a voice channel's call for node `stream_id` unless a live node holds it, and
    /// returns the holder. One statement decides, so of two nodes claiming an empty channel
    /// at once exactly one wins and both learn which. A holder not refreshed since
    /// `stale_before` has stopped, and is replaced.
    pub async fn claim_voice_channel(
        &self,
        channel_id: i64,
        stream_id: i64,
        now: i64,
        stale_before: i64,
    ) -> Result<i64> {
        // The holder may release the row between the two statements; the claim then runs
        // again on the empty channel.
        loop {
            sqlx::query(
                "INSERT INTO voice_channel_holders (channel_id, stream_id, refreshed_at)
                 VALUES ($1, $2, $3)
                 ON CONFLICT (channel_id) DO UPDATE SET stream_id = $2, refreshed_at = $3
                 WHERE voice_channel_holders.stream_id = $2
                    OR voice_channel_holders.refreshed_at < $4",
            )
            .bind(channel_id)
            .bind(stream_id)
            .bind(now)
            .bind(stale_before)
            .execute(&self.write)
            .await?;
            let holder =
                sqlx::query("SELECT stream_id FROM voice_channel_holders WHERE channel_id = $1")
                    .bind(channel_id)
                    .fetch_optional(&self.write)
                    .await?;
            if let Some(holder) = holder {
                return Ok(holder.try_get(0)?);
            }
        }
    }

    /// The node holding a voice channel's call, unless its hold was last refreshed before
    /// `stale_before` (that node stopped) or there is none.
    pub async fn live_voice_channel_holder(
        &self,
        channel_id: i64,
        stale_before: i64,
    ) -> Result<Option<i64>> {
        let holder = sqlx::query(
            "SELECT stream_id FROM voice_channel_holders
             WHERE channel_id = $1 AND refreshed_at >= $2",
        )
        .bind(channel_id)
        .bind(stale_before)
        .fetch_optional(&self.read)
        .await?;
        Ok(holder.map(|row| row.try_get(0)).transpose()?)
    }

    /// Gives up node `stream_id`'s hold on a voice channel whose call emptied.
    pub async fn release_voice_channel(&self, channel_id: i64, stream_id: i64) -> Result<()> {
        sqlx::query("DELETE FROM voice_channel_holders WHERE channel_id = $1 AND stream_id = $2")
            .bind(channel_id)
            .bind(stream_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Whether a moderator muted the member.
    pub async fn member_server_muted(&self, guild_id: i64, user_id: i64) -> Result<bool> {
        let row = sqlx::query(
            "SELECT server_mute FROM guild_members WHERE guild_id = $1 AND user_id = $2",
        )
        .bind(guild_id)
        .bind(user_id)
        .fetch_optional(&self.read)
        .await?;
        Ok(match row {
            Some(row) => row.try_get::<i16, _>(0)? != 0,
            None => false,
        })
    }

    /// Changes the flags of one call; `None` when that call is no longer the user's.
    pub async fn update_voice_flags(
        &self,
        user_id: i64,
        participant_id: i64,
        flags: VoiceFlags,
        now: i64,
        updated: impl FnOnce(&VoiceStateRow) -> Dispatch,
    ) -> Result<Option<VoiceStateRow>> {
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE voice_states SET self_mute = $1, self_deaf = $2, self_video = $3,
                self_stream = $4
             WHERE user_id = $5 AND participant_id = $6",
        )
        .bind(flag(flags.self_mute))
        .bind(flag(flags.self_deaf))
        .bind(flag(flags.self_video))
        .bind(flag(flags.self_stream))
        .bind(user_id)
        .bind(participant_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(None);
        }
        self.commit_update(tx, user_id, updated, now)
            .await
            .map(Some)
    }

    /// Sets a moderator's mute on a member who is in one of the guild's voice channels;
    /// `None` (nothing changed) when they are not.
    pub async fn set_server_mute(
        &self,
        guild_id: i64,
        user_id: i64,
        server_mute: bool,
        now: i64,
        updated: impl FnOnce(&VoiceStateRow) -> Dispatch,
    ) -> Result<Option<VoiceStateRow>> {
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE guild_members SET server_mute = $1
             WHERE guild_id = $2 AND user_id = $3
                AND EXISTS (SELECT 1 FROM voice_states v WHERE v.user_id = $3 AND v.guild_id = $2)",
        )
        .bind(flag(server_mute))
        .bind(guild_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(None);
        }
        self.commit_update(tx, user_id, updated, now)
            .await
            .map(Some)
    }

    /// The shared end of a change that keeps the user in their channel: reads the state back
    /// inside the transaction, logs its VOICE_STATE_UPDATE, commits, then publishes.
    async fn commit_update(
        &self,
        mut tx: Transaction<'static, Any>,
        user_id: i64,
        updated: impl FnOnce(&VoiceStateRow) -> Dispatch,
        now: i64,
    ) -> Result<VoiceStateRow> {
        let row: VoiceStateRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{VOICE_STATE_SELECT} WHERE v.user_id = $1"
        )))
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
        let mut events = Appended::default();
        events
            .guild_dispatch(&mut tx, row.guild_id, updated(&row), now)
            .await?;
        tx.commit().await?;
        events.publish(self);
        Ok(row)
    }

    /// Ends one call's voice state, announcing it with `left`; `None` when that call is no
    /// longer the user's (they joined again since, or it was removed already).
    pub async fn remove_voice_state(
        &self,
        user_id: i64,
        participant_id: i64,
        now: i64,
        left: impl FnOnce(&VoiceStateRow) -> Dispatch,
    ) -> Result<Option<VoiceStateRow>> {
        let mut tx = self.begin().await?;
        let row: Option<VoiceStateRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{VOICE_STATE_SELECT} WHERE v.user_id = $1 AND v.participant_id = $2"
        )))
        .bind(user_id)
        .bind(participant_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let deleted =
            sqlx::query("DELETE FROM voice_states WHERE user_id = $1 AND participant_id = $2")
                .bind(user_id)
                .bind(participant_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if deleted == 0 {
            // Another node removed it after our read (two nodes sweeping one stopped node's
            // calls): it announced the departure.
            return Ok(None);
        }
        let mut events = Appended::default();
        events
            .guild_dispatch(&mut tx, row.guild_id, left(&row), now)
            .await?;
        tx.commit().await?;
        events.publish(self);
        Ok(Some(row))
    }

    /// Marks the calls a node holds, and its hold on their channels, as alive.
    pub async fn refresh_voice_states(&self, stream_id: i64, now: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE voice_states SET refreshed_at = $1 WHERE stream_id = $2")
            .bind(now)
            .bind(stream_id)
            .execute(&mut *tx)
            .await?;
        // Only holds with calls: a claim whose join was refused expires instead.
        sqlx::query(
            "UPDATE voice_channel_holders SET refreshed_at = $1 WHERE stream_id = $2
                AND channel_id IN (SELECT channel_id FROM voice_states WHERE stream_id = $2)",
        )
        .bind(now)
        .bind(stream_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Voice states not refreshed since `before`: their node is gone.
    pub async fn stale_voice_states(&self, before: i64) -> Result<Vec<VoiceStateRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{VOICE_STATE_SELECT} WHERE v.refreshed_at < $1"
        )))
        .bind(before)
        .fetch_all(&self.read)
        .await?)
    }
}
