//! The store conformance suite: the same test bodies against SQLite and PostgreSQL, on the
//! behaviours where the two engines could differ — concurrency, conflicts, cascades, types.

use madang_domain::{GuildRole, IdGenerator};
use madang_store::testing::{TestBackend, fresh_database_url};
use madang_store::{
    ChannelKind, ChannelRow, Dispatch, EventSource, InviteAcceptance, InviteRow, LoggedEvent,
    MemberJoin, MemberRemoval, MessageRow, MessagesPage, NewMessage, NewUser, RefreshOutcome,
    Store, StoreError, UNREAD_COUNT_CAP, VoiceFlags, VoiceStateRow, on_both_backends,
};

/// A store on a fresh database, and the directory its SQLite file lives in.
struct Fixture {
    store: Store,
    url: String,
    ids: IdGenerator,
    _dir: tempfile::TempDir,
}

const NOW: i64 = 1_800_000_000_000;

/// The dispatch every change here logs; the gateway's payloads are tested with the gateway.
fn dispatch<T: ?Sized>(_: &T) -> Dispatch {
    Dispatch::new("TEST_EVENT", "{}")
}

fn join<A: ?Sized, B: ?Sized, C: ?Sized>(_: &A, _: &B, _: &C) -> MemberJoin {
    MemberJoin {
        for_members: dispatch(&()),
        for_joiner: dispatch(&()),
    }
}

fn removal<T: ?Sized>(_: &T) -> MemberRemoval {
    MemberRemoval {
        for_members: dispatch(&()),
        for_removed: dispatch(&()),
    }
}

async fn fixture(backend: TestBackend) -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(backend, dir.path()).await?;
    let store = Store::connect(&url).await.expect("connect and migrate");
    // Migrating again is a no-op.
    Store::connect(&url)
        .await
        .expect("second connect")
        .close()
        .await;
    Some(Fixture {
        store,
        url,
        ids: IdGenerator::new(1),
        _dir: dir,
    })
}

impl Fixture {
    fn id(&self) -> i64 {
        self.ids.next(NOW).0
    }

    async fn user(&self, name: &str) -> i64 {
        let id = self.id();
        let email = format!("{name}@example.com");
        self.store
            .create_user(NewUser {
                id,
                username: name,
                email: &email,
                display_name: None,
                password_hash: "hash",
                created_at: NOW,
            })
            .await
            .unwrap();
        id
    }

    /// A guild owned by `owner` with one text channel; returns (guild, channel).
    async fn guild(&self, owner: i64) -> (i64, i64) {
        let guild = self.id();
        let channel = ChannelRow {
            id: self.id(),
            guild_id: guild,
            kind: ChannelKind::Text,
            name: "general".into(),
            topic: None,
            parent_id: None,
            position: 0,
            user_limit: None,
            created_at: NOW,
        };
        self.store
            .create_guild(
                guild,
                "Guild",
                owner,
                std::slice::from_ref(&channel),
                NOW,
                join,
            )
            .await
            .unwrap();
        (guild, channel.id)
    }

    async fn invite(&self, guild: i64, creator: i64, max_uses: Option<i32>) -> String {
        let code = format!("code{}", self.id());
        self.store
            .create_invite(
                &InviteRow {
                    code: code.clone(),
                    guild_id: guild,
                    creator_id: creator,
                    max_uses,
                    uses: 0,
                    expires_at: None,
                    revoked_at: None,
                    created_at: NOW,
                },
                dispatch(&()),
                0,
            )
            .await
            .unwrap();
        code
    }

    async fn message(
        &self,
        guild: i64,
        channel: i64,
        author: i64,
        nonce: Option<&str>,
    ) -> (i64, bool) {
        let (row, created) = self
            .store
            .create_message(
                NewMessage {
                    id: self.id(),
                    channel_id: channel,
                    guild_id: guild,
                    author_id: author,
                    content: "hi",
                    nonce,
                    reply_to: None,
                },
                NOW,
                dispatch,
            )
            .await
            .unwrap();
        (row.id, created)
    }
}

