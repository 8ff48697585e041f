//! Accounts over HTTP: registration, login, token refresh and rotation, logout, profile.

mod common;

use madang_store::on_both_backends;

use common::{Backend, PASSWORD, spawn_app, spawn_app_with};
use madang_server::config::Quota;
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn refresh(app: &common::TestApp, cookie: &str, origin: Option<&str>) -> common::Reply {
    let client = reqwest::Client::new();
    let mut request = client
        .post(app.url("/api/auth/refresh"))
        .header("cookie", format!("madang_refresh={cookie}"));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("madang_refresh="))
        .map(|v| v.split(';').next().unwrap().to_owned());
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    common::Reply {
        status,
        body,
        headers: Default::default(),
        refresh_cookie: cookie,
    }
}

async fn register_and_log_in(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let reply = app
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({"email": " Kim@Example.com ", "username": "kim", "password": PASSWORD, "display_name": " 김민수 "})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let cookie_header = reply
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/api/auth"] {
        assert!(cookie_header.contains(attribute), "{cookie_header}");
    }
    let user = &reply.body["user"];
    assert_eq!(user["email"], "kim@example.com");
    assert_eq!(user["display_name"], "김민수");
    assert_eq!(user["system_role"], "user");
    assert!(reply.body["expires_in"].as_i64().unwrap() > 0);

    for login in ["kim", "KIM@example.com"] {
        let reply = app
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"login": login, "password": PASSWORD})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{login}: {}", reply.body);
        let me = app
            .get(
                "/api/users/@me",
                reply.body["access_token"].as_str().unwrap(),
            )
            .await
            .expect(StatusCode::OK);
        assert_eq!(me["username"], "kim");
    }
    for (login, password) in [("kim", "wrong password!!"), ("nobody", PASSWORD)] {
        app.call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"login": login, "password": password})),
        )
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    app.stop().await;
}

