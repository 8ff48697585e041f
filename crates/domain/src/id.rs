//! Making time-ordered 64-bit ids (snowflake style): 42 bits of milliseconds since the Madang epoch,
//! 10 bits of node id, 12 bits of sequence. Ids sort by creation time, fit in a BIGINT, and
//! several nodes of a cluster can make them without coordinating.

use std::sync::Mutex;

pub use madang_protocol::{EPOCH_MS, Id};

const NODE_BITS: u32 = 10;
const SEQUENCE_BITS: u32 = 12;
pub const MAX_NODE_ID: u16 = (1 << NODE_BITS) - 1;
const MAX_SEQUENCE: i64 = (1 << SEQUENCE_BITS) - 1;

/// Makes ids for one node. The clock is passed in, so the generator is deterministic in tests.
pub struct IdGenerator {
    node_id: i64,
    /// (last timestamp used, last sequence used); a std mutex because the critical section is
    /// a few arithmetic operations and never awaits.
    state: Mutex<(i64, i64)>,
}

impl IdGenerator {
    pub fn new(node_id: u16) -> Self {
        assert!(
            node_id <= MAX_NODE_ID,
            "node id {node_id} exceeds {MAX_NODE_ID}"
        );
        IdGenerator {
            node_id: i64::from(node_id),
            state: Mutex::new((0, 0)),
        }
    }

    /// The next id at wall-clock time `now_ms`. If the clock steps backwards or more than 4096
    /// ids are needed in one millisecond, the id borrows from the next millisecond, so ids
    /// stay strictly increasing on this node.
    pub fn next(&self, now_ms: i64) -> Id {
        let mut state = self.state.lock().expect("id generator mutex poisoned");
        let (last_ms, last_seq) = *state;
        let ms = (now_ms - EPOCH_MS).max(0);
        let (ms, seq) = if ms > last_ms {
            (ms, 0)
        } else if last_seq < MAX_SEQUENCE {
            (last_ms, last_seq + 1)
        } else {
            (last_ms + 1, 0)
        };
        *state = (ms, seq);
        Id((ms << (NODE_BITS + SEQUENCE_BITS)) | (self.node_id << SEQUENCE_BITS) | seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_carry_their_time() {
        let generator = IdGenerator::new(3);
        let t = EPOCH_MS + 86_400_000;
        let a = generator.next(t);
        let b = generator.next(t);
        let c = generator.next(t + 1);
        assert!(a < b && b < c);
        assert_eq!(a.timestamp_ms(), t);
        assert_eq!(c.timestamp_ms(), t + 1);
        assert!(Id::first_at(t) <= a && a < Id::first_at(t + 1));
    }

    #[test]
    fn ids_stay_increasing_when_the_clock_steps_back_or_a_millisecond_overflows() {
        let generator = IdGenerator::new(0);
        let t = EPOCH_MS + 1000;
        let mut previous = generator.next(t);
        for i in 0..10_000 {
            let now = if i % 3 == 0 { t - 500 } else { t };
            let id = generator.next(now);
            assert!(id > previous, "id {id} after {previous}");
            previous = id;
        }
    }
}
