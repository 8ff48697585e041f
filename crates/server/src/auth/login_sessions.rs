//! The login sessions this node has recently found live in the database, with their user,
//! so that an authenticated request does not read its session row each time.
//!
//! A revocation is committed to the database first and then travels the bus as
//! `CloseSessions` to every node; each node forgets the logins it covers when it hears it
//! (the node that made it, before answering). A node that misses one (its NATS connection
//! dropped) trusts a revoked login for at most [`TRUSTED_FOR`]: entries are forgotten that
//! long after the database confirmed them, and all at once when the bus reports that
//! messages may have been lost. The table holds at most [`CAPACITY`] logins.

use std::collections::HashMap;
use std::mem;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use madang_store::{Store, StoreError};

use crate::gateway::SessionRevocation;

/// How long the database's word that a login is live is trusted.
const TRUSTED_FOR: Duration = Duration::from_secs(60);
/// The most logins remembered; past it the oldest are forgotten early.
const CAPACITY: usize = 100_000;

/// This node's record of live login sessions; see the module documentation.
pub struct LoginSessions {
    table: Mutex<Table>,
}

impl LoginSessions {
    pub fn new() -> LoginSessions {
        LoginSessions {
            table: Mutex::new(Table::new(Instant::now())),
        }
    }

    /// The user of login `session_id` if the login is live: from memory, or else from the
    /// database.
    pub async fn user_of(&self, store: &Store, session_id: i64) -> Result<Option<i64>, StoreError> {
        let (remembered, revocations_seen) = {
            let mut table = self.lock();
            (table.get(session_id, Instant::now()), table.revocations)
        };
        if let Some(user_id) = remembered {
            metrics::counter!("login_session_lookups_total", "result" => "hit").increment(1);
            return Ok(Some(user_id));
        }
        metrics::counter!("login_session_lookups_total", "result" => "miss").increment(1);
        let Some(live) = store.authenticate(session_id).await? else {
            return Ok(None);
        };
        self.lock()
            .insert(session_id, live.user_id, revocations_seen, Instant::now());
        Ok(Some(live.user_id))
    }

    /// Forgets the logins `revocation` covers. Call it once the revocation is committed, so
    /// that no request can find them live in the database again.
    pub fn revoke(&self, revocation: &SessionRevocation) {
        self.lock().revoke(revocation);
    }