async fn unique_values_conflict_by_name(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    f.user("kim").await;
    let taken = |username: &'static str, email: &'static str| NewUser {
        id: f.id(),
        username,
        email,
        display_name: None,
        password_hash: "h",
        created_at: NOW,
    };
    assert!(matches!(
        f.store.create_user(taken("kim", "other@example.com")).await,
        Err(StoreError::Conflict("username"))
    ));
    assert!(matches!(
        f.store.create_user(taken("lee", "kim@example.com")).await,
        Err(StoreError::Conflict("email"))
    ));
    let lee = f.user("lee").await;
    assert!(matches!(
        f.store
            .update_user(lee, Some("kim"), None, None, NOW, dispatch, dispatch)
            .await,
        Err(StoreError::Conflict("username"))
    ));
    let renamed = f
        .store
        .update_user(lee, None, Some(Some("이")), None, NOW, dispatch, dispatch)
        .await
        .unwrap();
    assert_eq!(renamed.display_name.as_deref(), Some("이"));
    assert_eq!(
        f.store
            .update_user(lee, None, Some(None), None, NOW, dispatch, dispatch)
            .await
            .unwrap()
            .display_name,
        None
    );
}

async fn one_nonce_one_message_even_under_races(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let owner = f.user("owner").await;
    let (guild, channel) = f.guild(owner).await;
    let sends = (0..10).map(|_| f.message(guild, channel, owner, Some("same")));
    let results = futures_util::future::join_all(sends).await;
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
    assert!(results.iter().all(|(id, _)| *id == results[0].0));
    let page = f
        .store
        .messages(channel, MessagesPage::Latest, 100)
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    // Without a nonce every send is a message.
    f.message(guild, channel, owner, None).await;
    f.message(guild, channel, owner, None).await;
    assert_eq!(
        f.store
            .messages(channel, MessagesPage::Latest, 100)
            .await
            .unwrap()
            .len(),
        3
    );
}

async fn an_invite_is_used_no_more_than_allowed_under_races(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let owner = f.user("owner").await;
    let (guild, _) = f.guild(owner).await;
    let code = f.invite(guild, owner, Some(2)).await;
    let mut joiners = Vec::new();
    for i in 0..6 {
        joiners.push(f.user(&format!("joiner{i}")).await);
    }
    let outcomes = futures_util::future::join_all(
        joiners
            .iter()
            .map(|user| f.store.accept_invite(&code, *user, NOW, join)),
    )
    .await;
    let joined = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(InviteAcceptance::Joined { .. })))
        .count();
    let used_up = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(InviteAcceptance::UsedUp)))
        .count();
    assert_eq!((joined, used_up), (2, 4), "{outcomes:?}");
    assert_eq!(f.store.invite(&code).await.unwrap().unwrap().uses, 2);
    assert_eq!(f.store.guild(guild).await.unwrap().unwrap().member_count, 3);
}

async fn a_refresh_token_rotates_once_and_reuse_revokes_the_login(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let user = f.user("kim").await;
    let session = f.id();
    f.store
        .create_login_session(session, user, "first", NOW + 1000, NOW)
        .await
        .unwrap();
    assert!(f.store.authenticate(session).await.unwrap().is_some());

    // Two refreshes racing with the same token: one rotates, the other is reuse.
    let (a, b) = tokio::join!(
        f.store
            .rotate_refresh_token("first", "second-a", NOW + 1000, NOW),
        f.store
            .rotate_refresh_token("first", "second-b", NOW + 1000, NOW),
    );
    let outcomes = [a.unwrap(), b.unwrap()];
    assert!(
        outcomes.contains(&RefreshOutcome::Rotated {
            user_id: user,
            session_id: session
        }),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&RefreshOutcome::Reused {
            user_id: user,
            session_id: session
        }),
        "{outcomes:?}"
    );
    assert!(
        f.store.authenticate(session).await.unwrap().is_none(),
        "reuse revoked the login"
    );
    for next in ["second-a", "second-b"] {
        assert_eq!(
            f.store
                .rotate_refresh_token(next, "third", NOW + 1000, NOW)
                .await
                .unwrap(),
            RefreshOutcome::Invalid
        );
    }

    let other = f.id();
    f.store
        .create_login_session(other, user, "other", NOW + 1000, NOW)
        .await
        .unwrap();
    assert_eq!(
        f.store
            .rotate_refresh_token("other", "x", NOW + 1000, NOW + 1000)
            .await
            .unwrap(),
        RefreshOutcome::Invalid,
        "expired"
    );
    assert_eq!(
        f.store
            .rotate_refresh_token("unknown", "x", NOW + 1000, NOW)
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );
}

