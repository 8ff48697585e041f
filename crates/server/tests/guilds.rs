//! Guilds, channels, members, bans and invites over HTTP.

mod common;

use madang_store::on_both_backends;

use common::{Backend, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| {
            v["id"]
                .as_str()
                .or(v["user"]["id"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn guild_lifecycle(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.register("owner").await;
    let stranger = app.register("stranger").await;

    let guild = app
        .post(
            "/api/guilds",
            &owner.token,
            json!({"name": "  스터디 모임  "}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(guild["name"], "스터디 모임");
    assert_eq!(guild["owner_id"], owner.id.as_str());
    assert_eq!(guild["member_count"], 1);
    let guild_id = guild["id"].as_str().unwrap();

    let channels = app
        .get(&format!("/api/guilds/{guild_id}/channels"), &owner.token)
        .await
        .expect(StatusCode::OK);
    let kinds: Vec<(&str, &str)> = channels
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["kind"].as_str().unwrap(), c["name"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("text", "general"), ("voice", "General")]);

    let mine = app
        .get("/api/users/@me/guilds", &owner.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&mine), [guild_id]);
    assert_eq!(
        app.get("/api/users/@me/guilds", &stranger.token)
            .await
            .expect(StatusCode::OK),
        json!([])
    );

    // A stranger cannot tell the guild exists.
    let path = format!("/api/guilds/{guild_id}");
    app.get(&path, &stranger.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.patch(&path, &stranger.token, json!({"name": "mine now"}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&path, &stranger.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/api/guilds/999999999", &owner.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/api/guilds/not-a-number", &owner.token)
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_parameter");

    let renamed = app
        .patch(&path, &owner.token, json!({"name": "Study Group"}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(renamed["name"], "Study Group");
    app.patch(&path, &owner.token, json!({"name": "x"}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    app.delete(&path, &owner.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    app.get(&path, &owner.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.get("/api/users/@me/guilds", &owner.token)
            .await
            .expect(StatusCode::OK),
        json!([])
    );
    app.stop().await;
}

async fn ownership_moves_and_the_owner_cannot_simply_leave(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.register("owner").await;
    let heir = app.register("heir").await;
    let outsider = app.register("outsider").await;
    let (guild_id, _) = app.create_guild(&owner, "Clan").await;
    app.join(&guild_id, &owner, &heir).await;

    let leave_self = format!("/api/guilds/{guild_id}/members/{}", owner.id);
    app.delete(&leave_self, &owner.token)
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
    let path = format!("/api/guilds/{guild_id}");
    app.patch(&path, &heir.token, json!({"owner_id": heir.id}))
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    app.patch(&path, &owner.token, json!({"owner_id": outsider.id}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let guild = app
        .patch(&path, &owner.token, json!({"owner_id": heir.id}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(guild["owner_id"], heir.id.as_str());
    let members = app
        .get(&format!("/api/guilds/{guild_id}/members"), &heir.token)
        .await
        .expect(StatusCode::OK);
    let role_of = |id: &str| {
        members
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user"]["id"] == id)
            .unwrap()["role"]
            .clone()
    };
    assert_eq!(role_of(&heir.id), "owner");
    assert_eq!(role_of(&owner.id), "admin");

    // The former owner may now leave; the new owner may delete.
    app.delete(&leave_self, &owner.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    app.delete(&path, &heir.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    app.stop().await;
}

async fn channels_categories_and_reordering(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.register("owner").await;
    let member = app.register("member").await;
    let (guild_id, general) = app.create_guild(&owner, "Guild").await;
    app.join(&guild_id, &owner, &member).await;
    let (other_guild, _) = app.create_guild(&owner, "Other").await;
    let channels_path = format!("/api/guilds/{guild_id}/channels");

    app.post(
        &channels_path,
        &member.token,
        json!({"name": "x", "kind": "text"}),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden");
    let category = app
        .post(
            &channels_path,
            &owner.token,
            json!({"name": "Study", "kind": "category"}),
        )
        .await
        .expect(StatusCode::CREATED);
    let category_id = category["id"].as_str().unwrap();
    assert_eq!(category["position"], 2, "new channels go to the end");
    let notes = app
        .post(&channels_path, &owner.token, json!({"name": "notes", "kind": "text", "topic": "  shared notes ", "parent_id": category_id}))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(notes["parent_id"], category_id);
    assert_eq!(notes["topic"], "shared notes");
    let notes_id = notes["id"].as_str().unwrap();

    // A parent must be a category of the same guild, and categories do not nest.
    let foreign_category = app
        .post(
            &format!("/api/guilds/{other_guild}/channels"),
            &owner.token,
            json!({"name": "c", "kind": "category"}),
        )
        .await
        .expect(StatusCode::CREATED);
    for bad_parent in [general.as_str(), foreign_category["id"].as_str().unwrap()] {
        app.post(
            &channels_path,
            &owner.token,
            json!({"name": "bad", "kind": "text", "parent_id": bad_parent}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    app.post(
        &channels_path,
        &owner.token,
        json!({"name": "nested", "kind": "category", "parent_id": category_id}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.post(
        &channels_path,
        &owner.token,
        json!({"name": "bad", "kind": "forum"}),
    )
    .await
    .expect_error(StatusCode::BAD_REQUEST, "invalid_json");

    let channel_path = format!("/api/channels/{notes_id}");
    let updated = app
        .patch(
            &channel_path,
            &owner.token,
            json!({"name": "minutes", "topic": null, "parent_id": null}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(updated["name"], "minutes");
    assert!(updated["topic"].is_null() && updated["parent_id"].is_null());
    app.patch(&channel_path, &member.token, json!({"name": "mine"}))
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");

    let reordered = app
        .patch(&channels_path, &owner.token, json!([{"id": notes_id, "position": 0, "parent_id": category_id}, {"id": general, "position": 5, "parent_id": null}]))
        .await
        .expect(StatusCode::OK);
    let order = ids(&reordered);
    assert_eq!(order.first().map(String::as_str), Some(notes_id));
    assert_eq!(order.last(), Some(&general));
    app.patch(
        &channels_path,
        &owner.token,
        json!([{"id": foreign_category["id"], "position": 0, "parent_id": null}]),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // Deleting a category leaves its channels, uncategorised.
    app.delete(&format!("/api/channels/{category_id}"), &member.token)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    app.delete(&format!("/api/channels/{category_id}"), &owner.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    let after = app
        .get(&format!("/api/channels/{notes_id}/messages"), &owner.token)
        .await;
    assert_eq!(after.status, StatusCode::OK);
    let channels = app
        .get(&channels_path, &owner.token)
        .await
        .expect(StatusCode::OK);
    let notes_now = channels
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == notes_id)
        .unwrap();
    assert!(notes_now["parent_id"].is_null());
    app.stop().await;
}

async fn members_kicks_and_admins(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.register("owner").await;
    let admin = app.register("admin").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let (guild_id, _) = app.create_guild(&owner, "Guild").await;
    for user in [&admin, &alice, &bob] {
        app.join(&guild_id, &owner, user).await;
    }
    let member_path =
        |user: &common::TestUser| format!("/api/guilds/{guild_id}/members/{}", user.id);

    app.patch(&member_path(&admin), &alice.token, json!({"role": "admin"}))
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    let promoted = app
        .patch(&member_path(&admin), &owner.token, json!({"role": "admin"}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(promoted["role"], "admin");
    app.patch(&member_path(&admin), &owner.token, json!({"role": "owner"}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.patch(
        &member_path(&owner),
        &owner.token,
        json!({"role": "member"}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "conflict");

    // Paging through members in id order.
    let members_path = format!("/api/guilds/{guild_id}/members");
    let first = app
        .get(&format!("{members_path}?limit=2"), &alice.token)
        .await
        .expect(StatusCode::OK);
    let first_ids = ids(&first);
    assert_eq!(first_ids.len(), 2);
    let rest = app
        .get(
            &format!("{members_path}?limit=10&after={}", first_ids[1]),
            &alice.token,
        )
        .await
        .expect(StatusCode::OK);
    let mut all = first_ids.clone();
    all.extend(ids(&rest));
    let mut expected = vec![
        owner.id.clone(),
        admin.id.clone(),
        alice.id.clone(),
        bob.id.clone(),
    ];
    expected.sort_by_key(|id| id.parse::<i64>().unwrap());
    assert_eq!(all, expected);
    app.get(&format!("{members_path}?limit=0"), &alice.token)
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.get(&format!("{members_path}?limit=abc"), &alice.token)
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_parameter");

    // Kicks go down the hierarchy only.
    app.delete(&member_path(&bob), &alice.token)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    app.delete(&member_path(&owner), &admin.token)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    app.delete(&member_path(&bob), &admin.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    app.get(&format!("/api/guilds/{guild_id}"), &bob.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&member_path(&admin), &owner.token)
        .await
        .expect(StatusCode::NO_CONTENT);

    // Leaving.
    app.delete(&member_path(&alice), &alice.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    let remaining = app
        .get(&members_path, &owner.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&remaining), [owner.id.as_str()]);
    app.stop().await;
}

async fn bans_keep_people_out(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.register("owner").await;
    let troll = app.register("troll").await;
    let member = app.register("member").await;
    let (guild_id, _) = app.create_guild(&owner, "Guild").await;
    app.join(&guild_id, &owner, &troll).await;
    app.join(&guild_id, &owner, &member).await;
    let invite = app
        .post(
            &format!("/api/guilds/{guild_id}/invites"),
            &owner.token,
            json!({}),
        )
        .await
        .expect(StatusCode::CREATED);
    let code = invite["code"].as_str().unwrap();
    let ban_path = format!("/api/guilds/{guild_id}/bans/{}", troll.id);

    app.call(Method::PUT, &ban_path, Some(&member.token), Some(json!({})))
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    let ban = app
        .call(
            Method::PUT,
            &ban_path,
            Some(&owner.token),
            Some(json!({"reason": "spam"})),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(ban["user"]["id"], troll.id.as_str());
    assert_eq!(ban["reason"], "spam");
    app.get(&format!("/api/guilds/{guild_id}"), &troll.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&format!("/api/invites/{code}"), &troll.token, json!({}))
        .await
        .expect_error(StatusCode::FORBIDDEN, "banned");

    let bans = app
        .get(&format!("/api/guilds/{guild_id}/bans"), &owner.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&bans), [troll.id.as_str()]);
    app.get(&format!("/api/guilds/{guild_id}/bans"), &member.token)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    app.get(&ban_path, &owner.token)
        .await
        .expect(StatusCode::OK);
    app.call(
        Method::PUT,
        &format!("/api/guilds/{guild_id}/bans/{}", owner.id),
        Some(&owner.token),
        Some(json!({})),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.call(
        Method::PUT,
        &format!("/api/guilds/{guild_id}/bans/123456789"),
        Some(&owner.token),
        Some(json!({})),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");

    app.delete(&ban_path, &owner.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    app.delete(&ban_path, &owner.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(&format!("/api/invites/{code}"), &troll.token, json!({}))
        .await
        .expect(StatusCode::CREATED);
    app.stop().await;
}

async fn invites_limits_expiry_and_revocation(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.register("owner").await;
    let member = app.register("member").await;
    let first = app.register("first").await;
    let second = app.register("second").await;
    let (guild_id, _) = app.create_guild(&owner, "Guild").await;
    app.join(&guild_id, &owner, &member).await;
    let invites_path = format!("/api/guilds/{guild_id}/invites");

    let single = app
        .post(
            &invites_path,
            &member.token,
            json!({"max_uses": 1, "max_age_seconds": 3600}),
        )
        .await
        .expect(StatusCode::CREATED);
    let code = single["code"].as_str().unwrap().to_owned();
    assert!(code.len() >= 22, "at least 128 bits");
    assert_eq!(single["uses"], 0);
    assert!(single["expires_at"].is_string());

    // Anyone may preview, signed in or not.
    let preview = app
        .call(Method::GET, &format!("/api/invites/{code}"), None, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(preview["guild"]["name"], "Guild");
    assert_eq!(preview["guild"]["member_count"], 2);
    assert_eq!(preview["inviter"]["username"], "member");

    app.post(&format!("/api/invites/{code}"), &first.token, json!({}))
        .await
        .expect(StatusCode::CREATED);
    let again = app
        .post(&format!("/api/invites/{code}"), &first.token, json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(again["id"], guild_id.as_str());
    app.post(&format!("/api/invites/{code}"), &second.token, json!({}))
        .await
        .expect_error(StatusCode::GONE, "invite_used_up");
    app.call(Method::GET, &format!("/api/invites/{code}"), None, None)
        .await
        .expect_error(StatusCode::GONE, "invite_used_up");

    // Lists show usable invites: members their own, admins everyone's.
    assert_eq!(
        app.get(&invites_path, &member.token)
            .await
            .expect(StatusCode::OK),
        json!([]),
        "used up"
    );
    let open = app
        .post(&invites_path, &owner.token, json!({}))
        .await
        .expect(StatusCode::CREATED);
    let open_code = open["code"].as_str().unwrap().to_owned();
    let members_own = app
        .post(&invites_path, &member.token, json!({}))
        .await
        .expect(StatusCode::CREATED);
    let mine = app
        .get(&invites_path, &member.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        ids_of_invites(&mine),
        [members_own["code"].as_str().unwrap()]
    );
    let all = app
        .get(&invites_path, &owner.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        all.as_array().unwrap().len(),
        3,
        "the join helper's, the open one and the member's"
    );

    // Only the creator or an admin revokes.
    app.delete(&format!("/api/invites/{open_code}"), &member.token)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    app.delete(&format!("/api/invites/{open_code}"), &second.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&format!("/api/invites/{open_code}"), &owner.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    app.post(
        &format!("/api/invites/{open_code}"),
        &second.token,
        json!({}),
    )
    .await
    .expect_error(StatusCode::GONE, "invite_revoked");

    // Expiry: an invite whose time has passed, written straight to the store.
    let expired = madang_store::InviteRow {
        code: "expired-invite-code-0000".into(),
        guild_id: guild_id.parse().unwrap(),
        creator_id: owner.id.parse().unwrap(),
        max_uses: None,
        uses: 0,
        expires_at: Some(1),
        revoked_at: None,
        created_at: 0,
    };
    let created = madang_store::Dispatch::new("INVITE_CREATE", "{}");
    app.store.create_invite(&expired, created, 0).await.unwrap();
    app.post(
        "/api/invites/expired-invite-code-0000",
        &second.token,
        json!({}),
    )
    .await
    .expect_error(StatusCode::GONE, "invite_expired");
    app.post("/api/invites/no-such-code", &second.token, json!({}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");

    for bad in [
        json!({"max_uses": 0}),
        json!({"max_uses": 1001}),
        json!({"max_age_seconds": 5}),
        json!({"max_age_seconds": 99_999_999}),
    ] {
        app.post(&invites_path, &owner.token, bad)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    app.stop().await;
}

fn ids_of_invites(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap())
        .collect()
}

async fn a_last_invite_use_is_taken_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let owner = app.register("owner").await;
    let (guild_id, _) = app.create_guild(&owner, "Guild").await;
    let invite = app
        .post(
            &format!("/api/guilds/{guild_id}/invites"),
            &owner.token,
            json!({"max_uses": 3}),
        )
        .await
        .expect(StatusCode::CREATED);
    let code = invite["code"].as_str().unwrap();
    let mut joiners = Vec::new();
    for i in 0..8 {
        joiners.push(app.register(&format!("joiner{i}")).await);
    }
    let path = format!("/api/invites/{code}");
    let attempts = joiners
        .iter()
        .map(|user| app.post(&path, &user.token, json!({})));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::GONE).count(),
        5,
        "{statuses:?}"
    );
    let guild = app
        .get(&format!("/api/guilds/{guild_id}"), &owner.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(guild["member_count"], 4);
    app.stop().await;
}

on_both_backends!(
    guild_lifecycle,
    ownership_moves_and_the_owner_cannot_simply_leave,
    channels_categories_and_reordering,
    members_kicks_and_admins,
    bans_keep_people_out,
    invites_limits_expiry_and_revocation,
    a_last_invite_use_is_taken_once,
);
