//! A cluster of real `madang` processes on one PostgreSQL and one NATS: a node is killed
//! with SIGKILL while messages flow, and its client resumes on another node with nothing
//! missed and nothing twice.

#[path = "../../server/tests/gateway/client.rs"]
#[allow(dead_code)]
mod client;

use std::net::{SocketAddr, TcpListener};
use std::process::Stdio;
use std::time::Duration;

use client::Client;
use madang_store::testing::{TestBackend, fresh_database_url};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

fn free_address() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

struct Node {
    address: SocketAddr,
    process: Child,
    _data_dir: tempfile::TempDir,
}

async fn start_node(node_id: u16, database_url: &str, nats_url: &str, cluster: &str) -> Node {
    let address = free_address();
    let data_dir = tempfile::tempdir().unwrap();
    let process = Command::new(env!("CARGO_BIN_EXE_madang"))
        .arg("serve")
        .env("MADANG_LISTEN", address.to_string())
        .env("MADANG_DATA_DIR", data_dir.path())
        .env("MADANG_DATABASE_URL", database_url)
        .env("MADANG_BUS_URL", nats_url)
        .env("MADANG_NODE_ID", node_id.to_string())
        .env("MADANG_GATEWAY__CLUSTER_NAME", cluster)
        .env("MADANG_PASSWORD_HASHING__MEMORY_KIB", "64")
        .env("MADANG_PASSWORD_HASHING__ITERATIONS", "1")
        .env("MADANG_RATE_LIMITS__AUTH__PER_MINUTE", "100000")
        .env("MADANG_RATE_LIMITS__AUTH__BURST", "100000")
        .env("MADANG_RATE_LIMITS__INVITES__PER_MINUTE", "100000")
        .env("MADANG_RATE_LIMITS__INVITES__BURST", "100000")
        .env("MADANG_RATE_LIMITS__USER__PER_MINUTE", "100000")
        .env("MADANG_RATE_LIMITS__USER__BURST", "100000")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the madang binary starts");
    let http = reqwest::Client::new();
    let ready = async {
        loop {
            if let Ok(response) = http.get(format!("http://{address}/readyz")).send().await
                && response.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(client::WAIT, ready)
        .await
        .expect("the node becomes ready");
    Node {
        address,
        process,
        _data_dir: data_dir,
    }
}

async fn call(
    address: SocketAddr,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> Value {
    let mut request = reqwest::Client::new()
        .request(method, format!("http://{address}{path}"))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the node answers");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

async fn register(address: SocketAddr, name: &str) -> (String, String) {
    let body = json!({"email": format!("{name}@example.com"), "username": name, "password": "correct horse battery staple"});
    let reply = call(
        address,
        reqwest::Method::POST,
        "/api/auth/register",
        None,
        body,
    )
    .await;
    (
        reply["user"]["id"].as_str().unwrap().to_owned(),
        reply["access_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_client_of_a_killed_node_resumes_on_another_without_gaps() {
    let Some(nats) = madang_bus::testing::nats_url("the cluster failover test") else {
        return;
    };
    let database_dir = tempfile::tempdir().unwrap();
    let Some(database) = fresh_database_url(TestBackend::Postgres, database_dir.path()).await
    else {
        return;
    };
    let cluster = format!("failover-{:016x}", rand::random::<u64>());
    let mut victim = start_node(1, &database, &nats, &cluster).await;
    let survivor = start_node(2, &database, &nats, &cluster).await;
    let post = reqwest::Method::POST;

    let (_, kim) = register(survivor.address, "kim").await;
    let (_, lee) = register(victim.address, "lee").await;
    let guild = call(
        survivor.address,
        post.clone(),
        "/api/guilds",
        Some(&kim),
        json!({"name": "Failover"}),
    )
    .await;
    let guild_id = guild["id"].as_str().unwrap().to_owned();
    let channels = call(
        survivor.address,
        reqwest::Method::GET,
        &format!("/api/guilds/{guild_id}/channels"),
        Some(&kim),
        Value::Null,
    )
    .await;
    let general = channels
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "text")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invite = call(
        survivor.address,
        post.clone(),
        &format!("/api/guilds/{guild_id}/invites"),
        Some(&kim),
        json!({}),
    )
    .await;
    call(
        victim.address,
        post.clone(),
        &format!("/api/invites/{}", invite["code"].as_str().unwrap()),
        Some(&lee),
        json!({}),
    )
    .await;

    let mut client = Client::connect_and_identify(victim.address, &lee).await;

    // One sender on the surviving node, so commit order is send order.
    const TOTAL: usize = 80;
    let sender = {
        let (address, token, general) = (survivor.address, kim.clone(), general.clone());
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for n in 0..TOTAL {
                let path = format!("/api/channels/{general}/messages");
                let message = call(
                    address,
                    reqwest::Method::POST,
                    &path,
                    Some(&token),
                    json!({"content": format!("m{n}")}),
                )
                .await;
                ids.push(message["id"].as_str().unwrap().to_owned());
            }
            ids
        })
    };

    let mut received = Vec::new();
    while received.len() < 15 {
        received.push(
            client.expect("MESSAGE_CREATE").await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    victim.process.start_kill().expect("SIGKILL the node");
    victim.process.wait().await.unwrap();
    // Whatever the dead node managed to send before dying still counts as received.
    loop {
        match client.frame().await {
            client::Frame::Closed(_) => break,
            client::Frame::Json(frame) => {
                if frame["t"] == "MESSAGE_CREATE" {
                    assert_eq!(frame["s"].as_i64(), Some(client.seq + 1));
                    client.seq += 1;
                    received.push(frame["d"]["id"].as_str().unwrap().to_owned());
                }
            }
        }
    }
    let (mut client, replayed) = client.resume(survivor.address, &lee).await;
    received.extend(
        replayed
            .into_iter()
            .filter(|d| d.t == "MESSAGE_CREATE")
            .map(|d| d.d["id"].as_str().unwrap().to_owned()),
    );
    while received.len() < TOTAL {
        received.push(
            client.expect("MESSAGE_CREATE").await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let sent = sender.await.unwrap();
    assert_eq!(received, sent, "every message exactly once, in order");
}
