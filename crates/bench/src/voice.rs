//! `madang-bench voice`: N publishers and M listeners in one call through an SFU, madang's
//! (signalled over its gateway) or Janus's videoroom (signalled over Janus's HTTP API), with
//! the same str0m clients doing real ICE, DTLS and SRTP over loopback UDP.
//!
//! Every participant receives every publisher but itself, as in a madang voice channel: in
//! Janus each publisher therefore also has a subscriber handle for the other publishers. So
//! both servers forward N × (N − 1 + M) streams. Publishers send synthetic Opus, an 80-byte
//! payload every 20 ms with an RFC 6464 audio level, and with `--video-kbps` a VP8-shaped
//! camera track, through str0m's frame API (an SFU only forwards, so payloads need not
//! decode). Measured: media frames received by all clients over a fixed window after a
//! warm-up, the server's CPU over that window (from /proc), and for each listener the time
//! from its join request to its first media packet.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::janus::{self, Janus};
use crate::process::{Usage, UsageReport};
use crate::scenarios::{self, Setup};
use crate::servers::{Engine, Programs};
use crate::stats::median;

/// One Opus frame every 20 ms, as browsers send.
const AUDIO_INTERVAL: Duration = Duration::from_millis(20);
const AUDIO_PAYLOAD_BYTES: usize = 80;
/// 30 video frames per second.
const VIDEO_INTERVAL: Duration = Duration::from_millis(33);
const VIDEO_KEYFRAME_EVERY: u64 = 60;
/// madang's voice socket and its clients' sockets.
const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// How long a join may take to bring its first media packet before the run fails.
const FIRST_MEDIA_LIMIT: Duration = Duration::from_secs(15);
/// How long a gateway session may take to identify.
const SETUP_LIMIT: Duration = Duration::from_secs(15);

/// Which SFU a voice run drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VoiceTarget {
    Madang,
    Janus,
}

#[derive(Debug, Clone, Serialize, Deserialize, clap::Args)]
pub struct VoiceOptions {
    /// Participants sending audio (each also receives the others).
    #[arg(long, default_value_t = 4)]
    pub publishers: usize,
    /// Participants that only listen.
    #[arg(long, default_value_t = 16)]
    pub listeners: usize,
    /// Each publisher also sends a VP8-shaped camera track at this bitrate (30 frames/s of
    /// synthetic payload, a keyframe every 2 s); 0: audio only.
    #[arg(long, default_value_t = 0)]
    pub video_kbps: u32,
    /// Seconds of media before the measurement window.
    #[arg(long, default_value_t = 2.0)]
    pub warmup_seconds: f64,
    /// Seconds in the measurement window.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
}

