//! Voice channels on this node: the SFU (`madang_sfu`) driven by one task that owns one UDP
//! socket, signalling through the gateway, voice states written as guild events, and TURN
//! credentials. See docs/protocol.md ("Voice") for the contract and docs/architecture.md
//! ("Voice") for how calls are placed in a cluster.
//!
//! Data flow: a gateway connection checks the op (membership, channel kind) and sends a
//! [`Command`] to the driver with a reply channel → the driver applies it to the SFU and
//! replies with success or a refusal → SFU output goes out over UDP; answers, server offers
//! and speaking flags go to gateway sessions through the sequencer, all on one ordered path
//! (an answer must never overtake an offer the SFU made before it); voice-state changes go to
//! the state writer, which commits them with their VOICE_STATE_UPDATE guild events.
//!
//! In a cluster each voice channel's call lives on one node, its holder (claimed in the
//! database). A session on another node sends its ops there as [`VoiceRequest`]s over the
//! bus, and the holder's frames for that session come back over the bus in the driver's
//! order (see `gateway`); media goes straight from the client to the holder over UDP.

mod driver;
pub mod states;
pub mod turn;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

use anyhow::Context;
use axum::extract::ws::Utf8Bytes;
use madang_protocol::gateway::{
    SdpType, SessionDescription, VideoQuality, VoiceError, VoiceTrackKind, VoiceTrackLabel,
};
use madang_protocol::rest::ErrorCode;
use madang_sfu::{SdpAnswer, SdpOffer, TrackKind, TrackLabel};
use madang_store::{Store, VoiceFlags};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::config::VoiceConfig;

/// A frame for one gateway session (answers, server offers, speaking indicators), queued by
/// the sequencer of the session's node like any unsequenced frame.
#[derive(Debug)]
pub struct SessionFrame {
    pub session_id: i64,
    /// The node the session is attached to; frames for another node go over the bus.
    pub node: i64,
    pub text: Utf8Bytes,
}

/// An action on calls from outside them (moderators, removals, deletions), sent over the bus
/// to whichever node holds the calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoiceControl {
    ServerMute {
        guild_id: i64,
        user_id: i64,
        server_mute: bool,
    },
    /// A moderator's disconnect, or the user left, was kicked or banned from the guild.
    Disconnect { guild_id: i64, user_id: i64 },
    /// The channel was deleted: everyone in it leaves.
    CloseChannel { channel_id: i64 },
    /// The guild was deleted: everyone in its voice channels leaves.
    CloseGuild { guild_id: i64 },
    /// The session ended for good (its login ended): its call ends too, on whichever node.
    SessionClosed { session_id: i64 },
    /// The session resumed on `node`: frames for its call go there from now on.
    SessionResumed { session_id: i64, node: i64 },
}

/// A session's voice op, addressed to the node holding its call: this node or another one
/// (over the bus). The session's node has authorised it; SDP travels as the client sent it
/// and is parsed by the holder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VoiceRequest {
    pub session_id: i64,
    /// The node the session is attached to, where its frames go.
    pub session_node: i64,
    pub user_id: i64,
    pub op: VoiceOp,
}

/// What a session asks of its call: the gateway's `voice_*` ops, after authorisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoiceOp {
    Join {
        /// New for every join (see `voice_states.participant_id`).
        participant_id: i64,
        guild_id: i64,
        channel_id: i64,
        /// The channel's own limit; the server-wide one applies as well.
        user_limit: Option<usize>,
        server_mute: bool,
        offer: SessionDescription,
        tracks: Vec<VoiceTrackLabel>,
        flags: VoiceFlags,
    },
    Offer {
        offer: SessionDescription,
        tracks: Vec<VoiceTrackLabel>,
    },
    Answer {
        answer: SessionDescription,
    },
    SetFlags {
        flags: VoiceFlags,
    },
    VideoQuality {
        mid: String,
        quality: VideoQuality,
    },
    Leave,
}

