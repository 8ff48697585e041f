//! The scenarios. Each one prepares its server under test (a fresh database, seeded; the
//! server started; tokens obtained as setup), measures only operations that go through the
//! public API, and returns a result that serialises to the raw JSON.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::StreamExt;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::watch;

use crate::clients::{self, Deliveries, Sender, SenderSpec, SessionSpec, Target, unix_micros};
use crate::process::{Usage, UsageReport, rss_bytes};
use crate::seed::{self, Layout, Schema};
use crate::servers::{self, Engine, MadangLaunch, Programs, RunningServer};
use crate::stats::{Histogram, Latency};

/// Sessions set up at once while connecting.
const CONNECT_CONCURRENCY: usize = 64;
/// How long a run waits, after the last send, for deliveries still in flight.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);
/// Largest per-process share of connections (a process may hold 20,000 open files).
pub const MAX_CONNECTIONS_PER_PROCESS: usize = 18_000;

/// What a scenario runs against.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Setup {
    pub target: Target,
    /// madang's database; the Socket.IO peer always uses PostgreSQL, the raw limit none.
    pub engine: Engine,
    /// madang nodes (a cluster on PostgreSQL and NATS when more than one).
    pub nodes: usize,
}

impl Setup {
    pub fn name(&self) -> String {
        match self.target {
            Target::Madang if self.nodes > 1 => {
                format!("madang ×{} nodes (PostgreSQL + NATS)", self.nodes)
            }
            Target::Madang => format!("madang ({})", engine_name(self.engine)),
            Target::Socketio => "socket.io (PostgreSQL)".into(),
            Target::Raw => "raw limit".into(),
        }
    }
}

pub fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "SQLite",
        Engine::Postgres => "PostgreSQL",
    }
}

/// A server under test, seeded, with tokens for its users.
pub struct Stage {
    pub setup: Setup,
    pub server: RunningServer,
    pub layout: Layout,
    pub tokens: Vec<String>,
    /// Holds the SQLite file for as long as the stage lives.
    _data_dir: tempfile::TempDir,
}

/// Creates a fresh database, seeds `users` users (and `history` messages), starts the
/// server and obtains a token for each user.
pub async fn prepare(
    programs: &Programs,
    setup: Setup,
    users: usize,
    history: u64,
) -> anyhow::Result<Stage> {
    let layout = Layout { users, history };
    let data_dir = tempfile::Builder::new().prefix("madang-bench-").tempdir()?;
    let server = match setup.target {
        Target::Madang => {
            let url = match setup.engine {
                Engine::Postgres => {
                    servers::recreate_postgres_database(&programs.postgres, "madang_bench").await?;
                    servers::postgres_url(&programs.postgres, "madang_bench")
                }
                Engine::Sqlite => format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.path().join("madang.db").display()
                ),
            };
            seed::seed(&url, Schema::Madang, layout, "")
                .await
                .context("seeding madang")?;
            let cluster_name = format!("bench{}", unix_micros());
            let bus_url = if setup.nodes > 1 {
                programs.nats.as_str()
            } else {
                "local"
            };
            servers::start_madang(
                programs,
                MadangLaunch {
                    database_url: &url,
                    data_dir: data_dir.path(),
                    bus_url,
                    nodes: setup.nodes,
                    cluster_name: &cluster_name,
                },
            )
            .await?
        }
        Target::Socketio => {
            servers::recreate_postgres_database(&programs.postgres, "socketio_bench").await?;
            let url = servers::postgres_url(&programs.postgres, "socketio_bench");
            let schema = std::fs::read_to_string(programs.socketio_dir.join("schema.sql"))?;
            seed::seed(&url, Schema::Socketio, layout, &schema)
                .await
                .context("seeding the Socket.IO peer")?;
            servers::start_socketio(programs, &url).await?
        }
        Target::Raw => servers::start_raw(programs).await?,
    };
    let tokens = clients::tokens(setup.target, &server.base_urls[0], &layout, users).await?;
    Ok(Stage {
        setup,
        server,
        layout,
        tokens,
        _data_dir: data_dir,
    })
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, clap::Args)]
pub struct FanoutOptions {
    /// Connected members of the channel.
    #[arg(long, default_value_t = 1000)]
    pub members: usize,
    /// Senders posting to the channel.
    #[arg(long, default_value_t = 4)]
    pub senders: usize,
    /// Messages per second, all senders together; 0: each sender posts as soon as its
    /// previous message is acknowledged.
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Seconds of sending before the measurement window.
    #[arg(long, default_value_t = 2.0)]
    pub warmup_seconds: f64,
    /// Seconds in the measurement window.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FanoutResult {
    pub setup: Setup,
    pub options: FanoutOptions,
    pub connect_seconds: f64,
    pub sent_in_window: u64,
    pub expected_deliveries: u64,
    pub deliveries_per_second: f64,
    pub delivered_fraction: f64,
    /// Send → each receiver.
    pub latency: Latency,
    /// Send → acknowledgement, at the senders.
    pub send_ack: Latency,
    pub server: UsageReport,
    pub closed_by_server: u64,
}

