//! Which events a session receives, decided event by event from the events themselves, so
//! that a session's stream is a deterministic function of the order its node received
//! events in. The same code runs live (in the sequencer) and in replay (on resume), which
//! is what makes a resumed stream exactly the one the client was receiving.

use std::collections::BTreeMap;

use madang_domain::{GuildRole, Permissions};
use madang_store::{Dispatch, EventSource, LoggedEvent, MembershipEffect, UserEventKind};
use serde::{Deserialize, Serialize};

/// A session's view of the logs it follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFilter {
    pub user_id: i64,
    /// The last event of the user's own log this session has considered.
    pub user_after: i64,
    /// Every guild this session has seen the user in (or about to join, or left).
    pub guilds: BTreeMap<i64, GuildView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuildView {
    /// The last event of the guild's log this session has considered.
    pub after: i64,
    /// `None`: not (or not yet) a member, so only the user's own join is delivered.
    pub role: Option<GuildRole>,
}

/// Which of an event's dispatches a session gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The dispatch every member sees.
    Members,
    /// The dispatch meant for the user the event is about.
    Target,
}

impl Delivery {
    pub fn dispatch(self, event: &LoggedEvent) -> &Dispatch {
        match (self, event) {
            (Delivery::Target, LoggedEvent::Guild(e)) => {
                e.target_dispatch.as_ref().unwrap_or(&e.dispatch)
            }
            (_, LoggedEvent::Guild(e)) => &e.dispatch,
            (_, LoggedEvent::User(e)) => match &e.kind {
                UserEventKind::Dispatch(dispatch) => dispatch,
                UserEventKind::Joined { .. } => unreachable!("join markers are never delivered"),
            },
        }
    }
}

impl SessionFilter {
    pub fn new(
        user_id: i64,
        user_after: i64,
        memberships: impl IntoIterator<Item = (i64, GuildRole, i64)>,
    ) -> SessionFilter {
        let guilds = memberships
            .into_iter()
            .map(|(id, role, after)| {
                (
                    id,
                    GuildView {
                        after,
                        role: Some(role),
                    },
                )
            })
            .collect();
        SessionFilter {
            user_id,
            user_after,
            guilds,
        }
    }

    /// How far this session has considered `source`; `None` for a guild it has never seen.
    pub fn after(&self, source: EventSource) -> Option<i64> {
        match source {
            EventSource::User(id) if id == self.user_id => Some(self.user_after),
            EventSource::User(_) => None,
            EventSource::Guild(id) => self.guilds.get(&id).map(|view| view.after),
        }
    }

    /// Whether the user is a member of the guild as far as this session knows.
    pub fn is_member(&self, guild_id: i64) -> bool {
        self.guilds
            .get(&guild_id)
            .is_some_and(|view| view.role.is_some())
    }