async fn expired_and_revoked_logins_are_pruned_and_live_ones_kept(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let user = f.user("kim").await;
    let (live, expired, revoked) = (f.id(), f.id(), f.id());
    let created = NOW - 100;
    for (session, token, expires_at) in [
        (live, "live", NOW + 1000),
        (expired, "expired", NOW - 10),
        (revoked, "revoked", NOW + 1000),
    ] {
        f.store
            .create_login_session(session, user, token, expires_at, created)
            .await
            .unwrap();
    }
    f.store
        .rotate_refresh_token("live", "live-next", NOW + 1000, created)
        .await
        .unwrap();
    f.store
        .revoke_login_session(revoked, created)
        .await
        .unwrap();
    // Until pruned, an expired login's access tokens still name a session.
    assert!(f.store.authenticate(expired).await.unwrap().is_some());

    assert_eq!(f.store.prune_logins(NOW).await.unwrap(), 2);
    assert!(f.store.authenticate(expired).await.unwrap().is_none());
    assert!(f.store.authenticate(live).await.unwrap().is_some());
    // The live login's used token still gives its reuse away.
    assert_eq!(
        f.store
            .rotate_refresh_token("live", "x", NOW + 1000, NOW)
            .await
            .unwrap(),
        RefreshOutcome::Reused {
            user_id: user,
            session_id: live
        }
    );
}

async fn the_signing_secret_is_made_once(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let (a, b) = tokio::join!(
        f.store.secret("key", NOW, || "first".into()),
        f.store.secret("key", NOW, || "second".into())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a, b);
    assert_eq!(
        f.store.secret("key", NOW, || "third".into()).await.unwrap(),
        a
    );
}

async fn read_markers_move_forward_and_counts_are_capped(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let owner = f.user("owner").await;
    let reader = f.user("reader").await;
    let (guild, channel) = f.guild(owner).await;
    let code = f.invite(guild, owner, None).await;
    f.store
        .accept_invite(&code, reader, NOW - 1, join)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for _ in 0..(UNREAD_COUNT_CAP + 5) {
        ids.push(f.message(guild, channel, owner, None).await.0);
    }
    let states = f.store.read_states_of_user(reader).await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].unread_count, UNREAD_COUNT_CAP);
    assert_eq!(
        f.store.read_states_of_user(owner).await.unwrap()[0].unread_count,
        0,
        "sending marks read"
    );

    let middle = ids[ids.len() - 3];
    assert_eq!(
        f.store
            .ack(reader, channel, middle, NOW, dispatch)
            .await
            .unwrap()
            .unread_count,
        2
    );
    let state = f
        .store
        .ack(reader, channel, ids[0], NOW, dispatch)
        .await
        .unwrap();
    assert_eq!(
        (state.last_read_message_id, state.unread_count),
        (middle, 2),
        "never backwards"
    );
}