/// Everything a voice join needs, checked by the gateway before it reaches the driver.
#[derive(Debug)]
pub struct JoinRequest {
    pub session_id: i64,
    /// The node the session is attached to, where the call's frames go.
    pub session_node: i64,
    pub user_id: i64,
    /// New for every join (see `voice_states.participant_id`).
    pub participant_id: i64,
    pub guild_id: i64,
    pub channel_id: i64,
    /// The channel's own limit; the server-wide one applies as well.
    pub user_limit: Option<usize>,
    pub server_mute: bool,
    pub offer: SdpOffer,
    pub labels: Vec<TrackLabel>,
    pub flags: VoiceFlags,
}

type Reply<T> = oneshot::Sender<Result<T, VoiceError>>;

/// What the driver is asked to do. Every op of a session names its user, and applies only
/// to that user's call joined from that session.
#[derive(Debug)]
pub enum Command {
    /// Answered with `voice_answer` on the session's ordered path, like every SDP.
    Join(Box<JoinRequest>, Reply<()>),
    Offer {
        session_id: i64,
        user_id: i64,
        offer: SdpOffer,
        labels: Vec<TrackLabel>,
        reply: Reply<()>,
    },
    Answer {
        session_id: i64,
        user_id: i64,
        answer: SdpAnswer,
        reply: Reply<()>,
    },
    SetFlags {
        session_id: i64,
        user_id: i64,
        flags: VoiceFlags,
        reply: Reply<()>,
    },
    VideoQuality {
        session_id: i64,
        user_id: i64,
        /// The subscriber's m-line carrying the track.
        mid: String,
        quality: VideoQuality,
        reply: Reply<()>,
    },
    Leave {
        session_id: i64,
        user_id: i64,
        reply: Reply<()>,
    },
    Control(VoiceControl),
}

/// This node's voice service: a handle on the driver task.
#[derive(Clone)]
pub struct Voice {
    commands: mpsc::Sender<Command>,
}

/// The command channel, made before the gateway (which forwards moderation from the bus into
/// it) and the driver (which drains it) exist.
pub fn command_channel() -> (mpsc::Sender<Command>, mpsc::Receiver<Command>) {
    mpsc::channel(4096)
}

impl Voice {
    /// Binds the UDP socket and starts the driver, the state writer and the upkeep of this
    /// node's voice states.
    pub fn start(
        config: &VoiceConfig,
        store: Store,
        stream_id: i64,
        commands: mpsc::Sender<Command>,
        received: mpsc::Receiver<Command>,
        sessions: mpsc::UnboundedSender<SessionFrame>,
    ) -> anyhow::Result<Voice> {
        let socket = UdpSocket::bind(config.udp_bind)
            .with_context(|| format!("cannot bind voice.udp_bind {}", config.udp_bind))?;
        socket.set_nonblocking(true)?;
        let bound = socket.local_addr()?;
        let candidates = candidate_addresses(config, bound);
        let socket = tokio::net::UdpSocket::from_std(socket)?;
        tracing::info!(%bound, ?candidates, "voice: serving media");
        let sfu_config = madang_sfu::SfuConfig {
            candidate_addresses: candidates,
            max_participants_per_room: config.max_participants_per_channel,
            max_subscriber_video_bitrate: config.max_video_bitrate,
            ..madang_sfu::SfuConfig::default()
        };
        let writer = states::start_writer(store.clone(), stream_id, config.stale_after());
        let driver =
            driver::Driver::new(sfu_config, socket, received, sessions, writer, stream_id)?;
        tokio::spawn(driver.run());
        tokio::spawn(states::keep_fresh(
            store,
            stream_id,
            config.refresh_interval(),
            config.stale_after(),
        ));
        Ok(Voice { commands })
    }

