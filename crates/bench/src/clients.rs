//! The clients the load generator runs, one kind per server under test, each speaking that
//! server's public protocol exactly as its real clients do:
//! - madang: REST under `/api` (login, post, history) and the gateway at `/gateway`
//!   (hello → identify → READY → dispatches, heartbeats at the announced interval);
//! - the Socket.IO peer: Engine.IO v4 over WebSocket (`0` open, `2`/`3` ping/pong, `4x`
//!   Socket.IO packets: `40` connect with the token as auth, `42` events, `43` acks), and its
//!   Express REST route for history;
//! - the raw limit: a WebSocket at `/sub` (receive) or `/pub` (send).
//!
//! Every benchmark message carries its send time in its text as `bench-t<unix µs>-`, so a
//! receiver learns the end-to-end latency without decoding the JSON around it.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::seed::Layout;
use crate::servers::{SEEDED_PASSWORD, SOCKETIO_JWT_SECRET};
use crate::stats::Histogram;

/// Which server a benchmark drives.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Madang,
    Socketio,
    Raw,
}

const MARKER: &[u8] = b"bench-t";
/// Benchmark messages are this long, like the 64-byte messages of the design notes.
pub const MESSAGE_BYTES: usize = 64;
/// Connections made from one loopback source address before moving to the next, well
/// under the ~28k ephemeral ports one (source, destination) pair has.
const CONNECTIONS_PER_SOURCE_ADDRESS: usize = 5_000;

pub fn unix_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_micros() as u64
}

/// A benchmark message: the send time, who sent it and its number, padded to 64 bytes;
/// returned with its send time.
pub fn message_content(sender: usize, number: u64) -> (String, u64) {
    let sent = unix_micros();
    let mut content = format!("bench-t{sent}-s{sender}-{number} ");
    while content.len() < MESSAGE_BYTES {
        content.push('.');
    }
    (content, sent)
}

/// The send time a frame carries, if it is a benchmark message.
pub fn sent_micros(frame: &[u8]) -> Option<u64> {
    let start = frame.windows(MARKER.len()).position(|w| w == MARKER)? + MARKER.len();
    let digits = frame[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&frame[start..start + digits])
        .ok()?
        .parse()
        .ok()
}

/// What the receivers of one run record.
pub struct Deliveries {
    /// Send→receive latency of messages sent inside the measurement window.
    pub latency: Histogram,
    /// The window, unix µs; messages sent outside it are not counted.
    window_start: AtomicU64,
    window_end: AtomicU64,
    /// Sessions the server closed during the run (a slow consumer, an error).
    pub closed_by_server: AtomicU64,
}

impl Default for Deliveries {
    fn default() -> Self {
        Deliveries {
            latency: Histogram::default(),
            window_start: AtomicU64::new(u64::MAX),
            window_end: AtomicU64::new(u64::MAX),
            closed_by_server: AtomicU64::new(0),
        }
    }
}

impl Deliveries {
    pub fn open_window(&self, at: u64) {
        self.window_start.store(at, Ordering::Relaxed);
    }

    pub fn close_window(&self, at: u64) {
        self.window_end.store(at, Ordering::Relaxed);
    }

    pub fn in_window(&self, sent: u64) -> bool {
        sent >= self.window_start.load(Ordering::Relaxed)
            && sent < self.window_end.load(Ordering::Relaxed)
    }

    fn received(&self, frame: &[u8]) {
        let Some(sent) = sent_micros(frame) else {
            return;
        };
        if self.in_window(sent) {
            self.latency.record(unix_micros().saturating_sub(sent));
        }
    }
}

/// Opens a TCP connection from loopback source address number `source` (127.0.x.y), so
/// tens of thousands of connections to one port do not run out of ephemeral ports.
pub async fn connect_from(
    server: SocketAddr,
    connection_index: usize,
) -> anyhow::Result<TcpStream> {
    let source = connection_index / CONNECTIONS_PER_SOURCE_ADDRESS;
    let ip = Ipv4Addr::new(127, 0, 1 + (source / 250) as u8, 1 + (source % 250) as u8);
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from((ip, 0)))?;
    let stream = socket
        .connect(server)
        .await
        .with_context(|| format!("cannot connect from {ip} to {server}"))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

type Socket = WebSocketStream<TcpStream>;