impl VoiceOptions {
    /// `voice-4x16` or `voice-4x16-video500`: names a run's result files by its shape.
    pub fn file_stem(&self) -> String {
        let mut stem = format!("voice-{}x{}", self.publishers, self.listeners);
        if self.video_kbps > 0 {
            stem.push_str(&format!("-video{}", self.video_kbps));
        }
        stem
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VoiceResult {
    pub target: VoiceTarget,
    pub options: VoiceOptions,
    /// Publisher → receiver streams the server forwards: N × (N − 1 + M).
    pub forwarded_streams: usize,
    /// Frames per second the publishers send, times the streams: 50 audio frames/s per
    /// stream, plus 30 video frames/s with `--video-kbps`.
    pub offered_frames_per_second: f64,
    /// Media frames received by all clients in the window, per second. An audio frame is one
    /// RTP packet; a video frame is as many as its size needs (str0m reassembles them).
    pub forwarded_frames_per_second: f64,
    pub delivered_fraction: f64,
    pub server: UsageReport,
    /// Server CPU per forwarded stream, in thousandths of a core.
    pub millicores_per_stream: f64,
    /// Listener join request sent → first media packet at that listener.
    pub join_to_first_frame_ms: JoinTimes,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct JoinTimes {
    pub count: usize,
    pub p50_ms: f64,
    pub max_ms: f64,
}

impl JoinTimes {
    fn of(mut times: Vec<f64>) -> JoinTimes {
        times.sort_by(f64::total_cmp);
        JoinTimes {
            count: times.len(),
            p50_ms: median(&times),
            max_ms: times.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// Runs the scenario against `target` and stops its server.
pub async fn run(
    programs: &Programs,
    janus_bin: &str,
    target: VoiceTarget,
    options: &VoiceOptions,
) -> anyhow::Result<VoiceResult> {
    anyhow::ensure!(
        options.publishers >= 1,
        "a voice run needs at least one publisher"
    );
    let received = Arc::new(AtomicU64::new(0));
    match target {
        VoiceTarget::Madang => {
            let users = options.publishers + options.listeners;
            let stage = scenarios::prepare(
                programs,
                Setup {
                    target: crate::clients::Target::Madang,
                    engine: Engine::Sqlite,
                    nodes: 1,
                },
                users,
                0,
            )
            .await?;
            let result = run_madang(&stage, options, &received).await;
            stage.server.stop().await;
            result
        }
        VoiceTarget::Janus => {
            let janus = Janus::start(janus_bin).await?;
            let result = run_janus(&janus, options, &received).await;
            janus.stop().await;
            result
        }
    }
}

/// Waits out the warm-up, then measures media frames and server CPU over the window.
async fn measure(
    target: VoiceTarget,
    options: &VoiceOptions,
    pid: u32,
    received: &AtomicU64,
    join_times: Vec<f64>,
) -> anyhow::Result<VoiceResult> {
    // A fixed measurement window, not a wait for a condition: the rate is frames per second.
    tokio::time::sleep(Duration::from_secs_f64(options.warmup_seconds)).await;
    let usage = Usage::start(&[pid]);
    let before = received.load(Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(options.seconds)).await;
    let frames = received.load(Ordering::Relaxed) - before;
    anyhow::ensure!(frames > 0, "no media was forwarded in the window");
    let elapsed = started.elapsed().as_secs_f64();
    let server = usage.finish();
    let n = options.publishers;
    let forwarded_streams = n * (n - 1 + options.listeners);
    let mut frames_per_stream = 1.0 / AUDIO_INTERVAL.as_secs_f64();
    if options.video_kbps > 0 {
        frames_per_stream += 1.0 / VIDEO_INTERVAL.as_secs_f64();
    }
    let offered = forwarded_streams as f64 * frames_per_stream;
    let rate = frames as f64 / elapsed;
    Ok(VoiceResult {
        target,
        options: options.clone(),
        forwarded_streams,
        offered_frames_per_second: offered,
        forwarded_frames_per_second: rate,
        delivered_fraction: if offered > 0.0 { rate / offered } else { 0.0 },
        server,
        millicores_per_stream: server.cores_busy * 1000.0 / forwarded_streams.max(1) as f64,
        join_to_first_frame_ms: JoinTimes::of(join_times),
    })
}

// ---- madang: gateway signalling ----

async fn run_madang(
    stage: &scenarios::Stage,
    options: &VoiceOptions,
    received: &Arc<AtomicU64>,
) -> anyhow::Result<VoiceResult> {
    let base_url = &stage.server.base_urls[0];
    let channel_id = create_voice_channel(base_url, &stage.tokens[0], stage.layout.guild_id())
        .await
        .context("creating the voice channel")?;
    let gateway = stage.server.addr(0);
    let (stop, stopped) = watch::channel(false);
    let mut tasks = Vec::new();
    for user in 0..options.publishers {
        let peer = Peer::start(LOOPBACK, Role::publisher(options), received.clone()).await?;
        let (joined, _) = madang_join(
            gateway,
            &stage.tokens[user],
            &channel_id,
            peer,
            &stopped,
            &mut tasks,
        )
        .await?;
        joined.await?;
    }
    let mut join_times = Vec::new();
    for user in options.publishers..options.publishers + options.listeners {
        let peer = Peer::start(LOOPBACK, Role::Listener, received.clone()).await?;
        let (joined, first_media) = madang_join(
            gateway,
            &stage.tokens[user],
            &channel_id,
            peer,
            &stopped,
            &mut tasks,
        )
        .await?;
        let sent = joined.await?;
        join_times.push(wait_first_media(first_media, sent).await?);
    }
    let pid = stage.server.pids()[0];
    let result = measure(VoiceTarget::Madang, options, pid, received, join_times).await;
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
    }
    result
}

async fn create_voice_channel(
    base_url: &str,
    token: &str,
    guild_id: i64,
) -> anyhow::Result<String> {
    let response = reqwest::Client::new()
        .post(format!("{base_url}/api/guilds/{guild_id}/channels"))
        .bearer_auth(token)
        .json(&json!({"name": "voice", "kind": "voice"}))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "creating a voice channel answered {}",
        response.status()
    );
    let channel: Value = response.json().await?;
    Ok(channel["id"]
        .as_str()
        .context("a channel without an id")?
        .to_owned())
}

/// Opens a gateway session for `token` and spawns its task, which sends `voice_join` with
/// the peer's offer and then answers every server offer until `stop`. Returns when the join
/// was sent (its instant) and when the peer gets its first media.
async fn madang_join(
    gateway: SocketAddr,
    token: &str,
    channel_id: &str,
    peer: Peer,
    stop: &watch::Receiver<bool>,
    tasks: &mut Vec<tokio::task::JoinHandle<()>>,
) -> anyhow::Result<(oneshot::Receiver<Instant>, watch::Receiver<Option<Instant>>)> {
    let (mut socket, heartbeat) = tokio::time::timeout(SETUP_LIMIT, identify(gateway, token))
        .await
        .context("no READY within 15 s")??;

    let (offer, sending) = peer.offer().await?;
    let tracks: Vec<Value> = sending
        .iter()
        .map(|(mid, label)| json!({"mid": mid.to_string(), "kind": label}))
        .collect();
    let join = json!({"op": "voice_join", "d": {"channel_id": channel_id, "offer": offer,
        "tracks": tracks, "self_mute": false, "self_deaf": false}});
    let (joined, joined_at) = oneshot::channel();
    let first_media = peer.first_media.clone();
    let mut stop = stop.clone();
    tasks.push(tokio::spawn(async move {
        let sent = Instant::now();
        if socket
            .send(Message::Text(join.to_string().into()))
            .await
            .is_err()
        {
            return;
        }
        let _ = joined.send(sent);
        let mut heartbeat =
            tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        loop {
            let text = tokio::select! {
                _ = stop.changed() => break,
                _ = heartbeat.tick() => {
                    let frame = r#"{"op":"heartbeat","d":{"seq":null}}"#;
                    if socket.send(Message::Text(frame.into())).await.is_err() { break }
                    continue;
                }
                message = socket.next() => match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => break,
                },
            };
            let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            match frame["op"].as_str() {
                Some("voice_answer") => {
                    match serde_json::from_value(frame["d"]["answer"].clone()) {
                        Ok(answer) => peer.accept_answer(answer),
                        Err(error) => eprintln!("madang-bench voice: unusable answer: {error}"),
                    }
                }
                Some("voice_offer") => {
                    let Ok(offer) = serde_json::from_value(frame["d"]["offer"].clone()) else {
                        eprintln!("madang-bench voice: unusable offer: {frame}");
                        break;
                    };
                    let Ok(answer) = peer.answer(offer).await else {
                        break;
                    };
                    let reply = json!({"op": "voice_answer", "d": {"answer": answer}});
                    if socket
                        .send(Message::Text(reply.to_string().into()))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                Some("voice_error") => {
                    eprintln!("madang-bench voice: the server refused a voice op: {frame}");
                    break;
                }
                _ => {}
            }
        }
        let _ = socket.close(None).await;
    }));
    Ok((joined_at, first_media))
}

/// Connects to the gateway and identifies; the socket and the heartbeat interval.
async fn identify(gateway: SocketAddr, token: &str) -> anyhow::Result<(Socket, Duration)> {
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{gateway}/gateway"))
        .await
        .context("connecting to the gateway")?;
    let hello: Value = serde_json::from_str(&next_text(&mut socket).await?)?;
    let heartbeat = Duration::from_millis(
        hello["d"]["heartbeat_interval_ms"]
            .as_u64()
            .context("hello without heartbeat_interval_ms")?,
    );
    let identify = json!({"op": "identify", "d": {"token": token, "status": "invisible"}});
    socket
        .send(Message::Text(identify.to_string().into()))
        .await?;
    while !next_text(&mut socket).await?.contains("\"t\":\"READY\"") {}
    Ok((socket, heartbeat))
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

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

/// Milliseconds from `sent` until the peer's first media packet.
async fn wait_first_media(
    mut first_media: watch::Receiver<Option<Instant>>,
    sent: Instant,
) -> anyhow::Result<f64> {
    let at = tokio::time::timeout(FIRST_MEDIA_LIMIT, first_media.wait_for(Option::is_some))
        .await
        .context("a listener got no media within 15 s of joining")??
        .expect("waited for Some");
    Ok(at.saturating_duration_since(sent).as_secs_f64() * 1000.0)
}

// ---- Janus: videoroom over the HTTP API ----

async fn run_janus(
    janus: &Janus,
    options: &VoiceOptions,
    received: &Arc<AtomicU64>,
) -> anyhow::Result<VoiceResult> {
    // Publishers: one handle each, joinandconfigure with the peer's offer.
    let mut feeds = Vec::new();
    let mut peers = Vec::new();
    for index in 0..options.publishers {
        let peer =
            Peer::start(janus.media_ip(), Role::publisher(options), received.clone()).await?;
        let mut handle = janus.attach().await?;
        let (offer, _) = peer.offer().await?;
        let event = janus
            .message(
                &mut handle,
                json!({"request": "joinandconfigure", "room": janus::ROOM, "ptype": "publisher",
                       "display": format!("publisher{index}")}),
                Some(janus::jsep(&offer)?),
            )
            .await?;
        let feed = event.data["id"]
            .as_u64()
            .with_context(|| format!("a publisher join without an id: {:?}", event.data))?;
        let answer = event.jsep.context("a publisher join without an answer")?;
        peer.accept_answer(serde_json::from_value(answer)?);
        handle.webrtc_up().await?;
        feeds.push(feed);
        peers.push(peer);
    }
    // Each publisher receives the others through a subscriber handle of its own.
    for (index, _) in feeds.iter().enumerate() {
        let others: Vec<u64> = feeds
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != index)
            .map(|(_, feed)| *feed)
            .collect();
        if !others.is_empty() {
            let peer = Peer::start(janus.media_ip(), Role::Listener, received.clone()).await?;
            janus_subscribe(janus, &peer, &others).await?;
            peers.push(peer);
        }
    }
    let mut join_times = Vec::new();
    for _ in 0..options.listeners {
        let peer = Peer::start(janus.media_ip(), Role::Listener, received.clone()).await?;
        let sent = janus_subscribe(janus, &peer, &feeds).await?;
        join_times.push(wait_first_media(peer.first_media.clone(), sent).await?);
        peers.push(peer);
    }
    let result = measure(
        VoiceTarget::Janus,
        options,
        janus.pid(),
        received,
        join_times,
    )
    .await;
    drop(peers);
    result
}

/// Subscribes `peer` to `feeds` (join, answer Janus's offer, start); returns when the join
/// request was sent.
async fn janus_subscribe(janus: &Janus, peer: &Peer, feeds: &[u64]) -> anyhow::Result<Instant> {
    let mut handle = janus.attach().await?;
    let streams: Vec<Value> = feeds.iter().map(|feed| json!({"feed": feed})).collect();
    let sent = Instant::now();
    let attached = janus
        .message(
            &mut handle,
            json!({"request": "join", "room": janus::ROOM, "ptype": "subscriber", "streams": streams}),
            None,
        )
        .await?;
    let offer = attached
        .jsep
        .with_context(|| format!("a subscription without an offer: {:?}", attached.data))?;
    let answer = peer.answer(serde_json::from_value(offer)?).await?;
    janus
        .message(
            &mut handle,
            json!({"request": "start"}),
            Some(janus::jsep(&answer)?),
        )
        .await?;
    Ok(sent)
}

// ---- a WebRTC client: one str0m `Rtc` on its own UDP socket, in its own task ----

enum PeerCommand {
    /// The first offer: a sendonly audio m-line for a publisher, and a data channel (a
    /// listen-only madang client needs an m-line; Janus ignores it).
    Offer(oneshot::Sender<(SdpOffer, Vec<(Mid, &'static str)>)>),
    AcceptAnswer(SdpAnswer),
    AcceptOffer(SdpOffer, oneshot::Sender<Option<SdpAnswer>>),
}

/// A client; its task ends when this is dropped.
struct Peer {
    commands: mpsc::UnboundedSender<PeerCommand>,
    first_media: watch::Receiver<Option<Instant>>,
}

impl Peer {
    async fn start(ip: IpAddr, role: Role, received: Arc<AtomicU64>) -> anyhow::Result<Peer> {
        let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let local = socket.local_addr()?;
        let mut rtc = Rtc::builder().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp")?);
        let (commands, inbox) = mpsc::unbounded_channel();
        let (first_media, watched) = watch::channel(None);
        tokio::spawn(async move {
            let outcome = run_peer(PeerTask {
                rtc,
                socket,
                local,
                inbox,
                role,
                received,
                first_media,
            })
            .await;
            if let Err(error) = outcome {
                eprintln!("madang-bench voice: a client stopped: {error:#}");
            }
        });
        Ok(Peer {
            commands,
            first_media: watched,
        })
    }

    /// The first offer and its sending m-lines with madang's labels (`audio`, `camera`).
    async fn offer(&self) -> anyhow::Result<(SdpOffer, Vec<(Mid, &'static str)>)> {
        let (reply, offer) = oneshot::channel();
        self.commands
            .send(PeerCommand::Offer(reply))
            .map_err(|_| anyhow::anyhow!("the client stopped"))?;
        Ok(offer.await?)
    }

    fn accept_answer(&self, answer: SdpAnswer) {
        let _ = self.commands.send(PeerCommand::AcceptAnswer(answer));
    }

    async fn answer(&self, offer: SdpOffer) -> anyhow::Result<SdpAnswer> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(PeerCommand::AcceptOffer(offer, reply))
            .map_err(|_| anyhow::anyhow!("the client stopped"))?;
        answer
            .await?
            .context("the client could not apply the server's offer")
    }
}

#[derive(Debug, Clone, Copy)]
enum Role {
    Listener,
    Publisher { video_kbps: u32 },
}

impl Role {
    fn publisher(options: &VoiceOptions) -> Role {
        Role::Publisher {
            video_kbps: options.video_kbps,
        }
    }
}

/// One track a publisher writes: synthetic frames of a fixed size on a fixed schedule.
struct Source {
    mid: Mid,
    codec: Codec,
    interval: Duration,
    clock: Frequency,
    bytes: usize,
    next: Instant,
    number: u64,
    /// A keyframe was asked for (PLI or FIR): the next frame is one, as a browser would do.
    keyframe_wanted: bool,
}

impl Source {
    fn audio(mid: Mid) -> Source {
        Source {
            mid,
            codec: Codec::Opus,
            interval: AUDIO_INTERVAL,
            clock: Frequency::FORTY_EIGHT_KHZ,
            bytes: AUDIO_PAYLOAD_BYTES,
            next: Instant::now(),
            number: 0,
            keyframe_wanted: false,
        }
    }

    fn video(mid: Mid, kbps: u32) -> Source {
        Source {
            mid,
            codec: Codec::Vp8,
            interval: VIDEO_INTERVAL,
            clock: Frequency::NINETY_KHZ,
            bytes: (kbps as f64 * 1000.0 / 8.0 * VIDEO_INTERVAL.as_secs_f64()) as usize,
            next: Instant::now(),
            number: 0,
            keyframe_wanted: false,
        }
    }

    /// The next frame's payload. Audio: the frame number, padded. Video: a VP8 frame header
    /// (RFC 6386 §9.1: a keyframe, 640×480, every 60th frame and when asked for; otherwise
    /// an interframe), padded:
    /// an SFU reads the keyframe bit and never decodes.
    fn payload(&self) -> Vec<u8> {
        let mut payload = match self.codec {
            Codec::Vp8
                if self.keyframe_wanted || self.number.is_multiple_of(VIDEO_KEYFRAME_EVERY) =>
            {
                vec![0x10, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]
            }
            Codec::Vp8 => vec![0x11, 0x00, 0x00],
            _ => self.number.to_be_bytes().to_vec(),
        };
        payload.resize(self.bytes.max(payload.len()), 0x42);
        payload
    }

    /// Writes the next frame if it is due; keeps a fixed schedule (timer lateness does not
    /// lower the rate), restarted after a stall rather than sent as a burst.
    fn write_if_due(&mut self, rtc: &mut Rtc, now: Instant) -> anyhow::Result<()> {
        if self.next > now {
            return Ok(());
        }
        let Some(writer) = rtc.writer(self.mid) else {
            return Ok(());
        };
        self.next += self.interval;
        if self.next + 5 * self.interval < now {
            self.next = now + self.interval;
        }
        let codec = self.codec;
        let pt = writer
            .payload_params()
            .find(|p| p.spec().codec == codec)
            .map(|p| p.pt())
            .with_context(|| format!("{codec:?} was not negotiated"))?;
        let time = MediaTime::from_millis(self.interval.as_millis() as u64 * self.number)
            .rebase(self.clock);
        let payload = self.payload();
        let writer = if codec == Codec::Opus {
            writer.audio_level(-20, true)
        } else {
            writer
        };
        writer.write(pt, now, time, payload)?;
        self.number += 1;
        self.keyframe_wanted = false;
        Ok(())
    }
}

struct PeerTask {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    inbox: mpsc::UnboundedReceiver<PeerCommand>,
    role: Role,
    received: Arc<AtomicU64>,
    first_media: watch::Sender<Option<Instant>>,
}

async fn run_peer(mut task: PeerTask) -> anyhow::Result<()> {
    let rtc = &mut task.rtc;
    let mut buffer = vec![0; 2048];
    let mut pending: Option<SdpPendingOffer> = None;
    let mut sources: Vec<Source> = Vec::new();
    loop {
        let deadline = loop {
            match rtc.poll_output()? {
                Output::Timeout(deadline) => break deadline,
                Output::Transmit(transmit) => {
                    let _ = task
                        .socket
                        .send_to(&transmit.contents, transmit.destination)
                        .await;
                }
                Output::Event(Event::MediaData(_)) => {
                    task.received.fetch_add(1, Ordering::Relaxed);
                    if task.first_media.borrow().is_none() {
                        task.first_media.send_replace(Some(Instant::now()));
                    }
                }
                Output::Event(Event::KeyframeRequest(request)) => {
                    for source in sources.iter_mut().filter(|s| s.mid == request.mid) {
                        source.keyframe_wanted = true;
                    }
                }
                Output::Event(_) => {}
            }
        };
        let wake = if rtc.is_connected() {
            sources.iter().map(|s| s.next).fold(deadline, Instant::min)
        } else {
            deadline
        };
        tokio::select! {
            incoming = task.socket.recv_from(&mut buffer) => {
                let (length, source) = incoming?;
                let Ok(contents) = buffer[..length].try_into() else { continue };
                rtc.handle_input(Input::Receive(
                    Instant::now(),
                    Receive { proto: Protocol::Udp, source, destination: task.local, contents },
                ))?;
            }
            command = task.inbox.recv() => {
                let Some(command) = command else { return Ok(()) };
                match command {
                    PeerCommand::Offer(reply) => {
                        let mut change = rtc.sdp_api();
                        let mut labels = Vec::new();
                        if let Role::Publisher { video_kbps } = task.role {
                            let audio = change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
                            sources.push(Source::audio(audio));
                            labels.push((audio, "audio"));
                            if video_kbps > 0 {
                                let video = change.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
                                sources.push(Source::video(video, video_kbps));
                                labels.push((video, "camera"));
                            }
                        }
                        change.add_channel("madang".into());
                        let (offer, pending_offer) = change.apply().context("no offer to make")?;
                        pending = Some(pending_offer);
                        let _ = reply.send((offer, labels));
                    }
                    PeerCommand::AcceptAnswer(answer) => {
                        let pending_offer = pending.take().context("an answer with no offer out")?;
                        rtc.sdp_api().accept_answer(pending_offer, answer)?;
                    }
                    PeerCommand::AcceptOffer(offer, reply) => {
                        let answer = rtc.sdp_api().accept_offer(offer);
                        if let Err(error) = &answer {
                            eprintln!("madang-bench voice: cannot apply an offer: {error}");
                        }
                        let _ = reply.send(answer.ok());
                    }
                }
            }
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {
                let now = Instant::now();
                rtc.handle_input(Input::Timeout(now))?;
                if rtc.is_connected() {
                    for source in &mut sources {
                        source.write_if_due(rtc, now)?;
                    }
                }
            }
        }
    }
}

// ---- side by side ----

/// Runs each target once per repeat, in turn, so both see the same machine.
pub async fn side_by_side(
    programs: &Programs,
    janus_bin: &str,
    targets: &[VoiceTarget],
    options: &VoiceOptions,
    repeats: usize,
) -> anyhow::Result<Vec<Vec<VoiceResult>>> {
    let mut runs = Vec::new();
    for repeat in 0..repeats {
        let mut results = Vec::new();
        for target in targets {
            eprintln!(
                "madang-bench voice: {target:?}, repeat {}/{repeats}",
                repeat + 1
            );
            results.push(run(programs, janus_bin, *target, options).await?);
        }
        runs.push(results);
    }
    Ok(runs)
}

/// The Markdown table: medians over the repeats, and madang ÷ Janus taken within each
/// repeat (for CPU and join time, Janus ÷ madang, so above 1 favours madang).
pub fn table(runs: &[Vec<VoiceResult>], options: &VoiceOptions) -> String {
    type Metric = (&'static str, fn(&VoiceResult) -> f64, bool);
    let metrics: [Metric; 5] = [
        (
            "forwarded media frames/s (audio: 1 packet each)",
            |r| r.forwarded_frames_per_second,
            true,
        ),
        ("delivered fraction", |r| r.delivered_fraction, true),
        ("server cores busy", |r| r.server.cores_busy, false),
        (
            "server millicores per forwarded stream",
            |r| r.millicores_per_stream,
            false,
        ),
        (
            "join → first frame p50 ms",
            |r| r.join_to_first_frame_ms.p50_ms,
            false,
        ),
    ];
    let of =
        |target: VoiceTarget, run: &[VoiceResult]| run.iter().find(|r| r.target == target).cloned();
    let n = options.publishers;
    let mut out = format!(
        "Voice: {n} publishers × {} listeners, {}, {} forwarded streams, {} s window, medians of {} repeats\n\n\
         | metric | madang | Janus | madang ÷ Janus |\n|---|---:|---:|---:|\n",
        options.listeners,
        if options.video_kbps > 0 {
            format!("Opus + VP8 at {} kbit/s", options.video_kbps)
        } else {
            "Opus only".to_owned()
        },
        n * (n - 1 + options.listeners),
        options.seconds,
        runs.len()
    );
    for (name, value, higher_is_better) in metrics {
        let column = |target| {
            median(
                &runs
                    .iter()
                    .filter_map(|run| of(target, run).map(|r| value(&r)))
                    .collect::<Vec<_>>(),
            )
        };
        let ratios: Vec<f64> = runs
            .iter()
            .filter_map(|run| {
                let madang = value(&of(VoiceTarget::Madang, run)?);
                let janus = value(&of(VoiceTarget::Janus, run)?);
                Some(if higher_is_better {
                    madang / janus
                } else {
                    janus / madang
                })
            })
            .collect();
        let cell = |v: f64| {
            if v.is_nan() {
                "–".to_owned()
            } else {
                format!("{v:.3}")
            }
        };
        let ratio = median(&ratios);
        let ratio = if ratio.is_nan() {
            "–".to_owned()
        } else {
            format!("{ratio:.2}×")
        };
        out.push_str(&format!(
            "| {name} | {} | {} | {ratio} |\n",
            cell(column(VoiceTarget::Madang)),
            cell(column(VoiceTarget::Janus)),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(target: VoiceTarget, frames: f64, cores: f64) -> VoiceResult {
        let options = VoiceOptions {
            publishers: 2,
            listeners: 2,
            video_kbps: 0,
            warmup_seconds: 1.0,
            seconds: 2.0,
        };
        VoiceResult {
            target,
            options,
            forwarded_streams: 6,
            offered_frames_per_second: 300.0,
            forwarded_frames_per_second: frames,
            delivered_fraction: frames / 300.0,
            server: UsageReport {
                cores_busy: cores,
                cpu_seconds: cores * 2.0,
                rss_bytes: 0,
            },
            millicores_per_stream: cores * 1000.0 / 6.0,
            join_to_first_frame_ms: JoinTimes::of(vec![10.0, 30.0]),
        }
    }

    #[test]
    fn ratios_above_one_favour_madang_for_rates_and_costs_alike() {
        let madang = result(VoiceTarget::Madang, 300.0, 0.05);
        let janus = result(VoiceTarget::Janus, 150.0, 0.10);
        let table = table(&[vec![madang.clone(), janus]], &madang.options);
        assert!(
            table.contains(
                "| forwarded media frames/s (audio: 1 packet each) | 300.000 | 150.000 | 2.00× |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| server cores busy | 0.050 | 0.100 | 2.00× |"),
            "{table}"
        );
        assert!(
            table.contains("| join → first frame p50 ms | 20.000 | 20.000 | 1.00× |"),
            "{table}"
        );
    }

    #[test]
    fn video_frames_are_keyframes_every_two_seconds_and_when_asked() {
        let mid = Mid::from("1");
        let mut source = Source::video(mid, 500);
        // RFC 6386: bit 0 of the first byte is 0 on a keyframe, followed by the start code.
        assert_eq!(source.payload()[..6], [0x10, 0, 0, 0x9d, 0x01, 0x2a]);
        source.number = 1;
        assert_eq!(source.payload()[0] & 1, 1);
        source.keyframe_wanted = true;
        assert_eq!(source.payload()[0] & 1, 0);
        source.keyframe_wanted = false;
        source.number = VIDEO_KEYFRAME_EVERY;
        assert_eq!(source.payload()[0] & 1, 0);
        // 500 kbit/s at 30 frames/s.
        assert_eq!(source.payload().len(), 2062);
    }
}