    /// Runs a voice op of a session on a call this node holds.
    pub async fn perform(&self, request: VoiceRequest) -> Result<(), VoiceError> {
        let (reply, answer) = oneshot::channel();
        let command = command(request, reply)?;
        self.commands.send(command).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The driver's command for a request, with its SDP parsed.
pub fn command(request: VoiceRequest, reply: Reply<()>) -> Result<Command, VoiceError> {
    let VoiceRequest {
        session_id,
        session_node,
        user_id,
        op,
    } = request;
    Ok(match op {
        VoiceOp::Join {
            participant_id,
            guild_id,
            channel_id,
            user_limit,
            server_mute,
            offer,
            tracks,
            flags,
        } => Command::Join(
            Box::new(JoinRequest {
                session_id,
                session_node,
                user_id,
                participant_id,
                guild_id,
                channel_id,
                user_limit,
                server_mute,
                offer: parse_offer(&offer)?,
                labels: labels(&tracks),
                flags,
            }),
            reply,
        ),
        VoiceOp::Offer { offer, tracks } => Command::Offer {
            session_id,
            user_id,
            offer: parse_offer(&offer)?,
            labels: labels(&tracks),
            reply,
        },
        VoiceOp::Answer { answer } => Command::Answer {
            session_id,
            user_id,
            answer: parse_answer(&answer)?,
            reply,
        },
        VoiceOp::SetFlags { flags } => Command::SetFlags {
            session_id,
            user_id,
            flags,
            reply,
        },
        VoiceOp::VideoQuality { mid, quality } => Command::VideoQuality {
            session_id,
            user_id,
            mid,
            quality,
            reply,
        },
        VoiceOp::Leave => Command::Leave {
            session_id,
            user_id,
            reply,
        },
    })
}

fn labels(tracks: &[VoiceTrackLabel]) -> Vec<TrackLabel> {
    tracks
        .iter()
        .map(|t| TrackLabel::new(t.mid.clone(), track_kind(t.kind)))
        .collect()
}

/// The addresses announced as ICE host candidates, with the bound port.
fn candidate_addresses(config: &VoiceConfig, bound: SocketAddr) -> Vec<SocketAddr> {
    if !config.public_addresses.is_empty() {
        return config
            .public_addresses
            .iter()
            .map(|ip| SocketAddr::new(*ip, bound.port()))
            .collect();
    }
    if !bound.ip().is_unspecified() {
        return vec![bound];
    }
    vec![SocketAddr::new(default_route_address(), bound.port())]
}

/// The local address of the interface the default route goes through: "connecting" a UDP
/// socket sends nothing but makes the kernel pick it. Loopback when there is no route.
fn default_route_address() -> IpAddr {
    UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|socket| {
            socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9))?;
            socket.local_addr()
        })
        .map(|address| address.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

pub fn refusal(code: ErrorCode, message: impl Into<String>) -> VoiceError {
    VoiceError {
        code,
        message: message.into(),
    }
}

pub fn stopped() -> VoiceError {
    refusal(
        ErrorCode::Unavailable,
        "voice is not running on this server",
    )
}

/// The browser's offer as str0m parses it.
fn parse_offer(description: &SessionDescription) -> Result<SdpOffer, VoiceError> {
    if description.kind != SdpType::Offer {
        return Err(refusal(
            ErrorCode::ValidationFailed,
            "offer: type must be \"offer\"",
        ));
    }
    SdpOffer::from_sdp_string(&description.sdp).map_err(|e| {
        refusal(
            ErrorCode::ValidationFailed,
            format!("offer: unusable SDP: {e}"),
        )
    })
}

fn parse_answer(description: &SessionDescription) -> Result<SdpAnswer, VoiceError> {
    if description.kind != SdpType::Answer {
        return Err(refusal(
            ErrorCode::ValidationFailed,
            "answer: type must be \"answer\"",
        ));
    }
    SdpAnswer::from_sdp_string(&description.sdp).map_err(|e| {
        refusal(
            ErrorCode::ValidationFailed,
            format!("answer: unusable SDP: {e}"),
        )
    })
}

pub fn description_of_answer(answer: &SdpAnswer) -> SessionDescription {
    SessionDescription {
        kind: SdpType::Answer,
        sdp: answer.to_sdp_string(),
    }
}

fn track_kind(kind: VoiceTrackKind) -> TrackKind {
    match kind {
        VoiceTrackKind::Audio => TrackKind::Audio,
        VoiceTrackKind::Camera => TrackKind::Camera,
        VoiceTrackKind::Screen => TrackKind::Screen,
    }
}

fn voice_track_kind(kind: TrackKind) -> VoiceTrackKind {
    match kind {
        TrackKind::Audio => VoiceTrackKind::Audio,
        TrackKind::Camera => VoiceTrackKind::Camera,
        TrackKind::Screen => VoiceTrackKind::Screen,
    }
}
