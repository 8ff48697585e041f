//! Voice end to end: real gateway WebSockets for signalling and str0m clients doing real ICE,
//! DTLS and SRTP over loopback UDP to the server's voice socket. Each client publishes an
//! audio track, and optionally a camera (frames numbered in their payload), and records what it
//! receives, so the tests can tell which frames the SFU forwarded.

#[path = "common/mod.rs"]
mod common;
// The gateway suite's client; this suite uses part of it.
#[path = "gateway/client.rs"]
#[allow(dead_code)]
mod client;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::Engine;
use client::{Client, WAIT};
use common::{Backend, TestApp, TestUser, spawn_app, spawn_app_with, spawn_killable_app_with};
use hmac::{Hmac, KeyInit, Mac};
use madang_server::Config;
use madang_store::on_both_backends;
use reqwest::StatusCode;
use serde_json::{Value, json};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, MediaTime, Mid};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};

const AUDIO_INTERVAL: Duration = Duration::from_millis(20);
/// str0m notices a dead peer after about 20 s without answers to its checks; the SFU then
/// grants 5 s to come back.
const ICE_TIMEOUT_WAIT: Duration = Duration::from_secs(60);

// ---- a WebRTC client: one str0m `Rtc` on its own UDP socket, in its own task ----

/// What the client saw, published on every change so tests can wait for a condition.
#[derive(Debug, Clone, Default)]
struct PeerStats {
    connected: bool,
    /// Frame numbers received, by the m-line they arrived on.
    received: HashMap<String, Vec<u64>>,
    /// Audio frames written so far (the next frame's number).
    sent: u64,
    /// Every address a datagram came from: the voice sockets this client talks to.
    sources: HashSet<SocketAddr>,
}

impl PeerStats {
    fn received_on(&self, mid: &str) -> &[u64] {
        self.received.get(mid).map_or(&[], Vec::as_slice)
    }
}

/// The first VP8 bytes of a camera frame: a keyframe header (RFC 6386 §9.1, 640×480), so the
/// SFU may start forwarding at any frame; the frame's number follows.
const VP8_KEYFRAME_HEADER: [u8; 10] = [0x10, 0x00, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01];

enum PeerCommand {
    /// The first offer: one sendonly audio m-line (and with `camera` a sendonly video one) and a
    /// data channel, as the web client does; the offer and its track labels.
    JoinOffer {
        camera: bool,
        reply: oneshot::Sender<(SdpOffer, Vec<Value>)>,
    },
    AcceptAnswer(SdpAnswer),
    AcceptOffer(SdpOffer, oneshot::Sender<SdpAnswer>),
    /// A later offer restarting ICE, as after a network change or a resume.
    RestartOffer(oneshot::Sender<SdpOffer>),
    /// Start or stop writing Opus frames every 20 ms (loud, so the speaking flag turns on),
    /// and a camera frame with each when publishing a camera.
    Send(bool),
}

struct Peer {
    commands: mpsc::UnboundedSender<PeerCommand>,
    stats: watch::Receiver<PeerStats>,
}

impl Peer {
    async fn start() -> Peer {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let local = socket.local_addr().unwrap();
        let mut rtc = Rtc::builder().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(local, "udp").unwrap());
        let (commands, received) = mpsc::unbounded_channel();
        let (stats, watched) = watch::channel(PeerStats::default());
        tokio::spawn(run_peer(rtc, socket, local, received, stats));
        Peer {
            commands,
            stats: watched,
        }
    }

    /// The first offer, with a microphone only; the offer and the audio m-line.
    async fn join_offer(&self) -> (SdpOffer, String) {
        let (offer, tracks) = self.offer_tracks(false).await;
        let mid = tracks[0]["mid"].as_str().unwrap().to_owned();
        (offer, mid)
    }

    /// The first offer and its track labels; with `camera`, a camera too.
    async fn offer_tracks(&self, camera: bool) -> (SdpOffer, Vec<Value>) {
        let (reply, offer) = oneshot::channel();
        self.commands
            .send(PeerCommand::JoinOffer { camera, reply })
            .unwrap();
        offer.await.unwrap()
    }

    fn accept_answer(&self, answer: SdpAnswer) {
        self.commands
            .send(PeerCommand::AcceptAnswer(answer))
            .unwrap();
    }

    async fn accept_offer(&self, offer: SdpOffer) -> SdpAnswer {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(PeerCommand::AcceptOffer(offer, reply))
            .unwrap();
        answer.await.unwrap()
    }

    async fn restart_offer(&self) -> SdpOffer {
        let (reply, offer) = oneshot::channel();
        self.commands
            .send(PeerCommand::RestartOffer(reply))
            .unwrap();
        offer.await.unwrap()
    }

    fn send_audio(&self, on: bool) {
        self.commands.send(PeerCommand::Send(on)).unwrap();
    }

    /// Waits until the stats satisfy `condition`; returns them.
    async fn wait_for(&mut self, what: &str, condition: impl Fn(&PeerStats) -> bool) -> PeerStats {
        let mut stats = self.stats.clone();
        match tokio::time::timeout(WAIT, stats.wait_for(|s| condition(s))).await {
            Ok(stats) => stats.expect("the peer runs").clone(),
            Err(_) => panic!("timed out waiting for {what}: {:?}", *self.stats.borrow()),
        }
    }

    fn stats(&self) -> PeerStats {
        self.stats.borrow().clone()
    }
}

