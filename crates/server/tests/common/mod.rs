//! The integration-test harness: a real server on port 0 with a fresh database, spoken to
//! over HTTP. Every test runs against SQLite and, when one is available, PostgreSQL (see
//! `madang_store::testing` for where PostgreSQL comes from and when a test is skipped).
#![allow(dead_code)]

use std::net::SocketAddr;

use madang_server::config::{PasswordHashing, Quota, RateLimits, VoiceConfig};
use madang_server::{Application, Config};
use madang_store::Store;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub use madang_store::testing::TestBackend as Backend;

pub struct TestApp {
    pub address: SocketAddr,
    pub store: Store,
    pub backend: Backend,
    http: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// The server's own runtime, when it can be killed (see [`spawn_killable_app_with`]).
    runtime: Option<tokio::runtime::Runtime>,
    _data_dir: tempfile::TempDir,
}

/// Settings for tests: cheap password hashing and quotas nobody reaches by accident.
pub fn test_config(data_dir: &std::path::Path) -> Config {
    let generous = Quota {
        per_minute: 100_000,
        burst: 100_000,
    };
    Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data_dir.to_owned(),
        password_hashing: PasswordHashing {
            memory_kib: 64,
            iterations: 1,
        },
        rate_limits: RateLimits {
            auth: generous,
            refresh: generous,
            invites: generous,
            user: generous,
        },
        voice: VoiceConfig {
            udp_bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..VoiceConfig::default()
        },
        ..Config::default()
    }
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Config),
) -> Option<TestApp> {
    start(backend, configure, None).await
}

/// A server on a runtime of its own, as if in its own process, so that [`TestApp::kill`]
/// can stop it the way a crash does.
pub async fn spawn_killable_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Config),
) -> Option<TestApp> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime for the server");
    start(backend, configure, Some(runtime)).await
}

/// Builds and runs the server on `runtime`, or on the test's runtime without one.
async fn start(
    backend: Backend,
    configure: impl FnOnce(&mut Config),
    runtime: Option<tokio::runtime::Runtime>,
) -> Option<TestApp> {
    let data_dir = tempfile::tempdir().expect("temporary directory");
    let mut config = test_config(data_dir.path());
    config.database_url =
        madang_store::testing::fresh_database_url(backend, data_dir.path()).await?;
    configure(&mut config);
    let tasks = runtime
        .as_ref()
        .map_or_else(tokio::runtime::Handle::current, |r| r.handle().clone());
    let app = tasks
        .spawn(Application::build(config))
        .await
        .expect("the build task")
        .expect("the server starts");
    let address = app.local_addr();
    let store = app.store().clone();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let server = tasks.spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    Some(TestApp {
        address,
        store,
        backend,
        http: reqwest::Client::new(),
        shutdown: Some(shutdown),
        server: Some(server),
        runtime,
        _data_dir: data_dir,
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// Sends a request; `token` adds `Authorization: Bearer`, `body` a JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::from(request.send().await.expect("the server answers")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    /// Registers `username` (e-mail `username@example.com`, a fixed good password).
    pub async fn register(&self, username: &str) -> TestUser {
        let reply = self
            .call(
                Method::POST,
                "/api/auth/register",
                None,
                Some(json!({"email": format!("{username}@example.com"), "username": username, "password": PASSWORD})),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "register {username}: {}",
            reply.body
        );
        TestUser {
            id: reply.body["user"]["id"].as_str().unwrap().to_owned(),
            token: reply.body["access_token"].as_str().unwrap().to_owned(),
            refresh_cookie: reply
                .refresh_cookie
                .clone()
                .expect("register sets the refresh cookie"),
        }
    }

    /// `owner` creates a guild; returns its id and the id of its `general` text channel.
    pub async fn create_guild(&self, owner: &TestUser, name: &str) -> (String, String) {
        let guild = self
            .post("/api/guilds", &owner.token, json!({"name": name}))
            .await
            .expect(StatusCode::CREATED);
        let guild_id = guild["id"].as_str().unwrap().to_owned();
        let channels = self
            .get(&format!("/api/guilds/{guild_id}/channels"), &owner.token)
            .await
            .expect(StatusCode::OK);
        let general = channels
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "text")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        (guild_id, general)
    }

    /// `inviter` makes an invite to the guild and `joiner` accepts it.
    pub async fn join(&self, guild_id: &str, inviter: &TestUser, joiner: &TestUser) {
        let invite = self
            .post(
                &format!("/api/guilds/{guild_id}/invites"),
                &inviter.token,
                json!({}),
            )
            .await
            .expect(StatusCode::CREATED);
        let code = invite["code"].as_str().unwrap();
        self.post(&format!("/api/invites/{code}"), &joiner.token, json!({}))
            .await
            .expect(StatusCode::CREATED);
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server ran cleanly");
        }
    }

    /// Kills the server as a crash would: its runtime stops at once and drops every task
    /// wherever it is, so no graceful shutdown or other cleanup runs, its sockets (HTTP,
    /// gateway, voice UDP, NATS, database) close, and its upkeep stops. Only for a server
    /// from [`spawn_killable_app_with`].
    pub fn kill(mut self) {
        let runtime = self.runtime.take().expect("a server on its own runtime");
        runtime.shutdown_background();
    }
}

impl Drop for TestApp {
    // Dropping a runtime inside the test's runtime would panic: a server left running on its
    // own is stopped without waiting.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestUser {
    pub id: String,
    pub token: String,
    pub refresh_cookie: String,
}

/// A response: status, JSON body (`null` when empty) and the refresh cookie if one was set.
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
    pub refresh_cookie: Option<String>,
}

impl Reply {
    async fn from(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let refresh_cookie = headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.strip_prefix("madang_refresh=")
                    .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
            });
        let text = response.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if !status.is_success() {
            assert!(
                body["error"]["code"].is_string() && body["error"]["message"].is_string(),
                "every error is {{\"error\": {{code, message}}}}, got {status}: {body}"
            );
        }
        Reply {
            status,
            body,
            headers,
            refresh_cookie,
        }
    }

    /// The body, after checking the status.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "body: {}", self.body);
        self.body
    }

    /// The error code, after checking the status.
    #[track_caller]
    pub fn expect_error(self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.body);
    }
}
