//! A session's outbound queue, from the sequencer to the session's connection task. The
//! sequencer hands over everything one of its turns has for a session (a batch of events,
//! a burst of presence) as one entry, so the session's task is woken and the queue popped
//! once per turn, not once per frame. The bound still counts frames: a session whose queue
//! would hold more than `gateway.session_queue_capacity` of them is a slow consumer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;

use super::frames::DispatchFrame;

/// The most frames one hand-over carries. A long turn (a burst of bus messages, a catch-up
/// from the ring) reaches the session in pieces it drains while the sequencer goes on, as
/// frame by frame it did: only a session that really falls behind fills its queue.
pub const MAX_ENTRY_FRAMES: usize = 256;

/// A frame for one session.
pub enum Outbound {
    Dispatch {
        seq: i64,
        frame: Arc<DispatchFrame>,
    },
    /// One buffer shared by every session it goes to.
    Unsequenced(Utf8Bytes),
}

/// A queue holding at most `capacity` frames.
pub fn queue(capacity: usize) -> (OutboundSender, OutboundReceiver) {
    let (entries_in, entries_out) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let sender = OutboundSender {
        entries: entries_in,
        queued: queued.clone(),
        capacity,
    };
    let receiver = OutboundReceiver {
        entries: entries_out,
        queued,
    };
    (sender, receiver)
}

/// The sequencer's end. There is one per queue (it is not `Clone`), so checking the room
/// and then taking it cannot race another sender.
pub struct OutboundSender {
    entries: mpsc::UnboundedSender<Vec<Outbound>>,
    /// Frames sent and not yet taken by the receiver.
    queued: Arc<AtomicUsize>,
    capacity: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SendError {
    /// The frames do not fit: the session reads too slowly.
    Full,
    /// The connection task is gone.
    Closed,
}

impl OutboundSender {
    /// Queues the frames as one entry, if the queue has room for all of them.
    pub fn send(&self, frames: Vec<Outbound>) -> Result<(), SendError> {
        let count = frames.len();
        if self.queued.load(Ordering::Relaxed) + count > self.capacity {
            return Err(SendError::Full);
        }
        self.queued.fetch_add(count, Ordering::Relaxed);
        self.entries.send(frames).map_err(|_| SendError::Closed)
    }
}

/// The connection task's end.
pub struct OutboundReceiver {
    entries: mpsc::UnboundedReceiver<Vec<Outbound>>,
    queued: Arc<AtomicUsize>,
}

impl OutboundReceiver {
    /// Waits for frames and takes them in order: the first entry, and the entries after it
    /// while fewer than `enough` frames are taken. `None` once the sender is gone. Cancel
    /// safe: nothing is taken until the wait is over.
    pub async fn recv(&mut self, enough: usize) -> Option<Vec<Outbound>> {
        let mut frames = self.entries.recv().await?;
        while frames.len() < enough
            && let Ok(more) = self.entries.try_recv()
        {
            frames.extend(more);
        }
        self.queued.fetch_sub(frames.len(), Ordering::Relaxed);
        Some(frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(count: usize) -> Vec<Outbound> {
        (0..count)
            .map(|i| Outbound::Unsequenced(Utf8Bytes::from(i.to_string())))
            .collect()
    }

    fn texts(frames: &[Outbound]) -> Vec<&str> {
        frames
            .iter()
            .map(|frame| match frame {
                Outbound::Unsequenced(text) => text.as_str(),
                Outbound::Dispatch { .. } => unreachable!("only unsequenced frames are sent"),
            })
            .collect()
    }

    #[tokio::test]
    async fn the_bound_counts_frames_not_entries() {
        let (sender, mut receiver) = queue(5);
        assert_eq!(sender.send(frames(3)), Ok(()));
        assert_eq!(sender.send(frames(3)), Err(SendError::Full));
        assert_eq!(sender.send(frames(2)), Ok(()));
        assert_eq!(sender.send(frames(1)), Err(SendError::Full));
        // Taking frames makes room for as many.
        let taken = receiver.recv(1).await.unwrap();
        assert_eq!(texts(&taken), ["0", "1", "2"]);
        assert_eq!(sender.send(frames(3)), Ok(()));
        assert_eq!(sender.send(frames(1)), Err(SendError::Full));
    }

    #[tokio::test]
    async fn entries_are_taken_in_order_until_enough() {
        let (sender, mut receiver) = queue(100);
        for _ in 0..3 {
            sender.send(frames(2)).unwrap();
        }
        let taken = receiver.recv(3).await.unwrap();
        assert_eq!(texts(&taken), ["0", "1", "0", "1"]);
        assert_eq!(texts(&receiver.recv(3).await.unwrap()), ["0", "1"]);
        drop(sender);
        assert!(receiver.recv(3).await.is_none());
    }

    #[tokio::test]
    async fn a_gone_connection_is_told_apart_from_a_full_queue() {
        let (sender, receiver) = queue(1);
        drop(receiver);
        assert_eq!(sender.send(frames(1)), Err(SendError::Closed));
    }
}