    /// Considers the next event (in the node's order) and says whether and what to deliver.
    pub fn apply(&mut self, event: &LoggedEvent) -> Option<Delivery> {
        match event {
            LoggedEvent::User(event) => {
                if event.user_id != self.user_id || event.seq <= self.user_after {
                    return None;
                }
                self.user_after = event.seq;
                match event.kind {
                    UserEventKind::Dispatch(_) => Some(Delivery::Members),
                    UserEventKind::Joined {
                        guild_id,
                        guild_seq,
                    } => {
                        // The join's guild-side event may not have been received yet: make
                        // sure it is delivered when it comes.
                        let view = self.guilds.entry(guild_id).or_insert(GuildView {
                            after: guild_seq - 1,
                            role: None,
                        });
                        if view.role.is_none() && view.after < guild_seq - 1 {
                            view.after = guild_seq - 1;
                        }
                        None
                    }
                }
            }
            LoggedEvent::Guild(event) => {
                let is_target = event.target_user_id == Some(self.user_id);
                let view = match self.guilds.get_mut(&event.guild_id) {
                    Some(view) => view,
                    None if is_target && matches!(event.effect, MembershipEffect::Joined(_)) => {
                        self.guilds.entry(event.guild_id).or_insert(GuildView {
                            after: event.seq - 1,
                            role: None,
                        })
                    }
                    None => return None,
                };
                if event.seq <= view.after {
                    return None;
                }
                view.after = event.seq;
                match event.effect {
                    MembershipEffect::Joined(role) if is_target => {
                        view.role = Some(role);
                        return Some(Delivery::Target);
                    }
                    MembershipEffect::Left if is_target => {
                        return view.role.take().map(|_| Delivery::Target);
                    }
                    MembershipEffect::GuildDeleted => {
                        return view.role.take().map(|_| Delivery::Members);
                    }
                    MembershipEffect::RoleChanged(role) if is_target && view.role.is_some() => {
                        view.role = Some(role)
                    }
                    _ => {}
                }
                let role = view.role?;
                if !role
                    .permissions()
                    .contains(Permissions::from_bits(event.required_permissions))
                {
                    return None;
                }
                Some(if is_target && event.target_dispatch.is_some() {
                    Delivery::Target
                } else {
                    Delivery::Members
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use madang_store::{GuildEvent, UserEvent};

    use super::*;

    fn guild_event(seq: i64, effect: MembershipEffect, target: Option<i64>) -> LoggedEvent {
        LoggedEvent::Guild(GuildEvent {
            guild_id: 10,
            seq,
            dispatch: Dispatch::new("X", "{}"),
            target_user_id: target,
            target_dispatch: target.map(|_| Dispatch::new("T", "{}")),
            effect,
            required_permissions: 0,
            created_at: 0,
        })
    }

    fn join_marker(seq: i64, guild_seq: i64) -> LoggedEvent {
        LoggedEvent::User(UserEvent {
            user_id: 1,
            seq,
            kind: UserEventKind::Joined {
                guild_id: 10,
                guild_seq,
            },
            created_at: 0,
        })
    }

    #[test]
    fn a_join_starts_delivery_and_a_removal_ends_it() {
        let mut filter = SessionFilter::new(1, 0, []);
        assert_eq!(
            filter.apply(&guild_event(4, MembershipEffect::None, None)),
            None
        );
        assert_eq!(
            filter.apply(&guild_event(
                5,
                MembershipEffect::Joined(GuildRole::Member),
                Some(1)
            )),
            Some(Delivery::Target)
        );
        assert_eq!(filter.apply(&join_marker(1, 5)), None);
        assert_eq!(
            filter.apply(&guild_event(6, MembershipEffect::None, None)),
            Some(Delivery::Members)
        );
        assert_eq!(
            filter.apply(&guild_event(6, MembershipEffect::None, None)),
            None,
            "never twice"
        );
        assert_eq!(
            filter.apply(&guild_event(7, MembershipEffect::Left, Some(1))),
            Some(Delivery::Target)
        );
        assert_eq!(
            filter.apply(&guild_event(8, MembershipEffect::None, None)),
            None
        );
    }

    #[test]
    fn a_join_marker_seen_first_lets_the_join_through_later() {
        let mut filter = SessionFilter::new(1, 0, []);
        assert_eq!(filter.apply(&join_marker(1, 5)), None);
        assert_eq!(
            filter.apply(&guild_event(4, MembershipEffect::None, None)),
            None
        );
        assert_eq!(
            filter.apply(&guild_event(
                5,
                MembershipEffect::Joined(GuildRole::Member),
                Some(1)
            )),
            Some(Delivery::Target)
        );
        assert_eq!(
            filter.apply(&guild_event(6, MembershipEffect::None, None)),
            Some(Delivery::Members)
        );
    }

    #[test]
    fn restricted_events_need_the_permission() {
        let mut filter = SessionFilter::new(1, 0, [(10, GuildRole::Member, 0)]);
        let mut ban = guild_event(1, MembershipEffect::None, None);
        if let LoggedEvent::Guild(e) = &mut ban {
            e.required_permissions = Permissions::BAN_MEMBERS.bits();
        }
        assert_eq!(filter.apply(&ban), None);
        assert_eq!(
            filter.apply(&guild_event(
                2,
                MembershipEffect::RoleChanged(GuildRole::Admin),
                Some(1)
            )),
            Some(Delivery::Target),
            "the member promoted hears of it"
        );
        if let LoggedEvent::Guild(e) = &mut ban {
            e.seq = 3;
        }
        assert_eq!(filter.apply(&ban), Some(Delivery::Members));
    }
}