async fn deleting_cascades_and_uncategorises(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let owner = f.user("owner").await;
    let member = f.user("member").await;
    let (guild, channel) = f.guild(owner).await;
    let code = f.invite(guild, owner, None).await;
    f.store
        .accept_invite(&code, member, NOW, join)
        .await
        .unwrap();
    let category = ChannelRow {
        id: f.id(),
        guild_id: guild,
        kind: ChannelKind::Category,
        name: "c".into(),
        topic: None,
        parent_id: None,
        position: 1,
        user_limit: None,
        created_at: NOW,
    };
    f.store
        .create_channel(&category, NOW, dispatch(&()))
        .await
        .unwrap();
    let child = ChannelRow {
        id: f.id(),
        parent_id: Some(category.id),
        kind: ChannelKind::Voice,
        name: "v".into(),
        ..category.clone()
    };
    f.store
        .create_channel(&child, NOW, dispatch(&()))
        .await
        .unwrap();
    let (message, _) = f.message(guild, channel, member, None).await;
    f.store
        .ack(member, channel, message, NOW, dispatch)
        .await
        .unwrap();

    f.store
        .delete_channel(&category, NOW, dispatch(&()), dispatch)
        .await
        .unwrap();
    assert_eq!(
        f.store.channel(child.id).await.unwrap().unwrap().parent_id,
        None
    );

    let general = f.store.channel(channel).await.unwrap().unwrap();
    f.store
        .delete_channel(&general, NOW, dispatch(&()), dispatch)
        .await
        .unwrap();
    assert!(f.store.message(channel, message).await.unwrap().is_none());
    assert!(
        f.store
            .read_states_of_user(member)
            .await
            .unwrap()
            .is_empty()
    );

    f.store
        .ban(
            guild,
            member,
            Some("spam"),
            owner,
            NOW,
            |b| (dispatch(b), 0),
            removal,
        )
        .await
        .unwrap();
    assert!(
        f.store.member(guild, member).await.unwrap().is_none(),
        "a ban removes the member"
    );
    assert_eq!(
        f.store
            .accept_invite(&code, member, NOW, join)
            .await
            .unwrap(),
        InviteAcceptance::Banned
    );

    f.store
        .delete_guild(guild, NOW, dispatch(&()))
        .await
        .unwrap();
    assert!(f.store.guild(guild).await.unwrap().is_none());
    assert!(f.store.channel(child.id).await.unwrap().is_none());
    assert!(f.store.invite(&code).await.unwrap().is_none());
    assert!(f.store.ban_of(guild, member).await.unwrap().is_none());
    assert!(f.store.guilds_of_user(owner).await.unwrap().is_empty());
}

async fn ownership_transfer_swaps_roles(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let owner = f.user("owner").await;
    let heir = f.user("heir").await;
    let (guild, _) = f.guild(owner).await;
    let code = f.invite(guild, owner, None).await;
    f.store.accept_invite(&code, heir, NOW, join).await.unwrap();
    f.store
        .transfer_ownership(guild, heir, NOW, dispatch, dispatch)
        .await
        .unwrap();
    assert_eq!(f.store.guild(guild).await.unwrap().unwrap().owner_id, heir);
    assert_eq!(
        f.store.member(guild, heir).await.unwrap().unwrap().role,
        GuildRole::Owner
    );
    assert_eq!(
        f.store.member(guild, owner).await.unwrap().unwrap().role,
        GuildRole::Admin
    );
}

async fn large_ids_and_text_round_trip(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let owner = f.user("owner").await;
    let (guild, channel) = f.guild(owner).await;
    let content = "한국어 😀 text with 'quotes' and \"double\" and $1 placeholders";
    let id = i64::MAX - 7;
    let (row, _) = f
        .store
        .create_message(
            NewMessage {
                id,
                channel_id: channel,
                guild_id: guild,
                author_id: owner,
                content,
                nonce: Some("n"),
                reply_to: Some(id - 1),
            },
            NOW,
            dispatch,
        )
        .await
        .unwrap();
    assert_eq!(
        (row.id, row.content.as_str(), row.reply_to),
        (id, content, Some(id - 1))
    );
    assert_eq!(
        f.store
            .messages(channel, MessagesPage::Before(i64::MAX), 1)
            .await
            .unwrap()[0]
            .id,
        id
    );
}

