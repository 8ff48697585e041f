//! Recomputing a session's stream from the database: the catch-up of a session's logs up
//! to given bounds, and the replay of a node's receipt stream after a checkpoint. Both feed
//! events through the session's filter in a fixed order, so the `s` they assign is the `s`
//! the live session assigned.

use std::collections::{BTreeMap, HashMap, HashSet};

use madang_store::{EventSource, LoggedEvent, SessionCheckpoint, Store, StoreError, UserEventKind};
use serde::{Deserialize, Serialize};

use super::filter::{Delivery, SessionFilter};

/// Receipts read per query while replaying a stream.
const RECEIPT_PAGE: i64 = 2000;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// Events the replay needs were pruned: the session is too old to resume.
    #[error("the events to replay are no longer kept")]
    Expired,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a stored session checkpoint is unreadable: {0}")]
    Checkpoint(#[from] serde_json::Error),
}

/// What a checkpoint's `state` column holds: the filter as it was at the checkpoint, and the
/// bounds of the catch-up that came right after it (empty for checkpoints taken live).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckpointState {
    pub filter: SessionFilter,
    pub catch_up: Vec<(EventSource, i64)>,
}

/// A dispatch to send: an event and which of its dispatches, with its `s`.
pub struct Replayed {
    pub seq: i64,
    pub event: LoggedEvent,
    pub delivery: Delivery,
}

/// Brings `filter` up to date with every log it follows, up to each log's newest event (read
/// now), user log first and then guilds by id: the order replay will use too. Returns the
/// bounds used, for the checkpoint, and pushes dispatches numbered after `seq`.
pub async fn catch_up(
    store: &Store,
    filter: &mut SessionFilter,
    seq: &mut i64,
    out: &mut Vec<Replayed>,
) -> Result<Vec<(EventSource, i64)>, ReplayError> {
    let mut bounds = Vec::new();
    let user = EventSource::User(filter.user_id);
    let up_to = store.last_seq(user).await?;
    bounds.push((user, up_to));
    catch_up_source(store, filter, user, up_to, seq, out).await?;
    // Join markers met above may have added guilds, so the list is taken afterwards.
    let guilds: Vec<i64> = filter.guilds.keys().copied().collect();
    for guild_id in guilds {
        let source = EventSource::Guild(guild_id);
        let up_to = store.last_seq(source).await?;
        bounds.push((source, up_to));
        catch_up_source(store, filter, source, up_to, seq, out).await?;
    }
    Ok(bounds)
}

/// The catch-up recorded in a checkpoint, with its bounds.
async fn catch_up_to(
    store: &Store,
    filter: &mut SessionFilter,
    bounds: &[(EventSource, i64)],
    seq: &mut i64,
    out: &mut Vec<Replayed>,
) -> Result<(), ReplayError> {
    for (source, up_to) in bounds {
        catch_up_source(store, filter, *source, *up_to, seq, out).await?;
    }
    Ok(())
}

async fn catch_up_source(
    store: &Store,
    filter: &mut SessionFilter,
    source: EventSource,
    up_to: i64,
    seq: &mut i64,
    out: &mut Vec<Replayed>,
) -> Result<(), ReplayError> {
    let Some(after) = filter.after(source) else {
        return Ok(());
    };
    if up_to <= after {
        return Ok(());
    }
    let events = store.events(source, after, up_to).await?;
    if events.len() as i64 != up_to - after {
        return Err(ReplayError::Expired);
    }
    for event in events {
        deliver(filter, event, seq, out);
    }
    Ok(())
}

fn deliver(filter: &mut SessionFilter, event: LoggedEvent, seq: &mut i64, out: &mut Vec<Replayed>) {
    if let Some(delivery) = filter.apply(&event) {
        *seq += 1;
        out.push(Replayed {
            seq: *seq,
            event,
            delivery,
        });
    }
}

/// Recomputes the stream of the session `checkpoint` describes, from the checkpoint to the
/// end of its node's receipts as stored now. Returns the filter afterwards and the last `s`.
pub async fn replay(
    store: &Store,
    checkpoint: &SessionCheckpoint,
    out: &mut Vec<Replayed>,
) -> Result<(SessionFilter, i64), ReplayError> {
    let state: CheckpointState = serde_json::from_str(&checkpoint.state)?;
    let mut filter = state.filter;
    let mut seq = checkpoint.seq;
    catch_up_to(store, &mut filter, &state.catch_up, &mut seq, out).await?;

    // Guilds this user joined in the stretch to replay: the only guilds the session does
    // not follow yet whose events can concern it.
    let user = EventSource::User(filter.user_id);
    let mut joined: HashSet<i64> = HashSet::new();
    for event in store.events(user, filter.user_after, i64::MAX).await? {
        if let LoggedEvent::User(event) = event
            && let UserEventKind::Joined { guild_id, .. } = event.kind
        {
            joined.insert(guild_id);
        }
    }

    let mut position = checkpoint.position;
    loop {
        let receipts = store
            .receipts(checkpoint.stream_id, position, RECEIPT_PAGE)
            .await?;
        let Some(last) = receipts.last() else { break };
        position = last.position;
        // Fetch the events of this page that can concern the session, one range per log.
        let relevant: Vec<_> = receipts
            .iter()
            .filter(|r| match r.source {
                EventSource::User(id) => id == filter.user_id,
                EventSource::Guild(id) => filter.guilds.contains_key(&id) || joined.contains(&id),
            })
            .collect();
        let mut ranges: BTreeMap<EventSource, (i64, i64)> = BTreeMap::new();
        for receipt in &relevant {
            let range = ranges
                .entry(receipt.source)
                .or_insert((receipt.seq, receipt.seq));
            range.0 = range.0.min(receipt.seq);
            range.1 = range.1.max(receipt.seq);
        }
        let mut events: HashMap<(EventSource, i64), LoggedEvent> = HashMap::new();
        for (source, (first, last)) in ranges {
            for event in store.events(source, first - 1, last).await? {
                events.insert((source, event.seq()), event);
            }
        }
        for receipt in relevant {
            let event = events
                .remove(&(receipt.source, receipt.seq))
                .ok_or(ReplayError::Expired)?;
            deliver(&mut filter, event, &mut seq, out);
        }
        if (receipts.len() as i64) < RECEIPT_PAGE {
            break;
        }
    }
    Ok((filter, seq))
}