async fn websocket(
    server: SocketAddr,
    connection_index: usize,
    path: &str,
) -> anyhow::Result<Socket> {
    let stream = connect_from(server, connection_index).await?;
    // Small buffers keep thousands of client connections cheap for the load generator.
    let config = WebSocketConfig::default()
        .read_buffer_size(16 * 1024)
        .write_buffer_size(0);
    let url = format!("ws://{server}{path}");
    let (socket, _) =
        tokio_tungstenite::client_async_with_config(url, stream, Some(config)).await?;
    Ok(socket)
}

async fn next_text(socket: &mut Socket) -> anyhow::Result<String> {
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
            Some(Ok(Message::Close(frame))) => anyhow::bail!("closed by the server: {frame:?}"),
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(error.into()),
            None => anyhow::bail!("connection ended"),
        }
    }
}

/// How a session stays alive once set up.
enum KeepAlive {
    /// madang: a heartbeat every interval.
    Heartbeat(Duration),
    /// Engine.IO: answer the server's ping `2` with pong `3`.
    Pong,
    None,
}

/// Credentials and addresses of one receiving session.
pub struct SessionSpec {
    pub target: Target,
    pub server: SocketAddr,
    pub connection_index: usize,
    /// madang access token or Socket.IO JWT; unused for the raw limit.
    pub token: String,
    pub channel_id: i64,
    /// madang's identify status (`online` or `invisible`).
    pub presence: String,
}

/// Connects and sets up one session (identified, or joined to the channel), ready to
/// receive.
pub async fn open_session(spec: &SessionSpec) -> anyhow::Result<(Socket, KeepAliveHandle)> {
    match spec.target {
        Target::Madang => {
            let mut socket = websocket(spec.server, spec.connection_index, "/gateway").await?;
            let hello: serde_json::Value = serde_json::from_str(&next_text(&mut socket).await?)?;
            let interval = hello["d"]["heartbeat_interval_ms"]
                .as_u64()
                .context("hello without heartbeat_interval_ms")?;
            let identify = serde_json::json!({"op": "identify", "d": {"token": spec.token, "status": spec.presence}});
            socket
                .send(Message::Text(identify.to_string().into()))
                .await?;
            loop {
                let text = next_text(&mut socket).await?;
                if text.contains("\"t\":\"READY\"") {
                    break;
                }
            }
            Ok((
                socket,
                KeepAliveHandle(KeepAlive::Heartbeat(Duration::from_millis(interval))),
            ))
        }
        Target::Socketio => {
            let mut socket =
                socketio_connect(spec.server, spec.connection_index, &spec.token).await?;
            socket
                .send(Message::Text(
                    format!("420[\"channel:join\",\"{}\"]", spec.channel_id).into(),
                ))
                .await?;
            loop {
                let text = next_text(&mut socket).await?;
                if text == "2" {
                    socket.send(Message::Text("3".into())).await?;
                } else if let Some(ack) = text.strip_prefix("430") {
                    anyhow::ensure!(ack.contains("\"ok\":true"), "channel:join refused: {ack}");
                    break;
                }
            }
            Ok((socket, KeepAliveHandle(KeepAlive::Pong)))
        }
        Target::Raw => {
            let socket = websocket(spec.server, spec.connection_index, "/sub").await?;
            Ok((socket, KeepAliveHandle(KeepAlive::None)))
        }
    }
}

/// How an open session is kept alive; opaque outside this module.
pub struct KeepAliveHandle(KeepAlive);

/// Engine.IO open, then Socket.IO connect to the main namespace with the token as auth.
async fn socketio_connect(
    server: SocketAddr,
    connection_index: usize,
    token: &str,
) -> anyhow::Result<Socket> {
    let mut socket = websocket(
        server,
        connection_index,
        "/socket.io/?EIO=4&transport=websocket",
    )
    .await?;
    let open = next_text(&mut socket).await?;
    anyhow::ensure!(
        open.starts_with('0'),
        "expected an Engine.IO open packet, got {open}"
    );
    let connect = format!("40{}", serde_json::json!({"token": token}));
    socket.send(Message::Text(connect.into())).await?;
    loop {
        let text = next_text(&mut socket).await?;
        if text.starts_with("40") {
            return Ok(socket);
        }
        anyhow::ensure!(!text.starts_with("44"), "Socket.IO connect refused: {text}");
        if text == "2" {
            socket.send(Message::Text("3".into())).await?;
        }
    }
}

