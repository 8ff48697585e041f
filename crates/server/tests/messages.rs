//! Messages, history pages, idempotent sends and read states over HTTP.

mod common;

use madang_store::on_both_backends;

use common::{Backend, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn contents(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

async fn two_people_chat_and_a_stranger_sees_nothing(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let stranger = app.register("stranger").await;
    let (guild_id, channel) = app.create_guild(&alice, "Guild").await;
    app.join(&guild_id, &alice, &bob).await;
    let messages = format!("/api/channels/{channel}/messages");

    let hello = app
        .post(
            &messages,
            &alice.token,
            json!({"content": "  **안녕** bob  "}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(hello["content"], "**안녕** bob");
    assert_eq!(hello["author"]["username"], "alice");
    assert_eq!(hello["guild_id"], guild_id.as_str());
    assert!(hello["edited_at"].is_null());
    assert!(hello.get("nonce").is_none());
    let hello_id = hello["id"].as_str().unwrap().to_owned();
    let reply = app
        .post(
            &messages,
            &bob.token,
            json!({"content": "hi alice", "reply_to": hello_id}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(reply["reply_to"], hello_id.as_str());

    let history = app.get(&messages, &bob.token).await.expect(StatusCode::OK);
    assert_eq!(
        contents(&history),
        ["hi alice", "**안녕** bob"],
        "newest first"
    );

    let one = format!("{messages}/{hello_id}");
    app.patch(&one, &bob.token, json!({"content": "hijacked"}))
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    let edited = app
        .patch(&one, &alice.token, json!({"content": "안녕하세요"}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(edited["content"], "안녕하세요");
    assert!(edited["edited_at"].is_string());
    assert_eq!(
        app.get(&one, &bob.token).await.expect(StatusCode::OK)["content"],
        "안녕하세요"
    );

    // A stranger gets 404 for everything in the guild, exactly as if it did not exist.
    app.get(&messages, &stranger.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&messages, &stranger.token, json!({"content": "let me in"}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.get(&one, &stranger.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.patch(&one, &stranger.token, json!({"content": "x"}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&one, &stranger.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(
        &format!("/api/channels/{channel}/ack"),
        &stranger.token,
        json!({"message_id": hello_id}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");

    // Deleting: the author, or an admin for anyone's message.
    let reply_path = format!("{messages}/{}", reply["id"].as_str().unwrap());
    app.delete(&one, &bob.token)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    app.delete(&reply_path, &alice.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    app.delete(&one, &alice.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    app.get(&one, &alice.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.get(&messages, &bob.token).await.expect(StatusCode::OK),
        json!([])
    );
    app.stop().await;
}

async fn content_rules(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let alice = app.register("alice").await;
    let (guild_id, channel) = app.create_guild(&alice, "Guild").await;
    let messages = format!("/api/channels/{channel}/messages");
    let longest = "가".repeat(4000);
    assert_eq!(
        app.post(&messages, &alice.token, json!({"content": longest}))
            .await
            .expect(StatusCode::CREATED)["content"],
        longest
    );
    for bad in [
        json!({"content": "가".repeat(4001)}),
        json!({"content": " \n "}),
        json!({"content": "x", "nonce": ""}),
        json!({"content": "x", "reply_to": "12345"}),
    ] {
        app.post(&messages, &alice.token, bad)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    app.post(&messages, &alice.token, json!({"content": 5}))
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.post(
        &messages,
        &alice.token,
        json!({"content": "<script>alert(1)</script>"}),
    )
    .await
    .expect(StatusCode::CREATED);
    assert_eq!(
        app.get(&messages, &alice.token)
            .await
            .expect(StatusCode::OK)[0]["content"],
        "<script>alert(1)</script>",
        "stored raw, never rendered"
    );

    let channels = app
        .get(&format!("/api/guilds/{guild_id}/channels"), &alice.token)
        .await
        .expect(StatusCode::OK);
    let voice = channels
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "voice")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/channels/{voice}/messages"),
        &alice.token,
        json!({"content": "x"}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.stop().await;
}

async fn a_nonce_makes_sending_idempotent(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let (guild_id, channel) = app.create_guild(&alice, "Guild").await;
    app.join(&guild_id, &alice, &bob).await;
    let messages = format!("/api/channels/{channel}/messages");

    let first = app
        .post(
            &messages,
            &alice.token,
            json!({"content": "once", "nonce": "n-1"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(first["nonce"], "n-1");
    let retry = app
        .post(
            &messages,
            &alice.token,
            json!({"content": "once (retry)", "nonce": "n-1"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(retry["id"], first["id"]);
    assert_eq!(retry["content"], "once");
    // The same nonce from someone else is a different message.
    app.post(
        &messages,
        &bob.token,
        json!({"content": "mine", "nonce": "n-1"}),
    )
    .await
    .expect(StatusCode::CREATED);

    // Racing retries of one send still store one message.
    let sends = (0..8).map(|_| {
        app.post(
            &messages,
            &alice.token,
            json!({"content": "raced", "nonce": "n-race"}),
        )
    });
    let replies = futures_util::future::join_all(sends).await;
    let ids: std::collections::HashSet<String> = replies
        .iter()
        .map(|r| r.body["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count(),
        1
    );
    let history = app
        .get(&messages, &alice.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(contents(&history), ["raced", "mine", "once"]);
    app.stop().await;
}

async fn history_pages(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let alice = app.register("alice").await;
    let (_, channel) = app.create_guild(&alice, "Guild").await;
    let messages = format!("/api/channels/{channel}/messages");
    let mut ids = Vec::new();
    for i in 0..30 {
        let message = app
            .post(&messages, &alice.token, json!({"content": format!("m{i}")}))
            .await
            .expect(StatusCode::CREATED);
        ids.push(message["id"].as_str().unwrap().to_owned());
    }
    let page = |query: String| {
        let app = &app;
        let token = alice.token.clone();
        let path = format!("{messages}?{query}");
        async move { contents(&app.get(&path, &token).await.expect(StatusCode::OK)) }
    };
    let expect = |range: std::ops::RangeInclusive<usize>| {
        range.rev().map(|i| format!("m{i}")).collect::<Vec<_>>()
    };

    assert_eq!(page("limit=5".into()).await, expect(25..=29));
    assert_eq!(
        page(format!("before={}&limit=5", ids[25])).await,
        expect(20..=24)
    );
    assert_eq!(
        page(format!("after={}&limit=5", ids[4])).await,
        expect(5..=9)
    );
    assert_eq!(
        page(format!("around={}&limit=5", ids[10])).await,
        expect(8..=12)
    );
    assert_eq!(
        page(format!("around={}&limit=4", ids[10])).await,
        expect(8..=11),
        "older half gets the odd one"
    );
    assert_eq!(
        page(format!("before={}", ids[0])).await,
        Vec::<String>::new()
    );
    assert_eq!(page(String::new()).await.len(), 30);

    for bad in ["limit=0", "limit=101"] {
        app.get(&format!("{messages}?{bad}"), &alice.token)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    app.get(
        &format!("{messages}?before={}&after={}", ids[1], ids[0]),
        &alice.token,
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    for bad in ["before=abc", "limit=x", "sort=asc"] {
        app.get(&format!("{messages}?{bad}"), &alice.token)
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_parameter");
    }
    app.stop().await;
}

async fn read_states_count_what_is_unread(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let (guild_id, channel) = app.create_guild(&alice, "Guild").await;
    let messages = format!("/api/channels/{channel}/messages");
    for i in 0..3 {
        app.post(
            &messages,
            &alice.token,
            json!({"content": format!("before bob {i}")}),
        )
        .await
        .expect(StatusCode::CREATED);
    }
    app.join(&guild_id, &alice, &bob).await;
    let unread = |user: &common::TestUser| {
        let app = &app;
        let token = user.token.clone();
        let channel = channel.clone();
        async move {
            let states = app
                .get("/api/users/@me/read-states", &token)
                .await
                .expect(StatusCode::OK);
            states
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["channel_id"] == channel.as_str())
                .unwrap()["unread_count"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(
        unread(&bob).await,
        0,
        "history from before joining is not unread"
    );

    let mut last = String::new();
    for i in 0..4 {
        let message = app
            .post(
                &messages,
                &alice.token,
                json!({"content": format!("new {i}")}),
            )
            .await
            .expect(StatusCode::CREATED);
        last = message["id"].as_str().unwrap().to_owned();
    }
    assert_eq!(unread(&bob).await, 4);
    assert_eq!(unread(&alice).await, 0, "your own messages are read");

    let history = app.get(&messages, &bob.token).await.expect(StatusCode::OK);
    let second_newest = history[1]["id"].as_str().unwrap().to_owned();
    let ack = format!("/api/channels/{channel}/ack");
    let state = app
        .post(&ack, &bob.token, json!({"message_id": second_newest}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(state["unread_count"], 1);
    assert_eq!(state["last_read_message_id"], second_newest.as_str());
    let state = app
        .post(&ack, &bob.token, json!({"message_id": history[3]["id"]}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        state["last_read_message_id"],
        second_newest.as_str(),
        "the marker never moves back"
    );
    app.post(&ack, &bob.token, json!({"message_id": last}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(unread(&bob).await, 0);
    app.post(&ack, &bob.token, json!({"message_id": "42"}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&ack, &bob.token, json!({"message_id": 42}))
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_json");
    app.stop().await;
}

on_both_backends!(
    two_people_chat_and_a_stranger_sees_nothing,
    content_rules,
    a_nonce_makes_sending_idempotent,
    history_pages,
    read_states_count_what_is_unread,
);

/// PostgreSQL cannot store U+0000: it must be a clear 422 on both backends, never a 5xx.
async fn nul_characters_are_refused_not_crashed_on(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let alice = app.register("alice").await;
    let (guild_id, channel) = app.create_guild(&alice, "Guild").await;
    app.post(
        &format!("/api/channels/{channel}/messages"),
        &alice.token,
        json!({"content": "a\u{0}b"}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.patch(
        &format!("/api/guilds/{guild_id}"),
        &alice.token,
        json!({"name": "nul\u{0}name"}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.call(
        reqwest::Method::POST,
        "/api/auth/login",
        None,
        Some(json!({"login": "alice\u{0}", "password": common::PASSWORD})),
    )
    .await
    .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    app.call(reqwest::Method::GET, "/api/invites/bad%00code", None, None)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.stop().await;
}

on_both_backends!(nul_characters_are_refused_not_crashed_on);