/// The gateway's ordering rests on this: concurrent writers to one guild get a gap-free
/// sequence, and the log holds exactly the committed changes in that order.
async fn a_guilds_event_log_is_gap_free_under_concurrent_writers(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let owner = f.user("owner").await;
    let (guild, channel) = f.guild(owner).await;
    let before = f.store.last_seq(EventSource::Guild(guild)).await.unwrap();
    let sends = (0..20).map(|_| f.message(guild, channel, owner, None));
    let sent: Vec<i64> = futures_util::future::join_all(sends)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let last = f.store.last_seq(EventSource::Guild(guild)).await.unwrap();
    assert_eq!(last - before, 20);
    let events = f
        .store
        .events(EventSource::Guild(guild), before, last)
        .await
        .unwrap();
    let seqs: Vec<i64> = events.iter().map(LoggedEvent::seq).collect();
    assert_eq!(
        seqs,
        ((before + 1)..=last).collect::<Vec<_>>(),
        "no gaps, in order"
    );
    assert_eq!(events.len(), sent.len());
}

async fn voice_states_follow_calls_and_announce_each_change(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let owner = f.user("owner").await;
    let (first, first_channel) = f.guild(owner).await;
    let (second, second_channel) = f.guild(owner).await;
    let stream = f.id();
    let state = |guild_id, channel_id, participant_id, refreshed_at| VoiceStateRow {
        user_id: owner,
        guild_id,
        channel_id,
        participant_id,
        stream_id: stream,
        flags: VoiceFlags {
            self_mute: true,
            ..VoiceFlags::default()
        },
        server_mute: false,
        refreshed_at,
    };
    let logged = |guild| f.store.last_seq(EventSource::Guild(guild));
    let first_before = logged(first).await.unwrap();

    let joined = f
        .store
        .put_voice_state(&state(first, first_channel, 1, NOW), dispatch, dispatch)
        .await
        .unwrap();
    assert!(joined.flags.self_mute && !joined.server_mute);
    assert_eq!(logged(first).await.unwrap(), first_before + 1);

    // The moderator's mute lives on the membership and shows in the state.
    let muted = f
        .store
        .set_server_mute(first, owner, true, NOW, dispatch)
        .await
        .unwrap()
        .expect("in voice");
    assert!(muted.server_mute);
    assert!(f.store.member_server_muted(first, owner).await.unwrap());
    assert_eq!(
        f.store
            .set_server_mute(second, owner, true, NOW, dispatch)
            .await
            .unwrap(),
        None,
        "not in the second guild's voice channels"
    );

    // Moving to another guild's channel announces the departure in the first guild.
    let second_before = logged(second).await.unwrap();
    f.store
        .put_voice_state(&state(second, second_channel, 2, NOW), dispatch, dispatch)
        .await
        .unwrap();
    assert_eq!(logged(first).await.unwrap(), first_before + 3);
    assert_eq!(logged(second).await.unwrap(), second_before + 1);
    assert!(
        f.store
            .voice_states_of_guild(first)
            .await
            .unwrap()
            .is_empty()
    );

    // A late departure of the old call changes nothing; the current call's flags change.
    assert_eq!(
        f.store
            .remove_voice_state(owner, 1, NOW, dispatch)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        f.store
            .update_voice_flags(owner, 1, VoiceFlags::default(), NOW, dispatch)
            .await
            .unwrap(),
        None
    );
    let updated = f
        .store
        .update_voice_flags(owner, 2, VoiceFlags::default(), NOW, dispatch)
        .await
        .unwrap()
        .expect("the current call");
    assert!(!updated.flags.self_mute);

    // Rows a node stopped refreshing are stale; refreshing keeps them fresh.
    assert_eq!(f.store.stale_voice_states(NOW + 1).await.unwrap().len(), 1);
    f.store
        .refresh_voice_states(stream, NOW + 10)
        .await
        .unwrap();
    assert!(
        f.store
            .stale_voice_states(NOW + 1)
            .await
            .unwrap()
            .is_empty()
    );
    let removed = f
        .store
        .remove_voice_state(owner, 2, NOW, dispatch)
        .await
        .unwrap()
        .expect("removed");
    assert_eq!(removed.channel_id, second_channel);
    assert_eq!(f.store.voice_state(owner).await.unwrap(), None);
    assert_eq!(logged(second).await.unwrap(), second_before + 3);
}