async fn run_peer(
    mut rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    mut commands: mpsc::UnboundedReceiver<PeerCommand>,
    stats: watch::Sender<PeerStats>,
) {
    let mut buffer = vec![0; 2048];
    let mut pending: Option<SdpPendingOffer> = None;
    let mut audio_mid: Option<Mid> = None;
    let mut camera_mid: Option<Mid> = None;
    let mut sending = false;
    let mut next_audio = Instant::now();
    loop {
        let deadline = loop {
            match rtc.poll_output() {
                Ok(Output::Timeout(deadline)) => break deadline,
                Ok(Output::Transmit(transmit)) => {
                    let _ = socket
                        .send_to(&transmit.contents, transmit.destination)
                        .await;
                }
                Ok(Output::Event(Event::Connected)) => stats.send_modify(|s| s.connected = true),
                Ok(Output::Event(Event::MediaData(data))) => {
                    let at = if data.params.spec().codec == Codec::Vp8 {
                        VP8_KEYFRAME_HEADER.len()
                    } else {
                        0
                    };
                    let number = u64::from_be_bytes(data.data[at..at + 8].try_into().unwrap());
                    stats.send_modify(|s| {
                        s.received
                            .entry(data.mid.to_string())
                            .or_default()
                            .push(number)
                    });
                }
                Ok(Output::Event(_)) => {}
                Err(error) => panic!("the client's str0m failed: {error}"),
            }
        };
        let wake = if sending && rtc.is_connected() {
            deadline.min(next_audio)
        } else {
            deadline
        };
        tokio::select! {
            received = socket.recv_from(&mut buffer) => {
                let (length, source) = received.unwrap();
                if !stats.borrow().sources.contains(&source) {
                    stats.send_modify(|s| { s.sources.insert(source); });
                }
                let Ok(contents) = buffer[..length].try_into() else { continue };
                let input = Input::Receive(
                    Instant::now(),
                    Receive { proto: Protocol::Udp, source, destination: local, contents },
                );
                rtc.handle_input(input).unwrap();
            }
            command = commands.recv() => {
                let Some(command) = command else { return };
                match command {
                    PeerCommand::JoinOffer { camera, reply } => {
                        let mut change = rtc.sdp_api();
                        let mid = change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
                        let mut tracks = vec![json!({"mid": mid.to_string(), "kind": "audio"})];
                        audio_mid = Some(mid);
                        if camera {
                            let mid = change.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
                            tracks.push(json!({"mid": mid.to_string(), "kind": "camera"}));
                            camera_mid = Some(mid);
                        }
                        change.add_channel("madang".into());
                        let (offer, pending_offer) = change.apply().expect("an offer");
                        pending = Some(pending_offer);
                        let _ = reply.send((offer, tracks));
                    }
                    PeerCommand::AcceptAnswer(answer) => {
                        rtc.sdp_api()
                            .accept_answer(pending.take().expect("an offer is out"), answer)
                            .expect("the server's answer applies");
                    }
                    PeerCommand::AcceptOffer(offer, reply) => {
                        let answer = rtc.sdp_api().accept_offer(offer).expect("the server's offer applies");
                        let _ = reply.send(answer);
                    }
                    PeerCommand::RestartOffer(reply) => {
                        let mut change = rtc.sdp_api();
                        change.ice_restart(true);
                        let (offer, pending_offer) = change.apply().expect("an ICE restart offer");
                        pending = Some(pending_offer);
                        let _ = reply.send(offer);
                    }
                    PeerCommand::Send(on) => {
                        sending = on;
                        next_audio = Instant::now();
                    }
                }
            }
            _ = tokio::time::sleep_until(tokio::time::Instant::from_std(wake)) => {
                let now = Instant::now();
                rtc.handle_input(Input::Timeout(now)).unwrap();
                if sending && rtc.is_connected() && next_audio <= now {
                    next_audio = now + AUDIO_INTERVAL;
                    let number = stats.borrow().sent;
                    let mid = audio_mid.expect("joined with audio");
                    if let Some(writer) = rtc.writer(mid) {
                        let pt = writer
                            .payload_params()
                            .find(|p| p.spec().codec == Codec::Opus)
                            .map(|p| p.pt())
                            .expect("Opus is negotiated");
                        let mut payload = number.to_be_bytes().to_vec();
                        payload.resize(80, 0x42);
                        let time = MediaTime::from_millis(number * 20)
                            .rebase(str0m::media::Frequency::FORTY_EIGHT_KHZ);
                        writer
                            .audio_level(-20, true)
                            .write(pt, now, time, payload)
                            .expect("an audio frame is written");
                        stats.send_modify(|s| s.sent = number + 1);
                    }
                    if let Some(writer) = camera_mid.and_then(|mid| rtc.writer(mid)) {
                        let pt = writer
                            .payload_params()
                            .find(|p| p.spec().codec == Codec::Vp8)
                            .map(|p| p.pt())
                            .expect("VP8 is negotiated");
                        let mut payload = VP8_KEYFRAME_HEADER.to_vec();
                        payload.extend(number.to_be_bytes());
                        payload.resize(1_000, 0x42);
                        let time = MediaTime::from_millis(number * 20)
                            .rebase(str0m::media::Frequency::NINETY_KHZ);
                        writer
                            .write(pt, now, time, payload)
                            .expect("a camera frame is written");
                    }
                }
            }
        }
    }
}

// ---- a gateway session that keeps frames it was not yet asked for ----

struct Session {
    client: Client,
    /// Frames read while looking for another one, oldest first.
    held: VecDeque<Value>,
}

impl Session {
    async fn identify(app: &TestApp, user: &TestUser) -> Session {
        Session {
            client: Client::connect_and_identify(app.address, &user.token).await,
            held: VecDeque::new(),
        }
    }

    async fn send(&mut self, op: &str, d: Value) {
        self.client.send(json!({"op": op, "d": d})).await;
    }

    /// The first frame (held or new) that `matches`, keeping the others in order.
    async fn next(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        self.next_within(WAIT, what, matches).await
    }

    async fn next_within(
        &mut self,
        wait: Duration,
        what: &str,
        matches: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(index) = self.held.iter().position(&matches) {
            return self.held.remove(index).unwrap();
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            // The frames held so far say what came instead (so the deadline is this one, not
            // the client's own).
            let Ok(frame) =
                tokio::time::timeout(left, self.client.frame_within(Duration::MAX)).await
            else {
                panic!("no {what} within {wait:?}; held: {:?}", self.held);
            };
            let frame = match frame {
                client::Frame::Json(frame) => frame,
                client::Frame::Closed(code) => {
                    panic!(
                        "closed with {code:?} while waiting for {what}; held: {:?}",
                        self.held
                    )
                }
            };
            if let Some(s) = frame["s"].as_i64() {
                assert_eq!(s, self.client.seq + 1, "s must go up by one: {frame}");
                self.client.seq = s;
            }
            if matches(&frame) {
                return frame;
            }
            self.held.push_back(frame);
        }
    }

    async fn op(&mut self, op: &str) -> Value {
        self.next(op, |f| f["op"] == op).await["d"].clone()
    }

    /// The next VOICE_STATE_UPDATE about `user_id`.
    async fn voice_state_of(&mut self, user_id: &str) -> Value {
        self.next("VOICE_STATE_UPDATE", |f| {
            f["t"] == "VOICE_STATE_UPDATE" && f["d"]["user_id"] == user_id
        })
        .await["d"]
            .clone()
    }

    /// Joins `channel_id` with `peer`'s offer; the answer is applied to the peer.
    async fn join(&mut self, peer: &Peer, channel_id: &str) -> String {
        let (offer, mid) = peer.join_offer().await;
        let reply = self.voice_join(channel_id, &offer, &mid).await;
        assert_eq!(reply["op"], "voice_answer", "{reply}");
        peer.accept_answer(serde_json::from_value(reply["d"]["answer"].clone()).unwrap());
        mid
    }

    /// Sends voice_join; the server's reply, `voice_answer` or `voice_error`.
    async fn voice_join(&mut self, channel_id: &str, offer: &SdpOffer, mid: &str) -> Value {
        self.send(
            "voice_join",
            json!({"channel_id": channel_id, "offer": offer,
                   "tracks": [{"mid": mid, "kind": "audio"}], "self_mute": false, "self_deaf": false}),
        )
        .await;
        self.next("voice_answer or voice_error", |f| {
            f["op"] == "voice_answer" || f["op"] == "voice_error"
        })
        .await
    }

