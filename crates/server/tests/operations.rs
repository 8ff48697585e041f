//! Health, readiness, metrics, API docs, and the error answers for requests that miss.

mod common;

use common::{Backend, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let health = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.expect(StatusCode::OK), json!({"status": "ok"}));
    assert_eq!(
        app.call(Method::GET, "/readyz", None, None)
            .await
            .expect(StatusCode::OK),
        json!({"status": "ok"})
    );

    let user = app.register("metered").await;
    app.get("/api/users/@me", &user.token)
        .await
        .expect(StatusCode::OK);
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("http_requests_total{")
                && l.contains("route=\"/api/users/@me\"")
                && l.contains("status=\"200\"")),
        "{metrics}"
    );
    assert!(
        metrics.contains("http_request_duration_seconds_bucket{"),
        "{metrics}"
    );

    app.store.close().await;
    app.call(Method::GET, "/readyz", None, None)
        .await
        .expect_error(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
}

#[tokio::test]
async fn the_api_documents_itself() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let document = app
        .call(Method::GET, "/api/openapi.json", None, None)
        .await
        .expect(StatusCode::OK);
    assert!(document["paths"]["/api/channels/{channel_id}/messages"]["post"].is_object());
    assert!(document["components"]["schemas"]["ErrorCode"].is_object());
    let docs = reqwest::get(app.url("/api/docs/")).await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(
        docs.text().await.unwrap().contains("swagger"),
        "Swagger UI is served by madang itself"
    );
    app.stop().await;
}

#[tokio::test]
async fn misses_get_json_errors_and_security_headers() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let user = app.register("prober").await;
    let missing = app.get("/api/no/such/route", &user.token).await;
    assert_eq!(
        missing.headers.get("x-content-type-options").unwrap(),
        "nosniff"
    );
    assert!(missing.headers.get("content-security-policy").is_some());
    assert!(missing.headers.get("x-request-id").is_some());
    missing.expect_error(StatusCode::NOT_FOUND, "not_found");
    app.call(Method::PUT, "/api/users/@me", Some(&user.token), None)
        .await
        .expect_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    app.get("/api/users/@me", "not-a-token")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    app.call(Method::GET, "/api/users/@me", None, None)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");

    let huge = "x".repeat(2 * 1024 * 1024);
    let (_, channel) = app.create_guild(&user, "Guild").await;
    app.post(
        &format!("/api/channels/{channel}/messages"),
        &user.token,
        json!({"content": huge}),
    )
    .await
    .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    app.stop().await;
}

#[tokio::test]
async fn admin_routes_need_a_system_admin() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let user = app.register("operator").await;
    app.get("/api/admin/users", &user.token)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    assert!(
        app.store
            .grant_system_admin("operator@example.com")
            .await
            .unwrap()
    );
    assert!(
        !app.store
            .grant_system_admin("nobody@example.com")
            .await
            .unwrap()
    );
    let users = app
        .get("/api/admin/users", &user.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(users[0]["system_role"], "admin");
    app.stop().await;
}

#[tokio::test]
async fn the_web_client_is_served_with_a_strict_policy() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let page = reqwest::get(app.url("/channels/123/456")).await.unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "client routes fall back to index.html (the web client must be built first: `make test` does it)"
    );
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.headers()["cache-control"], "no-cache");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<div id=\"root\">") || html.contains("id=\"root\""),
        "{html}"
    );
    let script = html
        .split("src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page loads a script");
    let asset = reqwest::get(app.url(script)).await.unwrap();
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        asset.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );

    // The API never falls back to the page.
    let user = app.register("webber").await;
    app.get("/api/nope", &user.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.stop().await;
}
