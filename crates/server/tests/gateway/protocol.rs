//! hello / identify / READY, heartbeats, and every close code.

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::client::Client;
use super::common::{Backend, spawn_app, spawn_app_with};

#[tokio::test]
async fn hello_identify_ready_and_heartbeat() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let kim = app.register("kim").await;
    let (guild_id, general) = app.create_guild(&kim, "Study group").await;
    let mut client = Client::connect(app.address).await;
    assert_eq!(client.heartbeat_interval_ms, 41_250);
    // A heartbeat is allowed before identifying.
    client
        .send(json!({"op": "heartbeat", "d": {"seq": null}}))
        .await;
    assert_eq!(client.json().await["op"], "heartbeat_ack");
    let ready = client.identify(&kim.token).await;
    assert_eq!(ready["user"]["username"], "kim");
    let guild = &ready["guilds"][0];
    assert_eq!(guild["id"], guild_id.as_str());
    assert_eq!(guild["role"], "owner");
    assert!(
        guild["channels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == general.as_str())
    );
    assert!(
        ready["read_states"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["channel_id"] == general.as_str())
    );
    client
        .send(json!({"op": "heartbeat", "d": {"seq": 0}}))
        .await;
    assert_eq!(client.json().await["op"], "heartbeat_ack");
    app.stop().await;
}

async fn closes_with(frame: Message, code: u16) {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut client = Client::connect(app.address).await;
    client.send_raw(frame).await;
    assert_eq!(client.closed().await, Some(code));
    app.stop().await;
}

#[tokio::test]
async fn bad_frames_close_with_their_codes() {
    let text = |value: serde_json::Value| Message::Text(value.to_string().into());
    closes_with(text(json!({"op": "dispatch", "d": {}})), 4001).await;
    closes_with(Message::Text("{not json".into()), 4002).await;
    closes_with(text(json!({"op": "identify", "d": {"token": 5}})), 4002).await;
    closes_with(Message::Binary(vec![1, 2, 3].into()), 4002).await;
    let oversize = json!({"op": "heartbeat", "d": {"seq": null}, "pad": "x".repeat(4100)});
    closes_with(text(oversize), 4002).await;
    closes_with(
        text(json!({"op": "typing", "d": {"channel_id": "1"}})),
        4003,
    )
    .await;
    closes_with(
        text(json!({"op": "presence_update", "d": {"status": "idle"}})),
        4003,
    )
    .await;
    closes_with(
        text(json!({"op": "identify", "d": {"token": "not-a-token"}})),
        4004,
    )
    .await;
}

#[tokio::test]
async fn identifying_twice_and_flooding_are_refused() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let kim = app.register("kim").await;
    let mut client = Client::connect_and_identify(app.address, &kim.token).await;
    client
        .send(json!({"op": "identify", "d": {"token": kim.token}}))
        .await;
    assert_eq!(client.closed().await, Some(4005));

    let mut client = Client::connect(app.address).await;
    for _ in 0..121 {
        client
            .send(json!({"op": "heartbeat", "d": {"seq": null}}))
            .await;
    }
    assert_eq!(client.closed().await, Some(4008));
    app.stop().await;
}

#[tokio::test]
async fn a_silent_client_times_out() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.gateway.heartbeat_interval_ms = 200
    })
    .await
    .unwrap();
    let mut client = Client::connect(app.address).await;
    assert_eq!(client.heartbeat_interval_ms, 200);
    assert_eq!(client.closed().await, Some(4009));
    app.stop().await;
}

#[tokio::test]
async fn browsers_must_come_from_our_origin() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    assert_eq!(
        Client::upgrade_status(app.address, "https://evil.example").await,
        403
    );
    assert_eq!(
        Client::upgrade_status(app.address, &format!("http://{}", app.address)).await,
        101
    );
    app.stop().await;
}

#[tokio::test]
async fn logout_and_refresh_token_reuse_close_sessions() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let kim = app.register("kim").await;
    let mut client = Client::connect_and_identify(app.address, &kim.token).await;
    app.call(
        reqwest::Method::POST,
        "/api/auth/logout",
        Some(&kim.token),
        None,
    )
    .await
    .expect(reqwest::StatusCode::NO_CONTENT);
    assert_eq!(client.closed().await, Some(4004));

    let lee = app.register("lee").await;
    let mut first = Client::connect_and_identify(app.address, &lee.token).await;
    let refresh = |cookie: String| {
        let url = app.url("/api/auth/refresh");
        async move {
            reqwest::Client::new()
                .post(url)
                .header("cookie", format!("madang_refresh={cookie}"))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        refresh(lee.refresh_cookie.clone()).await,
        reqwest::StatusCode::OK
    );
    assert_eq!(
        refresh(lee.refresh_cookie.clone()).await,
        reqwest::StatusCode::UNAUTHORIZED
    );
    assert_eq!(first.closed().await, Some(4004));
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_describes_the_gateway_frames() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let document: serde_json::Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for schema in [
        "ClientFrame",
        "ServerFrame",
        "DispatchFrame",
        "DispatchType",
        "Ready",
        "GatewayGuild",
        "PresenceUpdate",
        "TypingStart",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema} is missing"
        );
    }
    app.stop().await;
}