    /// Answers the server's next offer with `peer`; returns the offer's track list.
    async fn answer_offer(&mut self, peer: &Peer) -> Vec<Value> {
        let offer = self.op("voice_offer").await;
        let answer = peer
            .accept_offer(serde_json::from_value(offer["offer"].clone()).unwrap())
            .await;
        self.send("voice_answer", json!({"answer": answer})).await;
        offer["tracks"].as_array().unwrap().clone()
    }

    async fn set_flags(&mut self, self_mute: bool) {
        self.send(
            "voice_state",
            json!({"self_mute": self_mute, "self_deaf": false, "self_video": false, "self_stream": false}),
        )
        .await;
    }
}

/// A guild owned by Alice with Bob as a member, and its voice channel.
struct Guild {
    app: TestApp,
    alice: TestUser,
    bob: TestUser,
    guild_id: String,
    text_channel: String,
    voice_channel: String,
}

async fn guild(app: TestApp) -> Guild {
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let (guild_id, text_channel) = app.create_guild(&alice, "Study").await;
    app.join(&guild_id, &alice, &bob).await;
    let channels = app
        .get(&format!("/api/guilds/{guild_id}/channels"), &alice.token)
        .await
        .expect(StatusCode::OK);
    let voice_channel = channels
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "voice")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Guild {
        app,
        alice,
        bob,
        guild_id,
        text_channel,
        voice_channel,
    }
}

/// Alice and Bob both in the voice channel, each receiving the other's audio m-line.
struct Call {
    alice: Session,
    bob: Session,
    alice_peer: Peer,
    bob_peer: Peer,
    /// The m-line on which Bob receives Alice's audio, and the reverse.
    alice_at_bob: String,
    bob_at_alice: String,
    /// Their own sending m-lines.
    alice_mid: String,
    bob_mid: String,
}

async fn call(g: &Guild) -> Call {
    let mut alice = Session::identify(&g.app, &g.alice).await;
    let mut bob = Session::identify(&g.app, &g.bob).await;
    let mut alice_peer = Peer::start().await;
    let mut bob_peer = Peer::start().await;

    let alice_mid = alice.join(&alice_peer, &g.voice_channel).await;
    for session in [&mut alice, &mut bob] {
        let state = session.voice_state_of(&g.alice.id).await;
        assert_eq!(state["channel_id"], g.voice_channel.as_str());
        assert_eq!(state["guild_id"], g.guild_id.as_str());
        assert_eq!(state["self_mute"], false);
    }
    alice_peer
        .wait_for("Alice connected", |s| s.connected)
        .await;

    let bob_mid = bob.join(&bob_peer, &g.voice_channel).await;
    // Bob is offered Alice's track; Alice is offered Bob's.
    let offered_to_bob = bob.answer_offer(&bob_peer).await;
    assert_eq!(offered_to_bob.len(), 1, "{offered_to_bob:?}");
    assert_eq!(offered_to_bob[0]["user_id"], g.alice.id.as_str());
    assert_eq!(offered_to_bob[0]["kind"], "audio");
    let offered_to_alice = alice.answer_offer(&alice_peer).await;
    assert_eq!(offered_to_alice.len(), 1, "{offered_to_alice:?}");
    assert_eq!(offered_to_alice[0]["user_id"], g.bob.id.as_str());
    bob_peer.wait_for("Bob connected", |s| s.connected).await;
    for session in [&mut alice, &mut bob] {
        let state = session.voice_state_of(&g.bob.id).await;
        assert_eq!(state["channel_id"], g.voice_channel.as_str());
    }
    Call {
        alice_at_bob: offered_to_bob[0]["mid"].as_str().unwrap().to_owned(),
        bob_at_alice: offered_to_alice[0]["mid"].as_str().unwrap().to_owned(),
        alice_mid,
        bob_mid,
        alice,
        bob,
        alice_peer,
        bob_peer,
    }
}

/// Alice and Bob both send audio, and each receives ten frames of the other's on the m-line
/// named for it.
async fn audio_flows_both_ways(
    alice_peer: &mut Peer,
    alice_at_bob: &str,
    bob_peer: &mut Peer,
    bob_at_alice: &str,
) {
    alice_peer.send_audio(true);
    bob_peer.send_audio(true);
    bob_peer
        .wait_for("Alice's audio at Bob", |s| {
            s.received_on(alice_at_bob).len() >= 10
        })
        .await;
    alice_peer
        .wait_for("Bob's audio at Alice", |s| {
            s.received_on(bob_at_alice).len() >= 10
        })
        .await;
}

/// `publisher` keeps sending; after it has sent `frames` more frames, every frame `listener`
/// received on `mid` since `from` is returned. Used to show that nothing newer than a mute
/// got through: a frame forwarded in that time would have arrived over loopback.
async fn received_while_sending(
    publisher: &mut Peer,
    listener: &Peer,
    mid: &str,
    from: u64,
    frames: u64,
) -> Vec<u64> {
    let until = publisher.stats().sent + frames;
    publisher
        .wait_for("more frames sent", |s| s.sent >= until)
        .await;
    listener
        .stats()
        .received_on(mid)
        .iter()
        .copied()
        .filter(|n| *n >= from)
        .collect()
}

async fn audio_flows_between_two_people_and_mute_stops_it(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let g = guild(app).await;
    let Call {
        mut alice,
        mut bob,
        mut alice_peer,
        mut bob_peer,
        alice_at_bob,
        ..
    } = call(&g).await;

    alice_peer.send_audio(true);
    bob_peer
        .wait_for("Alice's audio at Bob", |s| {
            s.received_on(&alice_at_bob).len() >= 10
        })
        .await;
    // Metrics are per process (tests share it): the series exist and count.
    let metrics = g
        .app
        .call(reqwest::Method::GET, "/metrics", None, None)
        .await;
    let text = metrics.body.as_str().unwrap().to_owned();
    let forwarded = metric(&text, "voice_forwarded_frames_total");
    assert!(forwarded >= 10.0, "{text}");
    assert!(metric(&text, "voice_participants") >= 2.0, "{text}");
    let speaking = bob
        .next("VOICE_SPEAKING", |f| {
            f["t"] == "VOICE_SPEAKING" && f["d"]["user_id"] == g.alice.id.as_str()
        })
        .await;
    assert_eq!(speaking["d"]["speaking"], true);
    assert_eq!(speaking["s"], Value::Null);

    // Muting stops forwarding: the update comes after the SFU applied it.
    alice.set_flags(true).await;
    let state = bob.voice_state_of(&g.alice.id).await;
    assert_eq!(state["self_mute"], true);
    let muted_from = alice_peer.stats().sent;
    let leaked =
        received_while_sending(&mut alice_peer, &bob_peer, &alice_at_bob, muted_from, 25).await;
    assert!(
        leaked.is_empty(),
        "frames sent while muted reached Bob: {leaked:?}"
    );

    alice.set_flags(false).await;
    bob.voice_state_of(&g.alice.id).await;
    let unmuted_from = alice_peer.stats().sent;
    bob_peer
        .wait_for("Alice's audio after unmuting", |s| {
            s.received_on(&alice_at_bob)
                .iter()
                .any(|n| *n >= unmuted_from)
        })
        .await;
    g.app.stop().await;
}

