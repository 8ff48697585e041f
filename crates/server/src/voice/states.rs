//! Writing voice states to the database, in the order the driver decided them, off the
//! driver's task (the driver must never wait for the database: media would stall). Also the
//! upkeep that lets a cluster notice a node that died with calls on it.

use std::time::Duration;

use madang_store::{Store, VoiceFlags, VoiceStateRow};
use tokio::sync::mpsc;

use crate::api::dispatches;
use crate::state::now_ms;

/// A change the driver made, to be written with its VOICE_STATE_UPDATE.
#[derive(Debug)]
pub enum StateChange {
    Joined(VoiceStateRow),
    Flags {
        user_id: i64,
        participant_id: i64,
        flags: VoiceFlags,
    },
    Left {
        user_id: i64,
        participant_id: i64,
    },
    /// The node's last call in the channel ended: another node may hold it next.
    Released {
        channel_id: i64,
    },
}

/// Starts the writer; changes sent to the returned sender are written one after another.
/// `stale_after` is `voice.stale_after_ms`: a hold older than that may be taken over.
pub fn start_writer(
    store: Store,
    stream_id: i64,
    stale_after: Duration,
) -> mpsc::UnboundedSender<StateChange> {
    let (changes, mut received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(change) = received.recv().await {
            if let Err(error) = write(&store, stream_id, stale_after, change).await {
                // The call itself goes on; a state left behind is removed as stale once the
                // node stops refreshing it, or replaced by the user's next join.
                tracing::error!(%error, "voice: cannot write a voice state");
            }
        }
    });
    changes
}

async fn write(
    store: &Store,
    stream_id: i64,
    stale_after: Duration,
    change: StateChange,
) -> madang_store::Result<()> {
    match change {
        StateChange::Joined(row) => {
            // Normally a no-op: the join was routed here because this node holds the channel.
            // After a release raced with the join, the hold is taken again.
            let now = now_ms();
            let holder = store
                .claim_voice_channel(
                    row.channel_id,
                    stream_id,
                    now,
                    stale_before(now, stale_after),
                )
                .await?;
            if holder != stream_id {
                tracing::warn!(
                    channel_id = row.channel_id,
                    holder,
                    "voice: another node claimed a channel this node has a call in"
                );
            }
            store
                .put_voice_state(
                    &row,
                    dispatches::voice_state_left,
                    dispatches::voice_state_updated,
                )
                .await?;
        }
        StateChange::Flags {
            user_id,
            participant_id,
            flags,
        } => {
            store
                .update_voice_flags(
                    user_id,
                    participant_id,
                    flags,
                    now_ms(),
                    dispatches::voice_state_updated,
                )
                .await?;
        }
        StateChange::Left {
            user_id,
            participant_id,
        } => {
            store
                .remove_voice_state(
                    user_id,
                    participant_id,
                    now_ms(),
                    dispatches::voice_state_left,
                )
                .await?;
        }
        StateChange::Released { channel_id } => {
            store.release_voice_channel(channel_id, stream_id).await?;
        }
    }
    Ok(())
}

/// Holds and voice states last refreshed before this belong to a node that stopped.
pub fn stale_before(now: i64, stale_after: Duration) -> i64 {
    now - stale_after.as_millis() as i64
}

/// Marks this node's calls alive every `refresh_interval`, and removes the voice states of
/// nodes that stopped doing so for `stale_after` (a crashed node cannot announce its
/// departures itself).
pub async fn keep_fresh(
    store: Store,
    stream_id: i64,
    refresh_interval: Duration,
    stale_after: Duration,
) {
    let mut tick = tokio::time::interval(refresh_interval);
    loop {
        tick.tick().await;
        let now = now_ms();
        if let Err(error) = store.refresh_voice_states(stream_id, now).await {
            tracing::warn!(%error, "voice: cannot refresh voice states");
            continue;
        }
        let stale = match store
            .stale_voice_states(stale_before(now, stale_after))
            .await
        {
            Ok(stale) => stale,
            Err(error) => {
                tracing::warn!(%error, "voice: cannot look for stale voice states");
                continue;
            }
        };
        for row in stale {
            tracing::info!(
                user_id = row.user_id,
                node = row.stream_id,
                "voice: removing the call of a stopped node"
            );
            if let Err(error) = store
                .remove_voice_state(
                    row.user_id,
                    row.participant_id,
                    now,
                    dispatches::voice_state_left,
                )
                .await
            {
                tracing::warn!(%error, "voice: cannot remove a stale voice state");
            }
        }
    }
}
