//! Ordering and resume on one node: `s` goes up by one, every receiver sees a channel's
//! messages in commit order, and a dropped connection resumes with nothing missed and
//! nothing twice.

use std::collections::HashSet;

use madang_store::{EventSource, LoggedEvent};
use reqwest::StatusCode;
use serde_json::json;

use super::client::{Client, Frame};
use super::common::{Backend, TestApp, spawn_app};
use madang_store::on_both_backends;

async fn send(app: &TestApp, token: &str, channel: &str, content: &str) -> String {
    let reply = app
        .post(
            &format!("/api/channels/{channel}/messages"),
            token,
            json!({"content": content}),
        )
        .await;
    reply.expect(StatusCode::CREATED)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The ids of a guild's MESSAGE_CREATE events in the order their transactions committed.
pub async fn committed_messages(store: &madang_store::Store, guild_id: &str) -> Vec<String> {
    let source = EventSource::Guild(guild_id.parse().unwrap());
    let last = store.last_seq(source).await.unwrap();
    store
        .events(source, 0, last)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|event| match event {
            LoggedEvent::Guild(e) if e.dispatch.event_type == "MESSAGE_CREATE" => {
                let payload: serde_json::Value = serde_json::from_str(&e.dispatch.payload).unwrap();
                Some(payload["id"].as_str().unwrap().to_owned())
            }
            _ => None,
        })
        .collect()
}

async fn resume_replays_exactly_what_was_missed(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kim = app.register("kim").await;
    let lee = app.register("lee").await;
    let (guild, general) = app.create_guild(&kim, "Study group").await;
    app.join(&guild, &kim, &lee).await;
    let mut client = Client::connect_and_identify(app.address, &lee.token).await;
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(send(&app, &kim.token, &general, &format!("m{i}")).await);
    }
    for id in &sent[..2] {
        assert_eq!(client.expect("MESSAGE_CREATE").await["id"], id.as_str());
    }
    let seen = client.seq;
    for i in 5..10 {
        sent.push(send(&app, &kim.token, &general, &format!("m{i}")).await);
    }
    let (mut client, replayed) = client.resume(app.address, &lee.token).await;
    let replayed_ids: Vec<&str> = replayed
        .iter()
        .map(|d| d.d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        replayed_ids,
        sent[2..].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(replayed[0].s, Some(seen + 1));
    let live = send(&app, &kim.token, &general, "live").await;
    assert_eq!(client.expect("MESSAGE_CREATE").await["id"], live.as_str());
    app.stop().await;
}

async fn bad_sessions_and_sequences_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kim = app.register("kim").await;
    let mut client = Client::connect(app.address).await;
    client
        .send(json!({"op": "resume", "d": {"token": kim.token, "session_id": "12345", "seq": 0}}))
        .await;
    assert_eq!(
        client.json().await,
        json!({"op": "invalid_session", "d": {"resumable": false}})
    );
    // The same connection may identify after an invalid session.
    client.identify(&kim.token).await;
    let session_id = client.session_id.clone().unwrap();
    drop(client);
    let mut client = Client::connect(app.address).await;
    client
        .send(
            json!({"op": "resume", "d": {"token": kim.token, "session_id": session_id, "seq": 7}}),
        )
        .await;
    assert_eq!(client.closed().await, Some(4007));
    // Another user's session cannot be resumed.
    let lee = app.register("lee").await;
    let mut client = Client::connect(app.address).await;
    client
        .send(
            json!({"op": "resume", "d": {"token": lee.token, "session_id": session_id, "seq": 0}}),
        )
        .await;
    match client.frame().await {
        Frame::Json(frame) => assert_eq!(frame["op"], "invalid_session"),
        Frame::Closed(code) => panic!("closed with {code:?}"),
    }
    app.stop().await;
}

/// Several senders at once, receivers that drop their connections at random points and
/// resume: every receiver ends with every message exactly once, in commit order.
async fn random_drops_resume_without_gaps_or_duplicates(backend: Backend) {
    const SENDERS: usize = 3;
    const RECEIVERS: usize = 6;
    const PER_SENDER: usize = 40;
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.register("owner").await;
    let (guild, general) = app.create_guild(&owner, "Busy").await;
    let mut senders = Vec::new();
    for i in 0..SENDERS {
        let user = app.register(&format!("sender{i}")).await;
        app.join(&guild, &owner, &user).await;
        senders.push(user);
    }
    let mut receivers = Vec::new();
    for i in 0..RECEIVERS {
        let user = app.register(&format!("receiver{i}")).await;
        app.join(&guild, &owner, &user).await;
        let client = Client::connect_and_identify(app.address, &user.token).await;
        receivers.push((user, client));
    }
    let app = std::sync::Arc::new(app);
    let total = SENDERS * PER_SENDER;
    let mut receiving = Vec::new();
    for (index, (user, mut client)) in receivers.into_iter().enumerate() {
        let app = app.clone();
        receiving.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            let mut drops = 0;
            while ids.len() < total {
                let dispatch = client.next_sequenced().await;
                if dispatch.t != "MESSAGE_CREATE" {
                    continue;
                }
                ids.push(dispatch.d["id"].as_str().unwrap().to_owned());
                // Drop at pseudo-random points, differently for each receiver.
                if (ids.len() * 7 + index * 13) % 23 == 0 {
                    drops += 1;
                    let (resumed, replayed) = client.resume(app.address, &user.token).await;
                    client = resumed;
                    for dispatch in replayed.into_iter().filter(|d| d.t == "MESSAGE_CREATE") {
                        ids.push(dispatch.d["id"].as_str().unwrap().to_owned());
                    }
                }
            }
            (ids, drops)
        }));
    }
    let mut sending = Vec::new();
    for (i, sender) in senders.into_iter().enumerate() {
        let app = app.clone();
        let general = general.clone();
        sending.push(tokio::spawn(async move {
            for n in 0..PER_SENDER {
                send(&app, &sender.token, &general, &format!("{i}-{n}")).await;
            }
        }));
    }
    for task in sending {
        task.await.unwrap();
    }
    let committed = committed_messages(&app.store, &guild).await;
    assert_eq!(committed.len(), total);
    for task in receiving {
        let (ids, drops) = task.await.unwrap();
        assert!(drops > 0, "every receiver dropped at least once");
        assert_eq!(ids.len(), total, "no duplicates beyond the total");
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            total,
            "no duplicates"
        );
        assert_eq!(ids, committed, "commit order, no gaps");
    }
    if let Ok(app) = std::sync::Arc::try_unwrap(app) {
        app.stop().await;
    }
}

on_both_backends!(
    resume_replays_exactly_what_was_missed,
    bad_sessions_and_sequences_are_refused,
    random_drops_resume_without_gaps_or_duplicates
);
