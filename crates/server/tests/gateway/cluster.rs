//! Several nodes in one process, on one PostgreSQL database and one NATS server: users on
//! different nodes see each other's messages, typing and presence, and a session resumes
//! on another node than the one it started on. (Killing a node is tested with real
//! processes in the `madang` crate.)

use reqwest::StatusCode;
use serde_json::json;

use super::client::Client;
use super::common::{Backend, TestApp, spawn_app_with};

/// `count` nodes sharing a fresh PostgreSQL database and a cluster name of their own.
async fn cluster(count: u16) -> Option<Vec<TestApp>> {
    let nats = madang_bus::testing::nats_url("the in-process cluster tests")?;
    let database_dir = tempfile::tempdir().expect("temporary directory");
    let database =
        madang_store::testing::fresh_database_url(Backend::Postgres, database_dir.path()).await?;
    let cluster_name = format!("test-{:016x}", rand::random::<u64>());
    let mut nodes = Vec::new();
    for node_id in 1..=count {
        let node = spawn_app_with(Backend::Postgres, |config| {
            config.database_url = database.clone();
            config.bus_url = nats.clone();
            config.node_id = node_id;
            config.gateway.cluster_name = cluster_name.clone();
        })
        .await?;
        nodes.push(node);
    }
    Some(nodes)
}

#[tokio::test]
async fn users_on_different_nodes_see_each_other() {
    let Some(nodes) = cluster(2).await else {
        return;
    };
    let (a, b) = (&nodes[0], &nodes[1]);
    let kim = a.register("kim").await;
    let lee = b.register("lee").await;
    let (guild, general) = a.create_guild(&kim, "Across").await;
    b.join(&guild, &kim, &lee).await;
    let mut lee_client = Client::connect_and_identify(b.address, &lee.token).await;
    let mut kim_client = Client::connect_and_identify(a.address, &kim.token).await;
    let online = lee_client.expect("PRESENCE_UPDATE").await;
    assert_eq!(online, json!({"user_id": kim.id, "status": "online"}));
    // Presence known cluster-wide also shows in READY.
    let mut again = Client::connect(b.address).await;
    let ready = again.identify(&lee.token).await;
    let presences = ready["guilds"][0]["presences"].as_array().unwrap().clone();
    assert!(
        presences.contains(&json!({"user_id": kim.id, "status": "online"})),
        "{presences:?}"
    );

    let sent = a
        .post(
            &format!("/api/channels/{general}/messages"),
            &kim.token,
            json!({"content": "from a"}),
        )
        .await;
    let id = sent.expect(StatusCode::CREATED)["id"].clone();
    assert_eq!(lee_client.expect("MESSAGE_CREATE").await["id"], id);
    assert_eq!(kim_client.expect("MESSAGE_CREATE").await["id"], id);
    let sent = b
        .post(
            &format!("/api/channels/{general}/messages"),
            &lee.token,
            json!({"content": "from b"}),
        )
        .await;
    let id = sent.expect(StatusCode::CREATED)["id"].clone();
    assert_eq!(kim_client.expect("MESSAGE_CREATE").await["id"], id);

    lee_client
        .send(json!({"op": "typing", "d": {"channel_id": general}}))
        .await;
    assert_eq!(
        kim_client.expect("TYPING_START").await["user_id"],
        lee.id.as_str()
    );
    for node in nodes {
        node.stop().await;
    }
}

#[tokio::test]
async fn a_session_resumes_on_another_node() {
    let Some(nodes) = cluster(2).await else {
        return;
    };
    let (a, b) = (&nodes[0], &nodes[1]);
    let kim = a.register("kim").await;
    let lee = a.register("lee").await;
    let (guild, general) = a.create_guild(&kim, "Across").await;
    a.join(&guild, &kim, &lee).await;
    let mut client = Client::connect_and_identify(a.address, &lee.token).await;
    let mut sent = Vec::new();
    for i in 0..6 {
        let reply = b
            .post(
                &format!("/api/channels/{general}/messages"),
                &kim.token,
                json!({"content": format!("m{i}")}),
            )
            .await;
        sent.push(
            reply.expect(StatusCode::CREATED)["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for id in &sent[..3] {
        assert_eq!(client.expect("MESSAGE_CREATE").await["id"], id.as_str());
    }
    let (mut client, replayed) = client.resume(b.address, &lee.token).await;
    let replayed: Vec<String> = replayed
        .iter()
        .map(|d| d.d["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(replayed, sent[3..]);
    let reply = a
        .post(
            &format!("/api/channels/{general}/messages"),
            &kim.token,
            json!({"content": "later"}),
        )
        .await;
    let id = reply.expect(StatusCode::CREATED)["id"].clone();
    assert_eq!(client.expect("MESSAGE_CREATE").await["id"], id);
    for node in nodes {
        node.stop().await;
    }
}

/// Nodes remember live logins, but a logout still ends the login at once where it was made,
/// and on another node as soon as the bus tells it (seen here by its gateway session of
/// that login closing), although that node had just accepted the same token.
#[tokio::test]
async fn a_logout_is_refused_at_once_on_every_node() {
    let Some(nodes) = cluster(2).await else {
        return;
    };
    let (a, b) = (&nodes[0], &nodes[1]);
    let kim = a.register("kim").await;
    for node in [a, b] {
        node.get("/api/users/@me", &kim.token)
            .await
            .expect(StatusCode::OK);
    }
    let mut on_b = Client::connect_and_identify(b.address, &kim.token).await;
    a.call(
        reqwest::Method::POST,
        "/api/auth/logout",
        Some(&kim.token),
        None,
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    a.get("/api/users/@me", &kim.token)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(on_b.closed().await, Some(4004));
    b.get("/api/users/@me", &kim.token)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    for node in nodes {
        node.stop().await;
    }
}
