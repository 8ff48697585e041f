//! Starting and stopping the servers under test: madang (one node or a cluster, on SQLite or
//! PostgreSQL), the Socket.IO peer and the raw broadcast limit. Each runs as its own process
//! on a free loopback port, so its CPU and memory can be read from /proc.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::process::{Child, Command};

/// Where the programs under test are.
#[derive(Debug, Clone, clap::Args)]
pub struct Programs {
    /// The madang binary.
    #[arg(long, default_value = "target/release/madang")]
    pub madang_bin: PathBuf,
    /// The raw broadcast limit's binary.
    #[arg(long, default_value = "target/release/raw-broadcast")]
    pub raw_bin: PathBuf,
    /// The Socket.IO peer's directory (with `node_modules` installed by `npm ci`).
    #[arg(long, default_value = "bench/peers/socketio")]
    pub socketio_dir: PathBuf,
    /// Node.js.
    #[arg(long, default_value = "node")]
    pub node_bin: PathBuf,
    /// PostgreSQL server to create benchmark databases in (trust auth).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    pub postgres: String,
    /// NATS server for cluster runs.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
}

/// The shared secret the Socket.IO peer checks tokens with; the load generator signs them.
pub const SOCKETIO_JWT_SECRET: &str = "madang-bench-socketio-peer-secret-0123456789";

/// Password every seeded user has.
pub const SEEDED_PASSWORD: &str = "benchmark-password";

/// Which database madang runs on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A running server under test (one or more processes).
pub struct RunningServer {
    children: Vec<Child>,
    /// `http://127.0.0.1:port` of each process.
    pub base_urls: Vec<String>,
}

impl RunningServer {
    pub fn pids(&self) -> Vec<u32> {
        self.children.iter().filter_map(|c| c.id()).collect()
    }

    pub fn addr(&self, node: usize) -> SocketAddr {
        let url = &self.base_urls[node % self.base_urls.len()];
        url.trim_start_matches("http://")
            .parse()
            .expect("base urls are http://ip:port")
    }

    /// Stops every process (SIGKILL: what they leave behind is thrown away).
    pub async fn stop(mut self) {
        for child in &mut self.children {
            let _ = child.kill().await;
        }
    }
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The URL of a database on the benchmark's PostgreSQL server.
pub fn postgres_url(server: &str, database: &str) -> String {
    format!("{}/{database}", server.trim_end_matches('/'))
}

/// Drops and creates a database, so each run starts empty.
pub async fn recreate_postgres_database(server: &str, database: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&postgres_url(server, "postgres"))
        .await
        .with_context(|| format!("cannot reach PostgreSQL at {server}"))?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin)
        .await?;
    Ok(())
}

/// How to start madang.
pub struct MadangLaunch<'a> {
    pub database_url: &'a str,
    pub data_dir: &'a Path,
    /// `local`, or the NATS URL for a cluster.
    pub bus_url: &'a str,
    pub nodes: usize,
    /// The NATS subject prefix, unique per run so runs never hear each other.
    pub cluster_name: &'a str,
}

pub async fn start_madang(
    programs: &Programs,
    launch: MadangLaunch<'_>,
) -> anyhow::Result<RunningServer> {
    let mut children = Vec::new();
    let mut base_urls = Vec::new();
    for node in 0..launch.nodes {
        let port = free_port()?;
        let node_dir = launch.data_dir.join(format!("node{node}"));
        std::fs::create_dir_all(&node_dir)?;
        let mut command = Command::new(&programs.madang_bin);
        // The server under test gets only the settings chosen here, not the caller's
        // `MADANG_*` variables (test harness variables share the prefix).
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("MADANG_") {
                command.env_remove(name);
            }
        }
        command
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&node_dir)
            .arg("--database-url")
            .arg(launch.database_url)
            .arg("--bus-url")
            .arg(launch.bus_url)
            // Setup only: logging in thousands of seeded users must not take hours. Every
            // measured operation is a normal API call.
            .env("MADANG_PASSWORD_HASHING__MEMORY_KIB", "64")
            .env("MADANG_PASSWORD_HASHING__ITERATIONS", "1")
            .env("MADANG_RATE_LIMITS__AUTH__PER_MINUTE", "100000000")
            .env("MADANG_RATE_LIMITS__AUTH__BURST", "100000000")
            .env("MADANG_RATE_LIMITS__USER__PER_MINUTE", "100000000")
            .env("MADANG_RATE_LIMITS__USER__BURST", "100000000")
            .env("MADANG_ACCESS_TOKEN_TTL_SECONDS", "86400")
            .env("MADANG_NODE_ID", node.to_string())
            .env("MADANG_GATEWAY__CLUSTER_NAME", launch.cluster_name)
            // Voice media on loopback, on a port of its own per process.
            .env("MADANG_VOICE__UDP_BIND", "127.0.0.1:0")
            .env("MADANG_VOICE__MAX_PARTICIPANTS_PER_CHANNEL", "1000")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", programs.madang_bin.display()))?;
        children.push(child);
        base_urls.push(format!("http://127.0.0.1:{port}"));
    }
    let server = RunningServer {
        children,
        base_urls,
    };
    for url in &server.base_urls {
        wait_ready(&format!("{url}/readyz")).await?;
    }
    Ok(server)
}

pub async fn start_socketio(
    programs: &Programs,
    database_url: &str,
) -> anyhow::Result<RunningServer> {
    anyhow::ensure!(
        programs.socketio_dir.join("node_modules").exists(),
        "run `npm ci` in {} first",
        programs.socketio_dir.display()
    );
    let port = free_port()?;
    let child = Command::new(&programs.node_bin)
        .arg("server.js")
        .current_dir(&programs.socketio_dir)
        .env("PORT", port.to_string())
        .env("DATABASE_URL", database_url)
        .env("JWT_SECRET", SOCKETIO_JWT_SECRET)
        .env("NODE_ENV", "production")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", programs.node_bin.display()))?;
    let url = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{url}/healthz")).await?;
    Ok(RunningServer {
        children: vec![child],
        base_urls: vec![url],
    })
}

pub async fn start_raw(programs: &Programs) -> anyhow::Result<RunningServer> {
    let port = free_port()?;
    let child = Command::new(&programs.raw_bin)
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", programs.raw_bin.display()))?;
    let addr = format!("127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(&addr).await.is_err() {
        anyhow::ensure!(Instant::now() < deadline, "raw-broadcast did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(RunningServer {
        children: vec![child],
        base_urls: vec![format!("http://{addr}")],
    })
}

/// Polls `url` until it answers 200, for at most 30 seconds.
async fn wait_ready(url: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "{url} did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