/// Announces a new message with its id as the payload, so a test can match events to posts.
/// Two nodes sweeping the same stopped node's calls at once announce each departure once.
/// Only PostgreSQL: SQLite serves one node, whose single write connection takes the removals
/// one after the other.
#[tokio::test]
async fn two_nodes_removing_one_call_announce_one_departure() {
    let Some(f) = fixture(TestBackend::Postgres).await else {
        return;
    };
    let owner = f.user("owner").await;
    let (guild, channel) = f.guild(owner).await;
    let other_node = Store::connect(&f.url).await.unwrap();
    let stream = f.id();
    for participant_id in 0..20 {
        let call = VoiceStateRow {
            user_id: owner,
            guild_id: guild,
            channel_id: channel,
            participant_id,
            stream_id: stream,
            flags: VoiceFlags::default(),
            server_mute: false,
            refreshed_at: NOW,
        };
        f.store
            .put_voice_state(&call, dispatch, dispatch)
            .await
            .unwrap();
        let before = f.store.last_seq(EventSource::Guild(guild)).await.unwrap();
        let (here, there) = tokio::join!(
            f.store
                .remove_voice_state(owner, participant_id, NOW, dispatch),
            other_node.remove_voice_state(owner, participant_id, NOW, dispatch),
        );
        let removals = [here.unwrap(), there.unwrap()];
        assert_eq!(removals.iter().flatten().count(), 1, "{removals:?}");
        assert_eq!(
            f.store.last_seq(EventSource::Guild(guild)).await.unwrap(),
            before + 1
        );
    }
}

fn created_with_id(row: &MessageRow) -> Dispatch {
    Dispatch::new("MESSAGE_CREATE", row.id.to_string())
}

fn new_message(id: i64, guild: i64, channel: i64, author: i64) -> NewMessage<'static> {
    NewMessage {
        id,
        channel_id: channel,
        guild_id: guild,
        author_id: author,
        content: "hi",
        nonce: None,
        reply_to: None,
    }
}

/// Posts from many tasks at once go through the message writer in batches; each is
/// answered only after its batch committed. Each message is announced once, the guild's
/// sequence numbers are unique and gap-free, the events reach the sink in that order, and
/// every acknowledged message is in the database (read back through a new connection).
async fn concurrent_posts_commit_in_order_with_gap_free_sequence_numbers(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let owner = f.user("owner").await;
    let (guild, channel) = f.guild(owner).await;
    let before = f.store.last_seq(EventSource::Guild(guild)).await.unwrap();
    let (sink, mut published) = tokio::sync::mpsc::unbounded_channel();
    let store = f.store.clone().with_event_sink(sink);
    let posts: Vec<_> = (0..300)
        .map(|_| {
            let store = store.clone();
            let message = new_message(f.id(), guild, channel, owner);
            tokio::spawn(async move { store.create_message(message, NOW, created_with_id).await })
        })
        .collect();
    let mut acknowledged = std::collections::HashSet::new();
    for post in posts {
        let (row, created) = post.await.unwrap().expect("posted");
        assert!(created);
        assert!(acknowledged.insert(row.id));
    }

    let mut announced = Vec::new();
    while let Ok(event) = published.try_recv() {
        let LoggedEvent::Guild(event) = event else {
            panic!("a post announces to its guild: {event:?}");
        };
        announced.push((event.seq, event.dispatch.payload.parse::<i64>().unwrap()));
    }
    let seqs: Vec<i64> = announced.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        seqs,
        ((before + 1)..=(before + 300)).collect::<Vec<_>>(),
        "published in order, no gaps, no repeats"
    );
    let announced_ids: std::collections::HashSet<i64> =
        announced.iter().map(|(_, id)| *id).collect();
    assert_eq!(announced_ids, acknowledged, "each message announced once");
    assert_eq!(
        f.store.last_seq(EventSource::Guild(guild)).await.unwrap(),
        before + 300
    );
    let logged = f
        .store
        .events(EventSource::Guild(guild), before, before + 300)
        .await
        .unwrap();
    assert_eq!(
        logged
            .iter()
            .map(|event| {
                let LoggedEvent::Guild(event) = event else {
                    panic!("{event:?}")
                };
                (event.seq, event.dispatch.payload.parse::<i64>().unwrap())
            })
            .collect::<Vec<_>>(),
        announced,
        "the log holds what was published"
    );

    let reader = Store::connect(&f.url).await.unwrap();
    for id in &acknowledged {
        assert!(
            reader.message(channel, *id).await.unwrap().is_some(),
            "acknowledged message {id} is stored"
        );
    }
    reader.close().await;
    // The author has read everything they wrote.
    let states = f.store.read_states_of_user(owner).await.unwrap();
    assert_eq!(
        states[0].last_read_message_id,
        *acknowledged.iter().max().unwrap()
    );
}