/// Sends `voice_video_quality` for `mid`, then one for an m-line that does not exist, whose
/// refusal shows that the first was applied: a connection runs its voice ops in order.
async fn set_video_quality(session: &mut Session, mid: &str, quality: &str) {
    session
        .send(
            "voice_video_quality",
            json!({"mid": mid, "quality": quality}),
        )
        .await;
    session
        .send(
            "voice_video_quality",
            json!({"mid": "no-such-mid", "quality": "low"}),
        )
        .await;
    let refused = session.op("voice_error").await;
    assert_eq!(refused["code"], "unknown_track", "{refused}");
}

async fn a_hidden_camera_is_not_forwarded_and_bad_quality_wishes_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let g = guild(app).await;
    let mut alice = Session::identify(&g.app, &g.alice).await;
    let mut bob = Session::identify(&g.app, &g.bob).await;
    let mut alice_peer = Peer::start().await;
    let mut bob_peer = Peer::start().await;
    // Alice publishes her microphone and camera; Bob receives both.
    let (offer, tracks) = alice_peer.offer_tracks(true).await;
    alice
        .send(
            "voice_join",
            json!({"channel_id": g.voice_channel, "offer": offer, "tracks": tracks,
                   "self_mute": false, "self_deaf": false}),
        )
        .await;
    let answer = alice.op("voice_answer").await;
    alice_peer.accept_answer(serde_json::from_value(answer["answer"].clone()).unwrap());
    alice_peer
        .wait_for("Alice connected", |s| s.connected)
        .await;
    bob.join(&bob_peer, &g.voice_channel).await;
    let offered = bob.answer_offer(&bob_peer).await;
    let mid_of = |kind: &str| {
        offered.iter().find(|t| t["kind"] == kind).unwrap()["mid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (audio_at_bob, camera_at_bob) = (mid_of("audio"), mid_of("camera"));
    alice.answer_offer(&alice_peer).await;
    bob_peer.wait_for("Bob connected", |s| s.connected).await;
    alice_peer.send_audio(true);
    bob_peer
        .wait_for("Alice's camera at Bob", |s| {
            s.received_on(&camera_at_bob).len() >= 10
        })
        .await;

    // Bob hides Alice's video: her camera no longer reaches him, her audio still does.
    set_video_quality(&mut bob, &camera_at_bob, "off").await;
    let hidden_from = alice_peer.stats().sent;
    let leaked =
        received_while_sending(&mut alice_peer, &bob_peer, &camera_at_bob, hidden_from, 25).await;
    assert!(
        leaked.is_empty(),
        "a hidden camera was forwarded: {leaked:?}"
    );
    bob_peer
        .wait_for("Alice's audio while her camera is hidden", |s| {
            s.received_on(&audio_at_bob)
                .iter()
                .any(|n| *n >= hidden_from)
        })
        .await;
    // Showing it again asks for a layer, and the camera comes back.
    set_video_quality(&mut bob, &camera_at_bob, "low").await;
    let shown_from = alice_peer.stats().sent;
    bob_peer
        .wait_for("Alice's camera shown again", |s| {
            s.received_on(&camera_at_bob)
                .iter()
                .any(|n| *n >= shown_from)
        })
        .await;

    // Audio is no video; a session without the call has nothing to ask about; an unknown
    // quality is a malformed frame.
    bob.send(
        "voice_video_quality",
        json!({"mid": audio_at_bob, "quality": "off"}),
    )
    .await;
    assert_eq!(bob.op("voice_error").await["code"], "unknown_track");
    let mut bobs_other_device = Session::identify(&g.app, &g.bob).await;
    bobs_other_device
        .send(
            "voice_video_quality",
            json!({"mid": camera_at_bob, "quality": "off"}),
        )
        .await;
    assert_eq!(
        bobs_other_device.op("voice_error").await["code"],
        "conflict"
    );
    bob.send(
        "voice_video_quality",
        json!({"mid": camera_at_bob, "quality": "ultra"}),
    )
    .await;
    assert_eq!(bob.client.closed().await, Some(4002));
    g.app.stop().await;
}

async fn leaving_removes_the_track_and_tells_the_guild(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let g = guild(app).await;
    let carol = g.app.register("carol").await;
    g.app.join(&g.guild_id, &g.alice, &carol).await;
    let mut carol_session = Session::identify(&g.app, &carol).await;
    let Call {
        mut alice,
        mut bob,
        alice_peer,
        ..
    } = call(&g).await;
    // Carol is not in voice but sees who is.
    carol_session.voice_state_of(&g.bob.id).await;

    bob.send("voice_leave", Value::Null).await;
    let tracks = alice.answer_offer(&alice_peer).await;
    assert!(
        tracks.is_empty(),
        "Bob's track is gone from Alice's offer: {tracks:?}"
    );
    for session in [&mut alice, &mut carol_session] {
        let left = session.voice_state_of(&g.bob.id).await;
        assert_eq!(left["channel_id"], Value::Null, "{left}");
    }
    // A newly identified session sees only Alice in the channel.
    let mut late = Client::connect(g.app.address).await;
    let ready = late.identify(&carol.token).await;
    let states = ready["guilds"][0]["voice_states"].as_array().unwrap();
    assert_eq!(states.len(), 1, "{states:?}");
    assert_eq!(states[0]["user_id"], g.alice.id.as_str());
    // Leaving twice is refused without closing the connection.
    bob.send("voice_leave", Value::Null).await;
    assert_eq!(bob.op("voice_error").await["code"], "conflict");
    g.app.stop().await;
}

async fn joins_outside_ones_guilds_voice_channels_are_refused(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let g = guild(app).await;
    let dave = g.app.register("dave").await;
    let peer = Peer::start().await;
    let (offer, mid) = peer.join_offer().await;

    let mut outsider = Session::identify(&g.app, &dave).await;
    let refused = outsider.voice_join(&g.voice_channel, &offer, &mid).await;
    assert_eq!(refused["op"], "voice_error", "{refused}");
    assert_eq!(refused["d"]["code"], "unknown_channel");

    let mut bob = Session::identify(&g.app, &g.bob).await;
    // SDP str0m cannot use is refused without closing the connection.
    let garbage = "v=0\r\n";
    assert!(SdpOffer::from_sdp_string(garbage).is_err());
    bob.send(
        "voice_join",
        json!({"channel_id": g.voice_channel, "offer": {"type": "offer", "sdp": garbage},
               "tracks": [], "self_mute": false, "self_deaf": false}),
    )
    .await;
    assert_eq!(bob.op("voice_error").await["code"], "validation_failed");
    let refused = bob.voice_join(&g.text_channel, &offer, &mid).await;
    assert_eq!(refused["d"]["code"], "unknown_channel");
    let refused = bob.voice_join("123456789", &offer, &mid).await;
    assert_eq!(refused["d"]["code"], "unknown_channel");

    // A channel for one: the second person is turned away.
    let small = g
        .app
        .post(
            &format!("/api/guilds/{}/channels", g.guild_id),
            &g.alice.token,
            json!({"name": "booth", "kind": "voice", "user_limit": 1}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(small["user_limit"], 1);
    let small = small["id"].as_str().unwrap();
    let mut alice = Session::identify(&g.app, &g.alice).await;
    let alice_peer = Peer::start().await;
    alice.join(&alice_peer, small).await;
    let refused = bob.voice_join(small, &offer, &mid).await;
    assert_eq!(refused["d"]["code"], "voice_channel_full");

    // The connection stays usable after refusals.
    bob.client
        .send(json!({"op": "heartbeat", "d": {"seq": null}}))
        .await;
    bob.op("heartbeat_ack").await;
    g.app.stop().await;
}

async fn a_server_muted_member_cannot_unmute_and_can_be_disconnected(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let g = guild(app).await;
    let Call {
        mut alice,
        mut bob,
        mut alice_peer,
        mut bob_peer,
        bob_at_alice,
        ..
    } = call(&g).await;
    let path = format!("/api/guilds/{}/voice-states/{}", g.guild_id, g.bob.id);

    // Bob may not moderate the owner; a member is not a moderator at all.
    g.app
        .patch(
            &format!("/api/guilds/{}/voice-states/{}", g.guild_id, g.alice.id),
            &g.bob.token,
            json!({"server_mute": true}),
        )
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");

    bob_peer.send_audio(true);
    alice_peer
        .wait_for("Bob's audio at Alice", |s| {
            s.received_on(&bob_at_alice).len() >= 5
        })
        .await;
    let muted = g
        .app
        .patch(&path, &g.alice.token, json!({"server_mute": true}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(muted["server_mute"], true);
    let state = bob.voice_state_of(&g.bob.id).await;
    assert_eq!(state["server_mute"], true);

    // Clearing his own mute does not lift the moderator's.
    bob.set_flags(false).await;
    let state = alice.voice_state_of(&g.bob.id).await;
    assert_eq!(state["server_mute"], true);
    let state = alice.voice_state_of(&g.bob.id).await;
    assert_eq!(
        (state["self_mute"].clone(), state["server_mute"].clone()),
        (json!(false), json!(true))
    );
    let muted_from = bob_peer.stats().sent;
    let leaked =
        received_while_sending(&mut bob_peer, &alice_peer, &bob_at_alice, muted_from, 25).await;
    assert!(
        leaked.is_empty(),
        "frames of a server-muted member were forwarded: {leaked:?}"
    );

    g.app
        .delete(&path, &g.alice.token)
        .await
        .expect(StatusCode::NO_CONTENT);
    let left = alice.voice_state_of(&g.bob.id).await;
    assert_eq!(left["channel_id"], Value::Null);
    let tracks = alice.answer_offer(&alice_peer).await;
    assert!(tracks.is_empty(), "{tracks:?}");
    // Not in voice any more: 404.
    g.app
        .delete(&path, &g.alice.token)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    g.app.stop().await;
}

async fn a_call_outlives_a_resumed_connection_and_ends_with_ice_or_logout(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let g = guild(app).await;
    let Call {
        mut alice,
        bob,
        mut alice_peer,
        bob_peer,
        bob_at_alice,
        bob_mid,
        ..
    } = call(&g).await;

    // Bob's WebSocket drops; he resumes and his call is still his: his ICE-restart offer
    // is answered, and his audio still reaches Alice.
    let Session { client, .. } = bob;
    let (client, _replayed) = client.resume(g.app.address, &g.bob.token).await;
    let mut bob = Session {
        client,
        held: VecDeque::new(),
    };
    let offer = bob_peer.restart_offer().await;
    bob.send(
        "voice_offer",
        json!({"offer": offer, "tracks": [{"mid": bob_mid, "kind": "audio"}]}),
    )
    .await;
    let answer = bob.op("voice_answer").await;
    bob_peer.accept_answer(serde_json::from_value(answer["answer"].clone()).unwrap());
    bob_peer.send_audio(true);
    let resumed_from = bob_peer.stats().sent;
    alice_peer
        .wait_for("Bob's audio after his resume", |s| {
            s.received_on(&bob_at_alice)
                .iter()
                .any(|n| *n >= resumed_from)
        })
        .await;

    // Bob's browser vanishes (no more UDP): ICE times out and he is removed from the call.
    drop(bob_peer);
    let left = alice
        .next_within(
            ICE_TIMEOUT_WAIT,
            "Bob's departure after the ICE timeout",
            |f| f["t"] == "VOICE_STATE_UPDATE" && f["d"]["user_id"] == g.bob.id.as_str(),
        )
        .await["d"]
        .clone();
    assert_eq!(left["channel_id"], Value::Null);

    // Alice signs out: her session closes with 4004 and her call ends with it.
    let mut observer = Session::identify(&g.app, &g.bob).await;
    g.app
        .call(
            reqwest::Method::POST,
            "/api/auth/logout",
            Some(&g.alice.token),
            None,
        )
        .await
        .expect(StatusCode::NO_CONTENT);
    assert_eq!(alice.client.closed().await, Some(4004));
    let left = observer.voice_state_of(&g.alice.id).await;
    assert_eq!(left["channel_id"], Value::Null);
    g.app.stop().await;
}

async fn removal_from_the_guild_or_channel_ends_the_call(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let g = guild(app).await;
    let Call {
        mut alice,
        alice_peer,
        alice_mid,
        ..
    } = call(&g).await;

    // Kicked: Bob's call ends at once, and the others are told.
    g.app
        .delete(
            &format!("/api/guilds/{}/members/{}", g.guild_id, g.bob.id),
            &g.alice.token,
        )
        .await
        .expect(StatusCode::NO_CONTENT);
    let left = alice.voice_state_of(&g.bob.id).await;
    assert_eq!(left["channel_id"], Value::Null);
    let tracks = alice.answer_offer(&alice_peer).await;
    assert!(tracks.is_empty(), "{tracks:?}");

    // The channel is deleted: Alice's call ends with it. Her offers are answered until the
    // deletion reaches the driver (it travels apart from CHANNEL_DELETE), then refused.
    g.app
        .delete(
            &format!("/api/channels/{}", g.voice_channel),
            &g.alice.token,
        )
        .await
        .expect(StatusCode::NO_CONTENT);
    alice
        .next("CHANNEL_DELETE", |f| f["t"] == "CHANNEL_DELETE")
        .await;
    let mut attempts = 0;
    loop {
        let offer = alice_peer.restart_offer().await;
        alice
            .send(
                "voice_offer",
                json!({"offer": offer, "tracks": [{"mid": alice_mid, "kind": "audio"}]}),
            )
            .await;
        let reply = alice
            .next("a reply to voice_offer", |f| {
                f["op"] == "voice_error" || f["op"] == "voice_answer"
            })
            .await;
        if reply["op"] == "voice_error" {
            assert_eq!(reply["d"]["code"], "conflict");
            break;
        }
        alice_peer.accept_answer(serde_json::from_value(reply["d"]["answer"].clone()).unwrap());
        attempts += 1;
        assert!(attempts < 50, "the call outlived its channel");
    }
    g.app.stop().await;
}

/// The value of an unlabelled Prometheus series.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} is not in the metrics"))
        .trim()
        .parse()
        .unwrap()
}

async fn joining_another_channel_moves_the_call(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let g = guild(app).await;
    let Call {
        mut alice,
        mut bob,
        bob_peer,
        ..
    } = call(&g).await;
    let lounge = g
        .app
        .post(
            &format!("/api/guilds/{}/channels", g.guild_id),
            &g.alice.token,
            json!({"name": "lounge", "kind": "voice"}),
        )
        .await
        .expect(StatusCode::CREATED);
    let lounge = lounge["id"].as_str().unwrap();

    // A new peer connection for the new channel; the old call ends with the move.
    let new_peer = Peer::start().await;
    alice.join(&new_peer, lounge).await;
    let moved = bob.voice_state_of(&g.alice.id).await;
    assert_eq!(moved["channel_id"], lounge, "{moved}");
    let tracks = bob.answer_offer(&bob_peer).await;
    assert!(tracks.is_empty(), "Alice's old track is gone: {tracks:?}");
    let mut late = Client::connect(g.app.address).await;
    let ready = late.identify(&g.bob.token).await;
    let mut states: Vec<(String, String)> = ready["guilds"][0]["voice_states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["user_id"].as_str().unwrap().to_owned(),
                s["channel_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    states.sort();
    let mut expected = vec![
        (g.alice.id.clone(), lounge.to_owned()),
        (g.bob.id.clone(), g.voice_channel.clone()),
    ];
    expected.sort();
    assert_eq!(states, expected);
    g.app.stop().await;
}

on_both_backends!(
    joining_another_channel_moves_the_call,
    removal_from_the_guild_or_channel_ends_the_call,
    a_call_outlives_a_resumed_connection_and_ends_with_ice_or_logout,
    audio_flows_between_two_people_and_mute_stops_it,
    a_hidden_camera_is_not_forwarded_and_bad_quality_wishes_are_refused,
    leaving_removes_the_track_and_tells_the_guild,
    joins_outside_ones_guilds_voice_channels_are_refused,
    a_server_muted_member_cannot_unmute_and_can_be_disconnected,
);

#[tokio::test]
async fn ice_servers_carry_coturn_credentials() {
    let secret = "north-wind";
    let Some(app) = spawn_app_with(Backend::Sqlite, |config| {
        config.voice.turn_urls = vec!["turn:turn.example.com:3478?transport=udp".into()];
        config.voice.turn_secret = secret.into();
        config.voice.turn_credential_ttl_seconds = 3600;
    })
    .await
    else {
        return;
    };
    let user = app.register("alice").await;
    let body = app
        .get("/api/voice/ice-servers", &user.token)
        .await
        .expect(StatusCode::OK);
    let server = &body["ice_servers"][0];
    assert_eq!(
        server["urls"],
        json!(["turn:turn.example.com:3478?transport=udp"])
    );
    let username = server["username"].as_str().unwrap();
    let (expiry, user_id) = username.split_once(':').unwrap();
    assert_eq!(user_id, user.id);
    let expiry: i64 = expiry.parse().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        (now + 3590..=now + 3610).contains(&expiry),
        "expiry {expiry}, now {now}"
    );
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(server["credential"], expected.as_str());
    assert!(body["expires_at"].is_string());

    // Without TURN configured, the list is empty; without a token, 401.
    let plain = spawn_app(Backend::Sqlite).await.unwrap();
    let user = plain.register("bob").await;
    let body = plain
        .get("/api/voice/ice-servers", &user.token)
        .await
        .expect(StatusCode::OK);
    assert_eq!(body["ice_servers"], json!([]));
    plain
        .call(reqwest::Method::GET, "/api/voice/ice-servers", None, None)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    app.stop().await;
    plain.stop().await;
}

// ---- a cluster: calls across nodes ----

/// `count` nodes on one fresh PostgreSQL database and one NATS server, each with its own
/// voice socket on 127.0.0.1 and its own runtime (so that a test can kill one).
async fn nodes(count: u16) -> Option<Vec<TestApp>> {
    nodes_with(count, |_| {}).await
}

/// [`nodes`] with settings of the test's own.
async fn nodes_with(count: u16, configure: impl Fn(&mut Config)) -> Option<Vec<TestApp>> {
    let nats = madang_bus::testing::nats_url("the voice cluster tests")?;
    let database_dir = tempfile::tempdir().expect("temporary directory");
    let database =
        madang_store::testing::fresh_database_url(Backend::Postgres, database_dir.path()).await?;
    let cluster_name = format!("voice-{:016x}", rand::random::<u64>());
    let mut nodes = Vec::new();
    for node_id in 1..=count {
        let node = spawn_killable_app_with(Backend::Postgres, |config| {
            config.database_url = database.clone();
            config.bus_url = nats.clone();
            config.node_id = node_id;
            config.gateway.cluster_name = cluster_name.clone();
            configure(config);
        })
        .await?;
        nodes.push(node);
    }
    Some(nodes)
}

/// The voice socket an SDP's host candidate names.
fn candidate_address(sdp: &str) -> SocketAddr {
    let line = sdp
        .lines()
        .find(|l| l.starts_with("a=candidate:"))
        .unwrap_or_else(|| panic!("no candidate in {sdp}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    format!("{}:{}", fields[4], fields[5]).parse().unwrap()
}

/// A voice channel made in the guild through `app`.
async fn voice_channel(app: &TestApp, g: &Guild, name: &str) -> String {
    app.post(
        &format!("/api/guilds/{}/channels", g.guild_id),
        &g.alice.token,
        json!({"name": name, "kind": "voice"}),
    )
    .await
    .expect(StatusCode::CREATED)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Sends the join and applies the answer; returns the sending m-line and the voice socket
/// the answer names.
async fn join_answered(
    session: &mut Session,
    peer: &Peer,
    channel_id: &str,
) -> (String, SocketAddr) {
    let (offer, mid) = peer.join_offer().await;
    let reply = session.voice_join(channel_id, &offer, &mid).await;
    assert_eq!(reply["op"], "voice_answer", "{reply}");
    let sdp = reply["d"]["answer"]["sdp"].as_str().unwrap();
    let address = candidate_address(sdp);
    peer.accept_answer(serde_json::from_value(reply["d"]["answer"].clone()).unwrap());
    (mid, address)
}

#[tokio::test]
async fn a_call_spans_nodes_with_media_on_the_holding_node_only() {
    let Some(mut nodes) = nodes(2).await else {
        return;
    };
    let second = nodes.pop().unwrap();
    let g = guild(nodes.pop().unwrap()).await;
    // Alice joins through the first node, which claims the channel.
    let mut alice = Session::identify(&g.app, &g.alice).await;
    let mut bob = Session::identify(&second, &g.bob).await;
    let mut alice_peer = Peer::start().await;
    let mut bob_peer = Peer::start().await;
    let (_, holder) = join_answered(&mut alice, &alice_peer, &g.voice_channel).await;
    let state = bob.voice_state_of(&g.alice.id).await;
    assert_eq!(state["channel_id"], g.voice_channel.as_str());
    alice_peer
        .wait_for("Alice connected", |s| s.connected)
        .await;

    // Bob joins through the second node: his signalling goes to the first node, whose
    // answer names its own voice socket.
    let (_, bob_holder) = join_answered(&mut bob, &bob_peer, &g.voice_channel).await;
    assert_eq!(bob_holder, holder, "Bob's media goes to the holding node");
    let offered_to_bob = bob.answer_offer(&bob_peer).await;
    assert_eq!(offered_to_bob.len(), 1, "{offered_to_bob:?}");
    assert_eq!(offered_to_bob[0]["user_id"], g.alice.id.as_str());
    let alice_at_bob = offered_to_bob[0]["mid"].as_str().unwrap().to_owned();
    let offered_to_alice = alice.answer_offer(&alice_peer).await;
    assert_eq!(offered_to_alice[0]["user_id"], g.bob.id.as_str());
    let bob_at_alice = offered_to_alice[0]["mid"].as_str().unwrap().to_owned();
    bob_peer.wait_for("Bob connected", |s| s.connected).await;
    let state = alice.voice_state_of(&g.bob.id).await;
    assert_eq!(state["channel_id"], g.voice_channel.as_str());

    // Audio both ways, and the speaking flag reaches Bob through his node.
    audio_flows_both_ways(&mut alice_peer, &alice_at_bob, &mut bob_peer, &bob_at_alice).await;
    let speaking = bob
        .next("VOICE_SPEAKING", |f| {
            f["t"] == "VOICE_SPEAKING" && f["d"]["user_id"] == g.alice.id.as_str()
        })
        .await;
    assert_eq!(speaking["d"]["speaking"], true);
    // Media never touched the second node's voice socket.
    assert_eq!(alice_peer.stats().sources, HashSet::from([holder]));
    assert_eq!(bob_peer.stats().sources, HashSet::from([holder]));

    // Bob's ops keep going to the holder: its SFU knows the m-lines he receives on (this
    // node's driver would answer `conflict`: it has no call of his), mute shows, then he
    // leaves and Alice renegotiates.
    bob.send(
        "voice_video_quality",
        json!({"mid": alice_at_bob, "quality": "off"}),
    )
    .await;
    let refused = bob.op("voice_error").await;
    assert_eq!(refused["code"], "unknown_track", "{refused}");
    bob.set_flags(true).await;
    assert_eq!(alice.voice_state_of(&g.bob.id).await["self_mute"], true);
    bob.send("voice_leave", Value::Null).await;
    let tracks = alice.answer_offer(&alice_peer).await;
    assert!(tracks.is_empty(), "Bob's track is gone: {tracks:?}");
    let left = alice.voice_state_of(&g.bob.id).await;
    assert_eq!(left["channel_id"], Value::Null);
    bob.send("voice_leave", Value::Null).await;
    assert_eq!(bob.op("voice_error").await["code"], "conflict");
    g.app.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn first_joins_through_two_nodes_at_once_meet_on_one_node() {
    let Some(mut nodes) = nodes(2).await else {
        return;
    };
    let second = nodes.pop().unwrap();
    let g = guild(nodes.pop().unwrap()).await;
    for round in 0..3 {
        let channel = voice_channel(&g.app, &g, &format!("race-{round}")).await;
        let mut alice = Session::identify(&g.app, &g.alice).await;
        let mut bob = Session::identify(&second, &g.bob).await;
        let alice_peer = Peer::start().await;
        let bob_peer = Peer::start().await;
        let (alice_offer, alice_mid) = alice_peer.join_offer().await;
        let (bob_offer, bob_mid) = bob_peer.join_offer().await;
        // Both joins are out before either is answered.
        let join = |offer: &SdpOffer, mid: &str| {
            json!({"channel_id": channel, "offer": offer,
                   "tracks": [{"mid": mid, "kind": "audio"}], "self_mute": false, "self_deaf": false})
        };
        alice
            .send("voice_join", join(&alice_offer, &alice_mid))
            .await;
        bob.send("voice_join", join(&bob_offer, &bob_mid)).await;
        let mut holders = Vec::new();
        for (session, peer) in [(&mut alice, &alice_peer), (&mut bob, &bob_peer)] {
            let reply = session.op("voice_answer").await;
            holders.push(candidate_address(reply["answer"]["sdp"].as_str().unwrap()));
            peer.accept_answer(serde_json::from_value(reply["answer"].clone()).unwrap());
        }
        assert_eq!(
            holders[0], holders[1],
            "round {round}: one node holds the call"
        );
        // In one room: each is offered the other's track.
        let offered = bob.answer_offer(&bob_peer).await;
        assert_eq!(offered[0]["user_id"], g.alice.id.as_str(), "round {round}");
        let offered = alice.answer_offer(&alice_peer).await;
        assert_eq!(offered[0]["user_id"], g.bob.id.as_str(), "round {round}");
    }
    g.app.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn a_session_resumed_on_a_third_node_keeps_its_call_on_the_holder() {
    let Some(mut nodes) = nodes(3).await else {
        return;
    };
    let third = nodes.pop().unwrap();
    let second = nodes.pop().unwrap();
    let g = guild(nodes.pop().unwrap()).await;
    let mut alice = Session::identify(&g.app, &g.alice).await;
    let mut bob = Session::identify(&second, &g.bob).await;
    let alice_peer = Peer::start().await;
    let mut bob_peer = Peer::start().await;
    let (_, holder) = join_answered(&mut alice, &alice_peer, &g.voice_channel).await;
    let (bob_mid, _) = join_answered(&mut bob, &bob_peer, &g.voice_channel).await;
    bob.answer_offer(&bob_peer).await;
    alice.answer_offer(&alice_peer).await;
    bob_peer.wait_for("Bob connected", |s| s.connected).await;
    // His voice state is stored (its dispatch follows the write): the third node finds the
    // holder through it.
    bob.voice_state_of(&g.bob.id).await;

    // Bob's WebSocket to the second node drops; he resumes on the third. His ICE restart
    // goes to the holder, found through his voice state, and is answered there.
    let Session { client, .. } = bob;
    let (client, _) = client.resume(third.address, &g.bob.token).await;
    let mut bob = Session {
        client,
        held: VecDeque::new(),
    };
    let offer = bob_peer.restart_offer().await;
    bob.send(
        "voice_offer",
        json!({"offer": offer, "tracks": [{"mid": bob_mid, "kind": "audio"}]}),
    )
    .await;
    let answer = bob.op("voice_answer").await;
    assert_eq!(
        candidate_address(answer["answer"]["sdp"].as_str().unwrap()),
        holder
    );
    bob_peer.accept_answer(serde_json::from_value(answer["answer"].clone()).unwrap());

    // The holder's own offers follow him to the third node: Alice leaves, Bob renegotiates.
    alice.send("voice_leave", Value::Null).await;
    let tracks = bob.answer_offer(&bob_peer).await;
    assert!(tracks.is_empty(), "Alice's track is gone: {tracks:?}");
    assert_eq!(bob_peer.stats().sources, HashSet::from([holder]));
    // His own join's update may still come first (written after he resumed).
    bob.send("voice_leave", Value::Null).await;
    bob.next("Bob's departure", |f| {
        f["t"] == "VOICE_STATE_UPDATE"
            && f["d"]["user_id"] == g.bob.id.as_str()
            && f["d"]["channel_id"].is_null()
    })
    .await;
    g.app.stop().await;
    second.stop().await;
    third.stop().await;
}

#[tokio::test]
async fn moving_to_a_channel_held_by_another_node_ends_the_old_call() {
    let Some(mut nodes) = nodes(2).await else {
        return;
    };
    let second = nodes.pop().unwrap();
    let g = guild(nodes.pop().unwrap()).await;
    let carol = g.app.register("carol").await;
    g.app.join(&g.guild_id, &g.alice, &carol).await;
    let lounge = voice_channel(&g.app, &g, "lounge").await;
    // Alice and Bob talk on the first node; Carol opens the lounge on the second.
    let Call {
        mut alice,
        mut bob,
        bob_peer,
        ..
    } = call(&g).await;
    let mut carol_session = Session::identify(&second, &carol).await;
    let carol_peer = Peer::start().await;
    let (_, lounge_holder) = join_answered(&mut carol_session, &carol_peer, &lounge).await;
    let first_holder = *bob_peer.stats().sources.iter().next().unwrap();
    assert_ne!(lounge_holder, first_holder);

    // Alice moves through the first node: her join goes to the second node, and the first
    // node ends her old call, so Bob renegotiates without her track.
    let new_peer = Peer::start().await;
    let (_, moved_to) = join_answered(&mut alice, &new_peer, &lounge).await;
    assert_eq!(moved_to, lounge_holder);
    let tracks = bob.answer_offer(&bob_peer).await;
    assert!(tracks.is_empty(), "Alice's old track is gone: {tracks:?}");
    let offered = carol_session.answer_offer(&carol_peer).await;
    assert_eq!(offered[0]["user_id"], g.alice.id.as_str());
    // Bob may first see her departure from the old call, then her arrival in the lounge.
    bob.next("Alice in the lounge", |f| {
        f["t"] == "VOICE_STATE_UPDATE"
            && f["d"]["user_id"] == g.alice.id.as_str()
            && f["d"]["channel_id"] == lounge.as_str()
    })
    .await;
    g.app.stop().await;
    second.stop().await;
}

/// Less than the 10 s a node waits for one that does not answer (a join answered within it
/// did not wait for a dead node), and than the default stale window (a call removed within it
/// was removed by the test's settings); more than the test's stale window and refresh
/// interval (1.2 s), with room for a slow machine.
const PROMPTLY: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_dead_holders_calls_end_and_its_channels_go_to_the_living_nodes() {
    // Short upkeep: the dead node's calls are stale after a second.
    let Some(mut nodes) = nodes_with(3, |config| {
        config.voice.refresh_interval_ms = 200;
        config.voice.stale_after_ms = 1_000;
    })
    .await
    else {
        return;
    };
    let third = nodes.pop().unwrap();
    let g = guild(nodes.pop().unwrap()).await;
    let doomed = nodes.pop().unwrap();
    // Alice's call is held by the doomed node; Bob joins it through the second node.
    let mut alice = Session::identify(&doomed, &g.alice).await;
    let mut bob = Session::identify(&g.app, &g.bob).await;
    let alice_peer = Peer::start().await;
    let mut bob_peer = Peer::start().await;
    let (_, dead_holder) = join_answered(&mut alice, &alice_peer, &g.voice_channel).await;
    let (_, bobs_holder) = join_answered(&mut bob, &bob_peer, &g.voice_channel).await;
    assert_eq!(bobs_holder, dead_holder);
    bob.answer_offer(&bob_peer).await;
    alice.answer_offer(&alice_peer).await;
    bob_peer.wait_for("Bob connected", |s| s.connected).await;
    for user in [&g.alice, &g.bob] {
        let state = bob.voice_state_of(&user.id).await;
        assert_eq!(state["channel_id"], g.voice_channel.as_str());
    }

    doomed.kill();
    // Alice's client finds its connection gone and resumes on the third node at once.
    let Session { client, .. } = alice;
    let (client, _) = client.resume(third.address, &g.alice.token).await;
    let mut alice = Session {
        client,
        held: VecDeque::new(),
    };

    // Once the calls are stale, a living node removes them and tells the guild.
    let left = |user: &TestUser| {
        let user_id = user.id.clone();
        move |f: &Value| {
            f["t"] == "VOICE_STATE_UPDATE"
                && f["d"]["user_id"] == user_id.as_str()
                && f["d"]["channel_id"].is_null()
        }
    };
    bob.next_within(PROMPTLY, "Alice's departure at Bob", left(&g.alice))
        .await;
    bob.next("Bob's own departure", left(&g.bob)).await;
    alice.next("Alice's own departure", left(&g.alice)).await;
    // A new session of hers sees no call, her own included.
    let mut again = Client::connect(third.address).await;
    let ready = again.identify(&g.alice.token).await;
    assert_eq!(ready["guilds"][0]["voice_states"], json!([]), "{ready}");

    // The channel is free: Bob joins it again through his node, which answers at once
    // without asking the dead node to end his old call, and holds it now.
    let mut bob_peer = Peer::start().await;
    let (offer, mid) = bob_peer.join_offer().await;
    bob.send(
        "voice_join",
        json!({"channel_id": g.voice_channel, "offer": offer,
               "tracks": [{"mid": mid, "kind": "audio"}], "self_mute": false, "self_deaf": false}),
    )
    .await;
    let answer = bob
        .next_within(PROMPTLY, "Bob's answer", |f| {
            f["op"] == "voice_answer" || f["op"] == "voice_error"
        })
        .await;
    assert_eq!(answer["op"], "voice_answer", "{answer}");
    let holder = candidate_address(answer["d"]["answer"]["sdp"].as_str().unwrap());
    assert_ne!(holder, dead_holder, "a living node holds the channel");
    bob_peer.accept_answer(serde_json::from_value(answer["d"]["answer"].clone()).unwrap());
    // Alice joins again through the third node; they hear each other.
    let mut alice_peer = Peer::start().await;
    let (_, alice_holder) = join_answered(&mut alice, &alice_peer, &g.voice_channel).await;
    assert_eq!(alice_holder, holder);
    let alice_at_bob = bob.answer_offer(&bob_peer).await[0]["mid"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob_at_alice = alice.answer_offer(&alice_peer).await[0]["mid"]
        .as_str()
        .unwrap()
        .to_owned();
    audio_flows_both_ways(&mut alice_peer, &alice_at_bob, &mut bob_peer, &bob_at_alice).await;
    assert_eq!(bob_peer.stats().sources, HashSet::from([holder]));
    g.app.stop().await;
    third.stop().await;
}