/// Opens `count` receiving sessions of users `first..first + count`, spread over the
/// server's nodes, and starts reading them.
async fn open_receivers(
    stage: &Stage,
    first: usize,
    count: usize,
    presence: &str,
    deliveries: &Arc<Deliveries>,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let specs: Vec<SessionSpec> = (first..first + count)
        .map(|user| SessionSpec {
            target: stage.setup.target,
            server: stage.server.addr(user),
            connection_index: user,
            token: stage.tokens[user].clone(),
            channel_id: stage.layout.channel_id(),
            presence: presence.to_owned(),
        })
        .collect();
    let sessions: Vec<_> = futures_util::stream::iter(specs.iter())
        .map(clients::open_session)
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    let mut tasks = Vec::with_capacity(count);
    for session in sessions {
        let (socket, keep_alive) = session?;
        tasks.push(tokio::spawn(clients::receive(
            socket,
            keep_alive,
            deliveries.clone(),
            stop.clone(),
        )));
    }
    Ok(tasks)
}

/// Senders post at `rate` for warm-up + window; returns (sent in window, send→ack latency).
async fn run_senders(
    stage: &Stage,
    first_user: usize,
    senders: usize,
    rate: f64,
    total: Duration,
    deliveries: &Arc<Deliveries>,
    ack_latency: &Arc<Histogram>,
) -> anyhow::Result<u64> {
    let sent_in_window = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    let deadline = Instant::now() + total;
    for index in 0..senders {
        let user = first_user + index;
        let mut sender = Sender::open(SenderSpec {
            target: stage.setup.target,
            server: stage.server.addr(index),
            connection_index: user,
            token: &stage.tokens[user],
            channel_id: stage.layout.channel_id(),
        })
        .await?;
        let interval = (rate > 0.0).then(|| Duration::from_secs_f64(senders as f64 / rate));
        let deliveries = deliveries.clone();
        let ack_latency = ack_latency.clone();
        let sent_in_window = sent_in_window.clone();
        let run = unix_micros();
        tasks.push(tokio::spawn(async move {
            let mut next = tokio::time::Instant::now();
            let mut number = 0u64;
            while Instant::now() < deadline {
                if let Some(interval) = interval {
                    // Paced; a sender that fell behind goes on from now rather than bursting.
                    next = (next + interval).max(tokio::time::Instant::now() - interval);
                    tokio::time::sleep_until(next).await;
                }
                number += 1;
                let (content, sent) = clients::message_content(index, number);
                let nonce = format!("{run}-{index}-{number}");
                let started = Instant::now();
                sender.send(&content, &nonce).await?;
                ack_latency.record(started.elapsed().as_micros() as u64);
                if deliveries.in_window(sent) {
                    sent_in_window.fetch_add(1, Ordering::Relaxed);
                }
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(sent_in_window.load(Ordering::Relaxed))
}

pub async fn fanout(
    stage: &Stage,
    options: FanoutOptions,
    presence: &str,
) -> anyhow::Result<FanoutResult> {
    anyhow::ensure!(
        stage.tokens.len() >= options.members + options.senders,
        "too few seeded users"
    );
    let deliveries = Arc::new(Deliveries::default());
    let (stop, stopped) = watch::channel(false);
    let connect_started = Instant::now();
    let receivers =
        open_receivers(stage, 0, options.members, presence, &deliveries, &stopped).await?;
    let connect_seconds = connect_started.elapsed().as_secs_f64();
    // Let the connection storm (presence announcements, READY) settle before measuring.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let warmup = Duration::from_secs_f64(options.warmup_seconds);
    let window = Duration::from_secs_f64(options.seconds);
    let ack_latency = Arc::new(Histogram::default());
    let started = unix_micros();
    deliveries.open_window(started + warmup.as_micros() as u64);
    deliveries.close_window(started + (warmup + window).as_micros() as u64);
    let senders = run_senders(
        stage,
        options.members,
        options.senders,
        options.rate,
        warmup + window,
        &deliveries,
        &ack_latency,
    );
    let usage = async {
        tokio::time::sleep(warmup).await;
        let usage = Usage::start(&stage.server.pids());
        tokio::time::sleep(window).await;
        usage.finish()
    };
    let (sent_in_window, server) = tokio::join!(senders, usage);
    let sent_in_window = sent_in_window?;
    let expected = sent_in_window * options.members as u64;
    // Wait for what is still in flight, as long as it keeps arriving.
    let drain_deadline = Instant::now() + DRAIN_LIMIT;
    let mut last = deliveries.latency.count();
    while Instant::now() < drain_deadline && last < expected {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = deliveries.latency.count();
        if now == last {
            break;
        }
        last = now;
    }
    let _ = stop.send(true);
    for receiver in receivers {
        let _ = receiver.await;
    }
    let delivered = deliveries.latency.count();
    Ok(FanoutResult {
        setup: stage.setup,
        options,
        connect_seconds,
        sent_in_window,
        expected_deliveries: expected,
        deliveries_per_second: delivered as f64 / window.as_secs_f64(),
        delivered_fraction: if expected == 0 {
            0.0
        } else {
            delivered as f64 / expected as f64
        },
        latency: deliveries.latency.summary(),
        send_ack: ack_latency.summary(),
        server,
        closed_by_server: deliveries.closed_by_server.load(Ordering::Relaxed),
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendPathResult {
    pub setup: Setup,
    pub senders: usize,
    /// Offered messages per second; 0: as fast as acknowledgements come.
    pub rate: f64,
    pub acked_per_second: f64,
    pub send_ack: Latency,
    pub server: UsageReport,
}

/// `senders` clients post for `seconds` (after a second of warm-up), each as soon as its
/// previous message is acknowledged, or paced to `rate` messages per second in all.
pub async fn send_path(
    stage: &Stage,
    senders: usize,
    rate: f64,
    seconds: f64,
) -> anyhow::Result<SendPathResult> {
    let deliveries = Arc::new(Deliveries::default());
    let ack_latency = Arc::new(Histogram::default());
    let warmup = Duration::from_secs(1);
    let window = Duration::from_secs_f64(seconds);
    let started = unix_micros();
    deliveries.open_window(started + warmup.as_micros() as u64);
    deliveries.close_window(started + (warmup + window).as_micros() as u64);
    let run = run_senders(
        stage,
        0,
        senders,
        rate,
        warmup + window,
        &deliveries,
        &ack_latency,
    );
    let usage = async {
        tokio::time::sleep(warmup).await;
        let usage = Usage::start(&stage.server.pids());
        tokio::time::sleep(window).await;
        usage.finish()
    };
    let (acked, server) = tokio::join!(run, usage);
    Ok(SendPathResult {
        setup: stage.setup,
        senders,
        rate,
        acked_per_second: acked? as f64 / window.as_secs_f64(),
        send_ack: ack_latency.summary(),
        server,
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryResult {
    pub setup: Setup,
    pub messages: u64,
    pub pages: usize,
    pub page: Latency,
}

/// `pages` pages of 50 messages before random points of the seeded history, one at a time.
pub async fn history(stage: &Stage, pages: usize) -> anyhow::Result<HistoryResult> {
    let layout = stage.layout;
    anyhow::ensure!(
        layout.history > 100,
        "the history scenario needs a seeded history"
    );
    let http = reqwest::Client::new();
    let base_url = &stage.server.base_urls[0];
    let latency = Histogram::default();
    // One untimed page, so connection set-up is not measured.
    clients::history_page(
        &http,
        base_url,
        &stage.tokens[0],
        layout.channel_id(),
        i64::MAX,
    )
    .await?;
    for _ in 0..pages {
        let point = rand::rng().random_range(50..layout.history);
        let started = Instant::now();
        let count = clients::history_page(
            &http,
            base_url,
            &stage.tokens[0],
            layout.channel_id(),
            layout.history_id(point),
        )
        .await?;
        latency.record(started.elapsed().as_micros() as u64);
        anyhow::ensure!(count == 50, "a history page held {count} messages, not 50");
    }
    Ok(HistoryResult {
        setup: stage.setup,
        messages: layout.history,
        pages,
        page: latency.summary(),
    })
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectionsResult {
    pub setup: Setup,
    pub sessions: usize,
    pub client_processes: usize,
    pub connect_seconds: f64,
    pub server_rss_before: u64,
    pub server_rss_after: u64,
    pub rss_per_session_bytes: f64,
    /// Resident memory 100,000 sessions would take on one node at this cost per session.
    pub extrapolated_100k_bytes: f64,
}

/// Opens `sessions` idle sessions from several client processes (`connect-worker`), then
/// reads the server's resident memory.
pub async fn connections(
    stage: &Stage,
    sessions: usize,
    presence: &str,
    own_binary: &Path,
) -> anyhow::Result<ConnectionsResult> {
    anyhow::ensure!(stage.tokens.len() >= sessions, "too few seeded users");
    let pids = stage.server.pids();
    anyhow::ensure!(pids.len() == 1, "connections are measured on one node");
    // Let the freshly started server finish its start-up allocations, so the baseline RSS
    // is the idle server's and the per-session figure counts sessions only.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_bytes(pids[0])?;
    let processes = sessions.div_ceil(MAX_CONNECTIONS_PER_PROCESS / 2).max(1);
    let tokens_file = tempfile::NamedTempFile::new()?;
    std::fs::write(
        tokens_file.path(),
        serde_json::to_vec(&stage.tokens[..sessions])?,
    )?;
    let started = Instant::now();
    let mut workers = Vec::new();
    let share = sessions.div_ceil(processes);
    for worker in 0..processes {
        let first = worker * share;
        let count = share.min(sessions - first);
        let mut child = tokio::process::Command::new(own_binary)
            .arg("connect-worker")
            .arg("--target")
            .arg(match stage.setup.target {
                Target::Madang => "madang",
                Target::Socketio => "socketio",
                Target::Raw => "raw",
            })
            .arg("--server")
            .arg(stage.server.addr(0).to_string())
            .arg("--tokens-file")
            .arg(tokens_file.path())
            .arg("--first")
            .arg(first.to_string())
            .arg("--count")
            .arg(count.to_string())
            .arg("--channel-id")
            .arg(stage.layout.channel_id().to_string())
            .arg("--presence")
            .arg(presence)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = BufReader::new(child.stdout.take().context("worker stdout")?);
        workers.push((child, stdout));
    }
    for (_, stdout) in &mut workers {
        let mut line = String::new();
        let read =
            tokio::time::timeout(Duration::from_secs(600), stdout.read_line(&mut line)).await;
        anyhow::ensure!(
            matches!(read, Ok(Ok(n)) if n > 0) && line.starts_with("ready"),
            "a connect worker failed: {line:?}"
        );
    }
    let connect_seconds = started.elapsed().as_secs_f64();
    // Let queues drain and allocators settle before reading memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = rss_bytes(pids[0])?;
    for (mut child, _) in workers {
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.shutdown().await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    }
    let per_session = after.saturating_sub(before) as f64 / sessions as f64;
    Ok(ConnectionsResult {
        setup: stage.setup,
        sessions,
        client_processes: processes,
        connect_seconds,
        server_rss_before: before,
        server_rss_after: after,
        rss_per_session_bytes: per_session,
        extrapolated_100k_bytes: before as f64 + per_session * 100_000.0,
    })
}

/// The client side of `connections`: opens its share of sessions, says `ready` on stdout,
/// keeps them alive until stdin closes.
pub async fn connect_worker(
    target: Target,
    server: std::net::SocketAddr,
    tokens: Vec<String>,
    first: usize,
    channel_id: i64,
    presence: &str,
) -> anyhow::Result<()> {
    let deliveries = Arc::new(Deliveries::default());
    let (stop, stopped) = watch::channel(false);
    let specs: Vec<SessionSpec> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| SessionSpec {
            target,
            server,
            connection_index: first + i,
            token,
            channel_id,
            presence: presence.to_owned(),
        })
        .collect();
    let sessions: Vec<_> = futures_util::stream::iter(specs.iter())
        .map(clients::open_session)
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    let mut tasks = Vec::new();
    for session in sessions {
        let (socket, keep_alive) = session?;
        tasks.push(tokio::spawn(clients::receive(
            socket,
            keep_alive,
            deliveries.clone(),
            stopped.clone(),
        )));
    }
    let mut stdout = tokio::io::stdout();
    stdout.write_all(b"ready\n").await?;
    stdout.flush().await?;
    let mut stdin = BufReader::new(tokio::io::stdin());
    let mut line = String::new();
    // Bounded: the orchestrator closes stdin when done, and an hour is far beyond any run.
    let _ = tokio::time::timeout(Duration::from_secs(3600), stdin.read_line(&mut line)).await;
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
    }
    Ok(())
}