/// Two nodes on one database post to one guild at once: each node's writer bumps the
/// guild's counter once per batch, and the numbers stay unique and gap-free.
async fn two_nodes_posting_to_one_guild_share_one_gap_free_sequence(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let owner = f.user("owner").await;
    let (guild, channel) = f.guild(owner).await;
    let before = f.store.last_seq(EventSource::Guild(guild)).await.unwrap();
    let other_node = Store::connect(&f.url).await.unwrap();
    let nodes = [f.store.clone(), other_node.clone()];
    let posts: Vec<_> = (0..200)
        .map(|i| {
            let store = nodes[i % 2].clone();
            let message = new_message(f.id(), guild, channel, owner);
            tokio::spawn(async move { store.create_message(message, NOW, created_with_id).await })
        })
        .collect();
    let mut acknowledged = std::collections::HashSet::new();
    for post in posts {
        acknowledged.insert(post.await.unwrap().expect("posted").0.id);
    }
    let last = f.store.last_seq(EventSource::Guild(guild)).await.unwrap();
    assert_eq!(last - before, 200);
    let logged = f
        .store
        .events(EventSource::Guild(guild), before, last)
        .await
        .unwrap();
    assert_eq!(
        logged.iter().map(LoggedEvent::seq).collect::<Vec<_>>(),
        ((before + 1)..=last).collect::<Vec<_>>()
    );
    let logged_ids: std::collections::HashSet<i64> = logged
        .iter()
        .map(|event| match event {
            LoggedEvent::Guild(event) => event.dispatch.payload.parse().unwrap(),
            LoggedEvent::User(_) => panic!("{event:?}"),
        })
        .collect();
    assert_eq!(logged_ids, acknowledged);
    other_node.close().await;
}

/// A post that cannot be stored fails with an error and takes no other post of its batch
/// down with it; a store whose database is gone fails every post, none hangs.
async fn a_failing_post_fails_alone_and_a_closed_store_fails_every_post(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let owner = f.user("owner").await;
    let (guild, channel) = f.guild(owner).await;
    let before = f.store.last_seq(EventSource::Guild(guild)).await.unwrap();
    let nobody = f.id();
    let posts: Vec<_> = (0..40)
        .map(|i| {
            let store = f.store.clone();
            let author = if i == 20 { nobody } else { owner };
            let message = new_message(f.id(), guild, channel, author);
            tokio::spawn(async move { store.create_message(message, NOW, created_with_id).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for post in posts {
        outcomes.push(post.await.unwrap());
    }
    assert!(
        matches!(outcomes[20], Err(StoreError::Database(_))),
        "an author who does not exist: {:?}",
        outcomes[20]
    );
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 39);
    let last = f.store.last_seq(EventSource::Guild(guild)).await.unwrap();
    assert_eq!(last - before, 39, "the failed post took no sequence number");
    let logged = f
        .store
        .events(EventSource::Guild(guild), before, last)
        .await
        .unwrap();
    assert_eq!(
        logged.iter().map(LoggedEvent::seq).collect::<Vec<_>>(),
        ((before + 1)..=last).collect::<Vec<_>>()
    );

    f.store.close().await;
    let posts: Vec<_> = (0..20)
        .map(|_| {
            let store = f.store.clone();
            let message = new_message(f.id(), guild, channel, owner);
            tokio::spawn(async move { store.create_message(message, NOW, created_with_id).await })
        })
        .collect();
    let outcomes = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        futures_util::future::join_all(posts),
    )
    .await
    .expect("every post is answered");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Ok(Err(StoreError::Database(_))))),
        "{outcomes:?}"
    );
}

