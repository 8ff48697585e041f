//! Every REST mutation yields its dispatch, and only to the sessions whose user may see it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::client::Client;
use super::common::{Backend, TestApp, TestUser, spawn_app};
use madang_store::on_both_backends;

/// Asserts the next sequenced dispatches of `client` are exactly `types`, in order.
async fn receives(client: &mut Client, types: &[&str]) -> Vec<Value> {
    let mut payloads = Vec::new();
    for expected in types {
        let dispatch = client.next_sequenced().await;
        assert_eq!(&dispatch.t, expected, "payload: {}", dispatch.d);
        payloads.push(dispatch.d);
    }
    payloads
}

/// Something only `user` hears of (their own USER_UPDATE), to show that nothing else came
/// before it: events are delivered in the order they were committed.
async fn only_sentinel_follows(app: &TestApp, client: &mut Client, user: &TestUser, name: &str) {
    app.patch("/api/users/@me", &user.token, json!({"display_name": name}))
        .await
        .expect(StatusCode::OK);
    let next = client.next_sequenced().await;
    assert_eq!(
        next.t, "USER_UPDATE",
        "nothing but the sentinel may arrive: {} {}",
        next.t, next.d
    );
}

async fn every_rest_mutation_yields_its_dispatch(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kim = app.register("kim").await;
    let lee = app.register("lee").await;
    let park = app.register("park").await;
    let (guild, general) = app.create_guild(&kim, "Study group").await;
    app.join(&guild, &kim, &lee).await;
    let mut watcher = Client::connect_and_identify(app.address, &lee.token).await;
    let mut outsider = Client::connect_and_identify(app.address, &park.token).await;

    let channel = app
        .post(
            &format!("/api/guilds/{guild}/channels"),
            &kim.token,
            json!({"name": "notes", "kind": "text"}),
        )
        .await;
    let channel = channel.expect(StatusCode::CREATED)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        receives(&mut watcher, &["CHANNEL_CREATE"]).await[0]["id"],
        channel.as_str()
    );

    app.patch(
        &format!("/api/channels/{channel}"),
        &kim.token,
        json!({"topic": "homework"}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        receives(&mut watcher, &["CHANNEL_UPDATE"]).await[0]["topic"],
        "homework"
    );

    let order = json!([{"id": channel, "position": 0, "parent_id": null}, {"id": general, "position": 1, "parent_id": null}]);
    app.patch(&format!("/api/guilds/{guild}/channels"), &kim.token, order)
        .await
        .expect(StatusCode::OK);
    receives(&mut watcher, &["CHANNEL_UPDATE", "CHANNEL_UPDATE"]).await;

    let sent = app
        .post(
            &format!("/api/channels/{general}/messages"),
            &kim.token,
            json!({"content": "hi", "nonce": "n-1"}),
        )
        .await;
    let message = sent.expect(StatusCode::CREATED)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = &receives(&mut watcher, &["MESSAGE_CREATE"]).await[0];
    assert_eq!(
        (created["id"].as_str(), created["nonce"].as_str()),
        (Some(message.as_str()), Some("n-1"))
    );
    // Sending again with the same nonce posts nothing and announces nothing.
    app.post(
        &format!("/api/channels/{general}/messages"),
        &kim.token,
        json!({"content": "hi", "nonce": "n-1"}),
    )
    .await
    .expect(StatusCode::OK);

    let path = format!("/api/channels/{general}/messages/{message}");
    app.patch(&path, &kim.token, json!({"content": "hello"}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        receives(&mut watcher, &["MESSAGE_UPDATE"]).await[0]["content"],
        "hello"
    );
    app.delete(&path, &kim.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    let deleted = &receives(&mut watcher, &["MESSAGE_DELETE"]).await[0];
    assert_eq!(
        deleted,
        &json!({"id": message, "channel_id": general, "guild_id": guild})
    );

    app.patch(
        &format!("/api/guilds/{guild}"),
        &kim.token,
        json!({"name": "Study club"}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        receives(&mut watcher, &["GUILD_UPDATE"]).await[0]["name"],
        "Study club"
    );

    app.patch(
        &format!("/api/guilds/{guild}/members/{}", lee.id),
        &kim.token,
        json!({"role": "admin"}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        receives(&mut watcher, &["GUILD_MEMBER_UPDATE"]).await[0]["member"]["role"],
        "admin"
    );

    // Invites and bans reach those who manage them: lee is an admin now.
    let invite = app
        .post(
            &format!("/api/guilds/{guild}/invites"),
            &kim.token,
            json!({}),
        )
        .await
        .expect(StatusCode::CREATED);
    let code = invite["code"].as_str().unwrap().to_owned();
    receives(&mut watcher, &["INVITE_CREATE"]).await;
    app.delete(&format!("/api/invites/{code}"), &kim.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    receives(&mut watcher, &["INVITE_DELETE"]).await;
    app.call(
        Method::PUT,
        &format!("/api/guilds/{guild}/bans/{}", park.id),
        Some(&kim.token),
        Some(json!({})),
    )
    .await
    .expect(StatusCode::OK);
    receives(&mut watcher, &["GUILD_BAN_ADD"]).await;
    app.delete(&format!("/api/guilds/{guild}/bans/{}", park.id), &kim.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    receives(&mut watcher, &["GUILD_BAN_REMOVE"]).await;

    // None of that reached the outsider.
    only_sentinel_follows(&app, &mut outsider, &park, "Park").await;

    // Joining: the members hear of the new member, the joiner gets the whole guild.
    app.join(&guild, &kim, &park).await;
    receives(&mut watcher, &["INVITE_CREATE", "GUILD_MEMBER_ADD"]).await;
    let joined = &receives(&mut outsider, &["GUILD_CREATE"]).await[0];
    assert_eq!(joined["id"], guild.as_str());
    assert_eq!(joined["role"], "member");
    assert!(joined["channels"].as_array().unwrap().len() >= 3);

    app.post(
        &format!("/api/channels/{general}/messages"),
        &park.token,
        json!({"content": "thanks"}),
    )
    .await
    .expect(StatusCode::CREATED);
    receives(&mut watcher, &["MESSAGE_CREATE"]).await;
    receives(&mut outsider, &["MESSAGE_CREATE"]).await;

    let last = app
        .get(
            &format!("/api/channels/{general}/messages?limit=1"),
            &lee.token,
        )
        .await
        .expect(StatusCode::OK);
    app.post(
        &format!("/api/channels/{general}/ack"),
        &lee.token,
        json!({"message_id": last[0]["id"]}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        receives(&mut watcher, &["READ_STATE_UPDATE"]).await[0]["unread_count"],
        0
    );

    app.patch("/api/users/@me", &lee.token, json!({"display_name": "Lee"}))
        .await
        .expect(StatusCode::OK);
    receives(&mut watcher, &["USER_UPDATE", "GUILD_MEMBER_UPDATE"]).await;
    receives(&mut outsider, &["GUILD_MEMBER_UPDATE"]).await;

    // A kicked member gets GUILD_DELETE and nothing more from the guild.
    app.delete(
        &format!("/api/guilds/{guild}/members/{}", park.id),
        &kim.token,
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    receives(&mut watcher, &["GUILD_MEMBER_REMOVE"]).await;
    assert_eq!(
        receives(&mut outsider, &["GUILD_DELETE"]).await[0],
        json!({"id": guild})
    );
    app.post(
        &format!("/api/channels/{general}/messages"),
        &kim.token,
        json!({"content": "after the kick"}),
    )
    .await
    .expect(StatusCode::CREATED);
    receives(&mut watcher, &["MESSAGE_CREATE"]).await;
    only_sentinel_follows(&app, &mut outsider, &park, "Park again").await;

    app.delete(&format!("/api/channels/{channel}"), &kim.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    assert_eq!(
        receives(&mut watcher, &["CHANNEL_DELETE"]).await[0]["id"],
        channel.as_str()
    );

    app.patch(
        &format!("/api/guilds/{guild}"),
        &kim.token,
        json!({"owner_id": lee.id}),
    )
    .await
    .expect(StatusCode::OK);
    receives(
        &mut watcher,
        &["GUILD_MEMBER_UPDATE", "GUILD_MEMBER_UPDATE", "GUILD_UPDATE"],
    )
    .await;
    app.delete(&format!("/api/guilds/{guild}"), &lee.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    receives(&mut watcher, &["GUILD_DELETE"]).await;
    app.stop().await;
}

async fn typing_and_presence_reach_members_only(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kim = app.register("kim").await;
    let lee = app.register("lee").await;
    let park = app.register("park").await;
    let (guild, general) = app.create_guild(&kim, "Study group").await;
    app.join(&guild, &kim, &lee).await;
    let mut watcher = Client::connect_and_identify(app.address, &lee.token).await;
    let mut outsider = Client::connect_and_identify(app.address, &park.token).await;
    let mut typist = Client::connect_and_identify(app.address, &kim.token).await;
    let online = watcher.expect("PRESENCE_UPDATE").await;
    assert_eq!(online, json!({"user_id": kim.id, "status": "online"}));

    typist
        .send(json!({"op": "typing", "d": {"channel_id": general}}))
        .await;
    let typing = watcher.expect("TYPING_START").await;
    assert_eq!(
        (typing["channel_id"].as_str(), typing["user_id"].as_str()),
        (Some(general.as_str()), Some(kim.id.as_str()))
    );

    typist
        .send(json!({"op": "presence_update", "d": {"status": "dnd"}}))
        .await;
    assert_eq!(watcher.expect("PRESENCE_UPDATE").await["status"], "dnd");
    typist
        .send(json!({"op": "presence_update", "d": {"status": "invisible"}}))
        .await;
    assert_eq!(watcher.expect("PRESENCE_UPDATE").await["status"], "offline");

    // The outsider heard none of it: its next dispatch of any kind is its own sentinel.
    app.patch(
        "/api/users/@me",
        &park.token,
        json!({"display_name": "Park"}),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(outsider.dispatch().await.t, "USER_UPDATE");
    app.stop().await;
}

/// Joining a guild while online: the joiner learns who is online there (GUILD_CREATE carries
/// no presence, being replayable), and the members learn the joiner is online, at once.
async fn a_joiner_and_the_guild_see_each_other_online(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kim = app.register("kim").await;
    let lee = app.register("lee").await;
    let park = app.register("park").await;
    let (guild, _) = app.create_guild(&kim, "Study group").await;
    // Park is online elsewhere and shares nothing with kim or lee: not to be announced.
    app.create_guild(&park, "Elsewhere").await;
    let mut kim_client = Client::connect_and_identify(app.address, &kim.token).await;
    let _park_client = Client::connect_and_identify(app.address, &park.token).await;
    let mut lee_client = Client::connect_and_identify(app.address, &lee.token).await;

    app.join(&guild, &kim, &lee).await;
    let mut seen_by_lee = Vec::new();
    loop {
        let dispatch = lee_client.dispatch().await;
        match dispatch.t.as_str() {
            "GUILD_CREATE" => assert_eq!(dispatch.d["id"], guild.as_str()),
            "PRESENCE_UPDATE" => {
                seen_by_lee.push(dispatch.d);
                break;
            }
            other => panic!("unexpected {other} {}", dispatch.d),
        }
    }
    assert_eq!(
        seen_by_lee,
        vec![json!({"user_id": kim.id, "status": "online"})]
    );
    // Kim hears of the invite and the join, and then that lee is online.
    let mut seen_by_kim = Vec::new();
    let presence = loop {
        let dispatch = kim_client.dispatch().await;
        if dispatch.t == "PRESENCE_UPDATE" {
            break dispatch.d;
        }
        seen_by_kim.push(dispatch.t);
    };
    assert!(
        seen_by_kim.contains(&"GUILD_MEMBER_ADD".to_owned()),
        "{seen_by_kim:?}"
    );
    assert_eq!(presence, json!({"user_id": lee.id, "status": "online"}));

    // Nothing about park reached lee: the next dispatch of any kind is lee's own sentinel.
    app.patch("/api/users/@me", &lee.token, json!({"display_name": "Lee"}))
        .await
        .expect(StatusCode::OK);
    let next = lee_client.dispatch().await;
    assert_eq!(next.t, "USER_UPDATE", "{}", next.d);
    app.stop().await;
}

/// READY's presences are the guild's members who are online now: not someone online who
/// left the guild, not someone online elsewhere, not someone invisible.
async fn ready_lists_the_members_online_now(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kim = app.register("kim").await;
    let lee = app.register("lee").await;
    let park = app.register("park").await;
    let jung = app.register("jung").await;
    let choi = app.register("choi").await;
    let (guild, _) = app.create_guild(&kim, "Study group").await;
    for member in [&lee, &park, &jung] {
        app.join(&guild, &kim, member).await;
    }
    app.create_guild(&choi, "Elsewhere").await;
    let mut lee_client = Client::connect_and_identify(app.address, &lee.token).await;
    let mut park_client = Client::connect_and_identify(app.address, &park.token).await;
    let mut jung_client = Client::connect_and_identify(app.address, &jung.token).await;
    let _choi_client = Client::connect_and_identify(app.address, &choi.token).await;
    jung_client
        .send(json!({"op": "presence_update", "d": {"status": "invisible"}}))
        .await;

    app.delete(
        &format!("/api/guilds/{guild}/members/{}", park.id),
        &park.token,
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    park_client.expect("GUILD_DELETE").await;
    // Lee's status change is announced after park's departure (one sequencer, one bus
    // order), so once jung sees it, both are in every node's view.
    lee_client
        .send(json!({"op": "presence_update", "d": {"status": "dnd"}}))
        .await;
    loop {
        let dispatch = jung_client.dispatch().await;
        if dispatch.t == "PRESENCE_UPDATE"
            && dispatch.d == json!({"user_id": lee.id, "status": "dnd"})
        {
            break;
        }
    }

    let mut kim_client = Client::connect(app.address).await;
    let ready = kim_client.identify(&kim.token).await;
    assert_eq!(
        ready["guilds"][0]["presences"],
        json!([{"user_id": lee.id, "status": "dnd"}])
    );
    app.stop().await;
}

on_both_backends!(
    every_rest_mutation_yields_its_dispatch,
    typing_and_presence_reach_members_only,
    a_joiner_and_the_guild_see_each_other_online,
    ready_lists_the_members_online_now
);