/// Reads a set-up session until `stop` turns true, recording every benchmark message.
pub async fn receive(
    mut socket: Socket,
    keep_alive: KeepAliveHandle,
    deliveries: Arc<Deliveries>,
    mut stop: watch::Receiver<bool>,
) {
    let heartbeat_every = match keep_alive.0 {
        KeepAlive::Heartbeat(interval) => Some(interval),
        _ => None,
    };
    let answers_pings = matches!(keep_alive.0, KeepAlive::Pong);
    let mut heartbeat = tokio::time::interval(heartbeat_every.unwrap_or(Duration::from_secs(3600)));
    heartbeat.tick().await;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = heartbeat.tick(), if heartbeat_every.is_some() => {
                let frame = r#"{"op":"heartbeat","d":{"seq":null}}"#;
                if socket.send(Message::Text(frame.into())).await.is_err() { break }
            }
            message = socket.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    if answers_pings && text.as_str() == "2" {
                        if socket.send(Message::Text("3".into())).await.is_err() { break }
                    } else {
                        deliveries.received(text.as_bytes());
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    deliveries.closed_by_server.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = socket.close(None).await;
}

/// A client that posts benchmark messages and waits for each acknowledgement.
pub enum Sender {
    /// `POST /api/channels/{id}/messages`, acknowledged by its 201 answer.
    Madang {
        http: reqwest::Client,
        url: String,
        token: String,
    },
    /// `message:create` with an ack id, acknowledged by the server's `43<id>`.
    Socketio {
        outgoing: mpsc::UnboundedSender<String>,
        pending: Arc<Mutex<HashMap<u64, oneshot::Sender<String>>>>,
        next_ack: u64,
        channel_id: i64,
    },
    /// A frame on `/pub`, acknowledged by the raw limit's `ack` once queued for every
    /// subscriber.
    Raw { socket: Box<Socket> },
}

pub struct SenderSpec<'a> {
    pub target: Target,
    pub server: SocketAddr,
    pub connection_index: usize,
    pub token: &'a str,
    pub channel_id: i64,
}

impl Sender {
    pub async fn open(spec: SenderSpec<'_>) -> anyhow::Result<Sender> {
        match spec.target {
            Target::Madang => Ok(Sender::Madang {
                http: reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()?,
                url: format!(
                    "http://{}/api/channels/{}/messages",
                    spec.server, spec.channel_id
                ),
                token: spec.token.to_owned(),
            }),
            Target::Socketio => {
                let session = SessionSpec {
                    target: Target::Socketio,
                    server: spec.server,
                    connection_index: spec.connection_index,
                    token: spec.token.to_owned(),
                    channel_id: spec.channel_id,
                    presence: String::new(),
                };
                let (socket, _) = open_session(&session).await?;
                let (mut sink, mut source) = socket.split();
                let (outgoing, mut to_send) = mpsc::unbounded_channel::<String>();
                let pending: Arc<Mutex<HashMap<u64, oneshot::Sender<String>>>> = Arc::default();
                // The sender is in the room too, so it reads (and drops) every broadcast.
                let acks = pending.clone();
                let pong = outgoing.clone();
                tokio::spawn(async move {
                    while let Some(Ok(message)) = source.next().await {
                        let Message::Text(text) = message else {
                            continue;
                        };
                        if text.as_str() == "2" {
                            let _ = pong.send("3".into());
                        } else if let Some(rest) = text.strip_prefix("43") {
                            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                            if let Ok(id) = rest[..digits].parse::<u64>()
                                && let Some(waiter) =
                                    acks.lock().expect("acks mutex poisoned").remove(&id)
                            {
                                let _ = waiter.send(rest[digits..].to_owned());
                            }
                        }
                    }
                });
                tokio::spawn(async move {
                    while let Some(text) = to_send.recv().await {
                        if sink.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                });
                Ok(Sender::Socketio {
                    outgoing,
                    pending,
                    next_ack: 0,
                    channel_id: spec.channel_id,
                })
            }
            Target::Raw => Ok(Sender::Raw {
                socket: Box::new(websocket(spec.server, spec.connection_index, "/pub").await?),
            }),
        }
    }

    /// Sends one message and returns when the server acknowledged it as stored.
    pub async fn send(&mut self, content: &str, nonce: &str) -> anyhow::Result<()> {
        match self {
            Sender::Madang { http, url, token } => {
                let response = http
                    .post(url.as_str())
                    .bearer_auth(token.as_str())
                    .json(&serde_json::json!({"content": content, "nonce": nonce}))
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status() == reqwest::StatusCode::CREATED,
                    "posting a message answered {}: {}",
                    response.status(),
                    response.text().await.unwrap_or_default()
                );
                Ok(())
            }
            Sender::Socketio {
                outgoing,
                pending,
                next_ack,
                channel_id,
            } => {
                *next_ack += 1;
                let (done, acked) = oneshot::channel();
                pending
                    .lock()
                    .expect("acks mutex poisoned")
                    .insert(*next_ack, done);
                let request = serde_json::json!({"channel_id": channel_id.to_string(), "content": content, "nonce": nonce});
                outgoing
                    .send(format!("42{}[\"message:create\",{request}]", next_ack))
                    .map_err(|_| anyhow::anyhow!("the Socket.IO connection is gone"))?;
                let ack = acked
                    .await
                    .context("the Socket.IO connection closed before the ack")?;
                anyhow::ensure!(!ack.contains("\"error\""), "message:create refused: {ack}");
                Ok(())
            }
            Sender::Raw { socket } => {
                socket
                    .send(Message::Text(content.to_owned().into()))
                    .await?;
                let ack = next_text(socket).await?;
                anyhow::ensure!(ack == "ack", "raw-broadcast answered {ack:?}");
                Ok(())
            }
        }
    }
}