async fn one_node_wins_the_claim_on_a_voice_channel(backend: TestBackend) {
    let Some(f) = fixture(backend).await else {
        return;
    };
    let owner = f.user("owner").await;
    let (_, channel) = f.guild(owner).await;
    let stale_before = NOW - 60_000;
    // Eight nodes claim the empty channel at once: all learn the same single winner.
    let nodes: Vec<i64> = (0..8).map(|_| f.id()).collect();
    let claims = nodes.iter().map(|node| {
        f.store
            .claim_voice_channel(channel, *node, NOW, stale_before)
    });
    let holders: Vec<i64> = futures_util::future::join_all(claims)
        .await
        .into_iter()
        .map(|holder| holder.unwrap())
        .collect();
    let winner = holders[0];
    assert!(nodes.contains(&winner));
    assert!(holders.iter().all(|h| *h == winner), "{holders:?}");
    let other = *nodes.iter().find(|n| **n != winner).unwrap();

    // The holder keeps it while its hold is fresh (a hold without calls is not refreshed);
    // another node's release does nothing.
    f.store.refresh_voice_states(winner, NOW + 5).await.unwrap();
    f.store.release_voice_channel(channel, other).await.unwrap();
    let later = f
        .store
        .claim_voice_channel(channel, other, NOW + 10, stale_before + 10);
    assert_eq!(later.await.unwrap(), winner);
    let live_holder = |stale_before| f.store.live_voice_channel_holder(channel, stale_before);
    // Claimed at NOW (without calls, the refresh left it alone).
    assert_eq!(live_holder(NOW).await.unwrap(), Some(winner));
    assert_eq!(live_holder(NOW + 1).await.unwrap(), None, "lapsed");

    // A holder not refreshed for a minute has stopped: the next claim takes over.
    let takeover = f
        .store
        .claim_voice_channel(channel, other, NOW + 70_000, NOW + 10_000)
        .await
        .unwrap();
    assert_eq!(takeover, other);

    // Released when its call empties, the channel goes to the next claimant.
    f.store.release_voice_channel(channel, other).await.unwrap();
    assert_eq!(live_holder(0).await.unwrap(), None);
    let next = f
        .store
        .claim_voice_channel(channel, winner, NOW + 70_001, NOW + 10_001)
        .await
        .unwrap();
    assert_eq!(next, winner);
}

on_both_backends!(
    one_node_wins_the_claim_on_a_voice_channel,
    concurrent_posts_commit_in_order_with_gap_free_sequence_numbers,
    two_nodes_posting_to_one_guild_share_one_gap_free_sequence,
    a_failing_post_fails_alone_and_a_closed_store_fails_every_post,
    voice_states_follow_calls_and_announce_each_change,
    a_guilds_event_log_is_gap_free_under_concurrent_writers,
    unique_values_conflict_by_name,
    one_nonce_one_message_even_under_races,
    an_invite_is_used_no_more_than_allowed_under_races,
    a_refresh_token_rotates_once_and_reuse_revokes_the_login,
    expired_and_revoked_logins_are_pruned_and_live_ones_kept,
    the_signing_secret_is_made_once,
    read_markers_move_forward_and_counts_are_capped,
    deleting_cascades_and_uncategorises,
    ownership_transfer_swaps_roles,
    large_ids_and_text_round_trip,
);