    /// Forgets every login: revocations may have been missed.
    pub fn forget_all(&self) {
        self.lock().forget_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // Every change leaves the table consistent, so one a panic interrupted is fine.
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for LoginSessions {
    fn default() -> Self {
        LoginSessions::new()
    }
}

/// Two generations of entries, each collected for half of [`TRUSTED_FOR`] (or until it
/// holds half of [`CAPACITY`]): new entries go into `current`; when it is full or old
/// enough it becomes `previous` and the old `previous` is dropped. So an entry lives at
/// most [`TRUSTED_FOR`] and forgetting old entries costs nothing per request.
struct Table {
    /// Login session id → user id.
    current: HashMap<i64, i64>,
    previous: HashMap<i64, i64>,
    /// When `current` started collecting.
    current_since: Instant,
    /// Counts revocations (and forget-alls). A database answer read while it changed may
    /// predate the revocation, so it is not remembered.
    revocations: u64,
}

impl Table {
    fn new(now: Instant) -> Table {
        Table {
            current: HashMap::new(),
            previous: HashMap::new(),
            current_since: now,
            revocations: 0,
        }
    }

    fn get(&mut self, session_id: i64, now: Instant) -> Option<i64> {
        self.age(now);
        self.current
            .get(&session_id)
            .or_else(|| self.previous.get(&session_id))
            .copied()
    }

    /// Remembers that the database found `session_id` live, unless a revocation came after
    /// `revocations_seen` (read before the database was).
    fn insert(&mut self, session_id: i64, user_id: i64, revocations_seen: u64, now: Instant) {
        if self.revocations != revocations_seen {
            return;
        }
        self.age(now);
        if self.current.len() >= CAPACITY / 2 {
            self.previous = mem::take(&mut self.current);
            self.current_since = now;
        }
        self.current.insert(session_id, user_id);
    }

    fn revoke(&mut self, revocation: &SessionRevocation) {
        self.revocations += 1;
        let user_id = revocation.user_id();
        for generation in [&mut self.current, &mut self.previous] {
            generation.retain(|&session_id, &mut login_user_id| {
                login_user_id != user_id || !revocation.covers(session_id)
            });
        }
    }

    fn forget_all(&mut self) {
        self.revocations += 1;
        self.current.clear();
        self.previous.clear();
    }

    /// Retires generations whose time is up. `current_since` advances by whole half-lives,
    /// so every entry in `previous` was added less than [`TRUSTED_FOR`] ago.
    fn age(&mut self, now: Instant) {
        let half_life = TRUSTED_FOR / 2;
        let elapsed = now.saturating_duration_since(self.current_since);
        if elapsed >= TRUSTED_FOR {
            self.current.clear();
            self.previous.clear();
            self.current_since = now;
        } else if elapsed >= half_life {
            self.previous = mem::take(&mut self.current);
            self.current_since += half_life;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIM: i64 = 1;
    const LEE: i64 = 2;

    /// A table holding login session → user `entries`.
    fn table_with(entries: &[(i64, i64)], now: Instant) -> Table {
        let mut table = Table::new(now);
        for &(session_id, user_id) in entries {
            table.insert(session_id, user_id, table.revocations, now);
        }
        table
    }

    #[test]
    fn an_entry_is_trusted_for_at_most_a_minute() {
        let start = Instant::now();
        let mut table = table_with(&[(10, KIM)], start);
        // Added just before `current` retires: it lives through the next generation only.
        table.insert(
            11,
            LEE,
            table.revocations,
            start + TRUSTED_FOR / 2 - Duration::from_millis(1),
        );
        assert_eq!(table.get(10, start + TRUSTED_FOR / 2), Some(KIM));
        assert_eq!(
            table.get(10, start + TRUSTED_FOR - Duration::from_millis(1)),
            Some(KIM)
        );
        assert_eq!(table.get(10, start + TRUSTED_FOR), None);
        assert_eq!(table.get(11, start + TRUSTED_FOR), None);

        // Generations retire on their schedule, however late the table is looked at, so
        // an entry added late in one still goes within the minute.
        let mut table = table_with(&[(10, KIM)], start);
        table.insert(11, LEE, table.revocations, start + TRUSTED_FOR * 3 / 4);
        assert_eq!(table.get(10, start + TRUSTED_FOR), None);
        assert_eq!(table.get(11, start + TRUSTED_FOR * 5 / 4), Some(LEE));
        assert_eq!(table.get(11, start + TRUSTED_FOR * 7 / 4), None);
    }

    #[test]
    fn a_revocation_forgets_what_it_covers() {
        let now = Instant::now();
        let mut table = table_with(&[(10, KIM), (11, KIM), (12, KIM), (20, LEE)], now);
        table.revoke(&SessionRevocation::Login {
            user_id: KIM,
            login_session_id: 10,
        });
        assert_eq!(table.get(10, now), None);
        assert_eq!(table.get(11, now), Some(KIM));
        table.revoke(&SessionRevocation::User {
            user_id: KIM,
            except_login: Some(12),
        });
        assert_eq!(table.get(11, now), None);
        assert_eq!(table.get(12, now), Some(KIM));
        assert_eq!(table.get(20, now), Some(LEE), "another user's login stays");
        table.forget_all();
        assert_eq!(table.get(12, now), None);
        assert_eq!(table.get(20, now), None);
    }

    /// A request that read the database before a logout committed must not bring the login
    /// back after the logout forgot it.
    #[test]
    fn an_answer_older_than_a_revocation_is_not_remembered() {
        let now = Instant::now();
        let mut table = Table::new(now);
        let seen = table.revocations;
        table.revoke(&SessionRevocation::Login {
            user_id: KIM,
            login_session_id: 10,
        });
        table.insert(10, KIM, seen, now);
        assert_eq!(table.get(10, now), None);
    }

    #[test]
    fn the_table_is_bounded() {
        let now = Instant::now();
        let mut table = Table::new(now);
        for session_id in 0..CAPACITY as i64 + 1 {
            table.insert(session_id, KIM, table.revocations, now);
        }
        assert!(table.current.len() + table.previous.len() <= CAPACITY);
        assert_eq!(table.get(0, now), None, "the oldest went first");
        assert_eq!(table.get(CAPACITY as i64, now), Some(KIM));
    }
}