/// Logs a seeded user in through madang's REST API and returns the access token.
pub async fn madang_login(
    http: &reqwest::Client,
    base_url: &str,
    user_index: usize,
) -> anyhow::Result<String> {
    let response = http
        .post(format!("{base_url}/api/auth/login"))
        .json(&serde_json::json!({"login": Layout::username(user_index), "password": SEEDED_PASSWORD}))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "login answered {}",
        response.status()
    );
    let body: serde_json::Value = response.json().await?;
    Ok(body["access_token"]
        .as_str()
        .context("login answer without access_token")?
        .to_owned())
}

/// Logs in users `0..count` with a few requests in flight.
pub async fn madang_logins(base_url: &str, count: usize) -> anyhow::Result<Vec<String>> {
    let http = reqwest::Client::new();
    futures_util::stream::iter(0..count)
        .map(|index| {
            let http = &http;
            async move { madang_login(http, base_url, index).await }
        })
        .buffered(16)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// A token the Socket.IO peer accepts for seeded user `index`, signed as the peer's login
/// would sign it (HS256, user id and name).
pub fn socketio_token(layout: &Layout, index: usize) -> String {
    #[derive(Serialize)]
    struct Claims {
        sub: String,
        username: String,
        exp: u64,
    }
    let claims = Claims {
        sub: layout.user_id(index).to_string(),
        username: Layout::username(index),
        exp: unix_micros() / 1_000_000 + 86_400,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SOCKETIO_JWT_SECRET.as_bytes()),
    )
    .expect("HS256 signing with an in-memory key cannot fail")
}

/// Tokens for users `0..count` of the target.
pub async fn tokens(
    target: Target,
    base_url: &str,
    layout: &Layout,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    match target {
        Target::Madang => madang_logins(base_url, count).await,
        Target::Socketio => Ok((0..count).map(|i| socketio_token(layout, i)).collect()),
        Target::Raw => Ok(vec![String::new(); count]),
    }
}

/// One page of 50 messages before `before`, through the target's REST API.
pub async fn history_page(
    http: &reqwest::Client,
    base_url: &str,
    token: &str,
    channel_id: i64,
    before: i64,
) -> anyhow::Result<usize> {
    let response = http
        .get(format!(
            "{base_url}/api/channels/{channel_id}/messages?before={before}&limit=50"
        ))
        .bearer_auth(token)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "history answered {}",
        response.status()
    );
    let page: Vec<serde_json::Value> = response.json().await?;
    Ok(page.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_send_time_survives_json_around_it() {
        let (content, _) = message_content(3, 17);
        assert_eq!(content.len(), MESSAGE_BYTES);
        let frame = format!(
            r#"{{"op":"dispatch","t":"MESSAGE_CREATE","s":4,"d":{{"content":"{content}"}}}}"#
        );
        let sent = sent_micros(frame.as_bytes()).unwrap();
        assert!(unix_micros() - sent < 10_000_000);
        assert_eq!(sent_micros(b"{\"op\":\"heartbeat_ack\"}"), None);
    }
}