async fn registration_refuses_bad_and_taken_values(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.register("taken").await;
    let attempt = |email: &str, username: &str, password: &str| json!({"email": email, "username": username, "password": password});
    let cases = [
        (
            attempt("new@example.com", "taken", PASSWORD),
            StatusCode::CONFLICT,
            "username_taken",
        ),
        (
            attempt("TAKEN@example.com", "fresh", PASSWORD),
            StatusCode::CONFLICT,
            "email_taken",
        ),
        (
            attempt("new@example.com", "Bad Name", PASSWORD),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            attempt("new@example.com", "x", PASSWORD),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            attempt("not-an-email", "fresh", PASSWORD),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            attempt("new@example.com", "fresh", "short"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            json!({"email": "new@example.com", "username": 7, "password": PASSWORD}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
        (
            json!({"email": "new@example.com", "username": "fresh", "password": PASSWORD, "admin": true}),
            StatusCode::BAD_REQUEST,
            "invalid_json",
        ),
    ];
    for (body, status, code) in cases {
        app.call(Method::POST, "/api/auth/register", None, Some(body.clone()))
            .await
            .expect_error(status, code);
    }
    // Nothing of the refused attempts was written.
    app.call(
        Method::POST,
        "/api/auth/register",
        None,
        Some(attempt("new@example.com", "fresh", PASSWORD)),
    )
    .await
    .expect(StatusCode::CREATED);

    let client = reqwest::Client::new();
    let malformed = client
        .post(app.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let not_json = client
        .post(app.url("/api/auth/register"))
        .body("email=a")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    app.stop().await;
}

async fn refresh_rotates_and_reuse_revokes_the_login(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let user = app.register("rotator").await;

    let first = refresh(&app, &user.refresh_cookie, None).await;
    assert_eq!(first.status, StatusCode::OK);
    let second_cookie = first.refresh_cookie.clone().unwrap();
    assert_ne!(second_cookie, user.refresh_cookie);
    let token = first.body["access_token"].as_str().unwrap().to_owned();
    app.get("/api/users/@me", &token)
        .await
        .expect(StatusCode::OK);

    // Replaying the spent cookie is theft: the whole login is revoked, including the newer
    // cookie and every access token of that login.
    let replay = refresh(&app, &user.refresh_cookie, None).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        replay.refresh_cookie.as_deref(),
        Some(""),
        "the cookie is cleared"
    );
    assert_eq!(
        refresh(&app, &second_cookie, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.get("/api/users/@me", &token)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    app.get("/api/users/@me", &user.token)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");

    // Other logins of the same user are untouched.
    let other = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"login": "rotator", "password": PASSWORD})),
        )
        .await;
    app.get(
        "/api/users/@me",
        other.body["access_token"].as_str().unwrap(),
    )
    .await
    .expect(StatusCode::OK);

    assert_eq!(
        refresh(&app, "made-up", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}

async fn cookie_routes_refuse_other_sites(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let user = app.register("careful").await;
    let foreign = refresh(&app, &user.refresh_cookie, Some("https://evil.example")).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(foreign.body["error"]["code"], "cross_origin_refused");
    let own_origin = format!("http://{}", app.address);
    assert_eq!(
        refresh(&app, &user.refresh_cookie, Some(&own_origin))
            .await
            .status,
        StatusCode::OK
    );
    app.stop().await;
}

async fn logout_ends_the_login_at_once(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let user = app.register("leaver").await;
    let reply = app
        .call(Method::POST, "/api/auth/logout", Some(&user.token), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.refresh_cookie.as_deref(), Some(""));
    app.get("/api/users/@me", &user.token)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(
        refresh(&app, &user.refresh_cookie, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.call(Method::POST, "/api/auth/logout", None, None)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    app.stop().await;
}

async fn profile_updates_and_password_change(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let user = app.register("profile").await;
    app.register("other").await;
    let other_login = app
        .call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"login": "profile", "password": PASSWORD})),
        )
        .await;
    let other_token = other_login.body["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let me = app
        .patch(
            "/api/users/@me",
            &user.token,
            json!({"display_name": "새 이름", "username": "renamed"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(me["display_name"], "새 이름");
    assert_eq!(me["username"], "renamed");
    let me = app
        .patch("/api/users/@me", &user.token, json!({"display_name": null}))
        .await
        .expect(StatusCode::OK);
    assert!(me["display_name"].is_null());
    app.patch("/api/users/@me", &user.token, json!({"username": "other"}))
        .await
        .expect_error(StatusCode::CONFLICT, "username_taken");

    app.patch(
        "/api/users/@me",
        &user.token,
        json!({"new_password": "another long password"}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.patch(
        "/api/users/@me",
        &user.token,
        json!({"new_password": "another long password", "current_password": "wrong wrong wrong"}),
    )
    .await
    .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    app.patch(
        "/api/users/@me",
        &user.token,
        json!({"new_password": "another long password", "current_password": PASSWORD}),
    )
    .await
    .expect(StatusCode::OK);
    // This login stays; the other one is signed out; the new password works.
    app.get("/api/users/@me", &user.token)
        .await
        .expect(StatusCode::OK);
    app.get("/api/users/@me", &other_token)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    app.call(
        Method::POST,
        "/api/auth/login",
        None,
        Some(json!({"login": "renamed", "password": "another long password"})),
    )
    .await
    .expect(StatusCode::OK);
    app.stop().await;
}

on_both_backends!(
    register_and_log_in,
    registration_refuses_bad_and_taken_values,
    refresh_rotates_and_reuse_revokes_the_login,
    cookie_routes_refuse_other_sites,
    logout_ends_the_login_at_once,
    profile_updates_and_password_change,
);

#[tokio::test]
async fn login_and_registration_are_rate_limited_per_client() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.rate_limits.auth = Quota {
            per_minute: 1,
            burst: 2,
        }
    })
    .await
    .unwrap();
    let body = json!({"login": "nobody", "password": PASSWORD});
    for _ in 0..2 {
        app.call(Method::POST, "/api/auth/login", None, Some(body.clone()))
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    let limited = app
        .call(Method::POST, "/api/auth/login", None, Some(body.clone()))
        .await;
    let retry_after: u64 = limited
        .headers
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    limited.expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let register =
        json!({"email": "r@example.com", "username": "ratelimited", "password": PASSWORD});
    app.call(Method::POST, "/api/auth/register", None, Some(register))
        .await
        .expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    app.stop().await;
}

#[tokio::test]
async fn refreshing_has_its_own_quota_so_reloads_do_not_lock_people_out() {
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.rate_limits.auth = Quota {
            per_minute: 1,
            burst: 1,
        };
        config.rate_limits.refresh = Quota {
            per_minute: 1,
            burst: 3,
        };
    })
    .await
    .unwrap();
    let user = app.register("reloader").await;
    // The sign-in quota is spent by registering; refreshes still pass, up to their own quota.
    let mut cookie = user.refresh_cookie.clone();
    for _ in 0..3 {
        let reply = refresh(&app, &cookie, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        cookie = reply.refresh_cookie.unwrap();
    }
    let limited = refresh(&app, &cookie, None).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body["error"]["code"], "rate_limited");
    app.stop().await;
}
