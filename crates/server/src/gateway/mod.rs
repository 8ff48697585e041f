//! The real-time gateway at `GET /gateway`: WebSocket sessions that receive every event
//! their user may see, in order, and resume after a disconnect on any node, also after the
//! node they were on died. The protocol is documented in `docs/protocol.md`.
//!
//! Data flow: a REST handler's transaction appends events to the logs → the store hands the
//! committed events to the publisher → the bus → every node's sequencer, which orders them,
//! writes that order (its receipt stream) and fans them out to its sessions' queues → each
//! session's connection task writes its queue to the socket.

mod connection;
mod filter;
pub(crate) mod frames;
mod outbound;
mod replay;
mod sequencer;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use madang_bus::{Bus, BusMessage, Subject};
use madang_protocol::gateway::{MAX_VOICE_SIGNALLING_FRAME_BYTES, PresenceStatus, VoiceError};
use madang_store::{EventSource, LoggedEvent, Store};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::auth::{LoginSessions, require_same_origin};
use crate::config::Config;
use crate::error::ApiError;
use crate::state::{AppState, now_ms};
use crate::voice::{self, SessionFrame, VoiceControl};
use sequencer::{Command, Sequencer, VoiceLink};

/// A session's socket read buffer: a heartbeat or an identify fits in one read.
const SOCKET_READ_BUFFER_BYTES: usize = 1024;

/// What nodes tell each other over the bus.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeMessage {
    /// A committed event of a guild's or a user's log.
    Event(LoggedEvent),
    Presence(PresenceAnnouncement),
    Typing(TypingAnnouncement),
    CloseSessions(SessionRevocation),
    VoiceControl(VoiceControl),
    VoiceSignal(VoiceSignal),
}

/// Voice signalling between the node a session is attached to and the node holding its
/// call. Everything one node sends another goes through its publisher in order, so a
/// session's frames arrive in the order the holder's driver made them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VoiceSignal {
    /// The node this is for; the others ignore it.
    pub to_node: i64,
    pub message: VoiceSignalMessage,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoiceSignalMessage {
    /// A session's op, for the node holding the call; answered with `Reply`.
    Request {
        request_id: u64,
        from_node: i64,
        request: voice::VoiceRequest,
    },
    Reply {
        request_id: u64,
        result: Result<(), VoiceError>,
    },
    /// A frame of the driver for a session attached to `to_node`.
    Frame { session_id: i64, text: String },
}

impl BusMessage for NodeMessage {
    fn subject(&self) -> Subject {
        match self {
            NodeMessage::Event(event) => match event.source() {
                EventSource::Guild(guild_id) => Subject::GuildEvent { guild_id },
                EventSource::User(user_id) => Subject::UserEvent { user_id },
            },
            NodeMessage::Presence(presence) => Subject::Presence {
                user_id: presence.user_id,
            },
            NodeMessage::Typing(typing) => Subject::Typing {
                channel_id: typing.channel_id,
            },
            NodeMessage::CloseSessions(_) => Subject::SessionControl,
            NodeMessage::VoiceControl(_) => Subject::VoiceControl,
            NodeMessage::VoiceSignal(signal) => Subject::VoiceSignal {
                node: signal.to_node,
            },
        }
    }
}

/// One node's view of a user's presence: the status others see, and the guilds that care.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresenceAnnouncement {
    /// The announcing node (its receipt stream id, unique per process).
    pub stream_id: i64,
    pub user_id: i64,
    pub status: PresenceStatus,
    pub guild_ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TypingAnnouncement {
    pub guild_id: i64,
    pub channel_id: i64,
    pub user_id: i64,
    pub timestamp_ms: i64,
}

/// Logins ended: their gateway sessions close with 4004 on every node, and every node
/// forgets them as live (see [`LoginSessions`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionRevocation {
    /// The sessions of one login (logout).
    Login { user_id: i64, login_session_id: i64 },
    /// All of a user's sessions but those of `except_login` (refresh-token reuse, password
    /// change).
    User {
        user_id: i64,
        except_login: Option<i64>,
    },
}

impl SessionRevocation {
    pub fn user_id(&self) -> i64 {
        match self {
            SessionRevocation::Login { user_id, .. } | SessionRevocation::User { user_id, .. } => {
                *user_id
            }
        }
    }

    /// Whether a session of this user on login `login_session_id` is to be closed.
    pub fn covers(&self, login_session_id: i64) -> bool {
        match self {
            SessionRevocation::Login {
                login_session_id: revoked,
                ..
            } => *revoked == login_session_id,
            SessionRevocation::User { except_login, .. } => *except_login != Some(login_session_id),
        }
    }
}

/// How long a session's node waits for the node holding its call to answer a voice op.
const VOICE_FORWARD_TIMEOUT: Duration = Duration::from_secs(10);

/// This node's gateway: a handle on its sequencer and the bus.
pub struct Gateway {
    commands: mpsc::Sender<Command>,
    publish: mpsc::UnboundedSender<NodeMessage>,
    /// Where the voice driver sends frames for sessions (offers, speaking flags).
    session_frames: mpsc::UnboundedSender<SessionFrame>,
    login_sessions: Arc<LoginSessions>,
    heartbeat_interval: Duration,
    resume_window_ms: i64,
    session_queue_capacity: usize,
}

impl Gateway {
    /// Connects the bus, starts the publisher, the sequencer and the pruning of old events,
    /// and returns the gateway with the store that now publishes what it commits. Voice
    /// moderation heard on the bus goes to `voice`; revocations heard on it, and news that
    /// the bus lost messages, go to `login_sessions`.
    pub async fn start(
        config: &Config,
        store: Store,
        stream_id: i64,
        voice: mpsc::Sender<voice::Command>,
        login_sessions: Arc<LoginSessions>,
    ) -> anyhow::Result<(Gateway, Store)> {
        let settings = &config.gateway;
        let bus = Bus::<NodeMessage>::connect(&config.bus_url, &settings.cluster_name)
            .await
            .with_context(|| format!("cannot connect the bus at {}", config.bus_url))?;
        let subscription = bus
            .subscribe()
            .await
            .context("cannot subscribe to the bus")?;
        let (events, committed) = mpsc::unbounded_channel();
        let store = store.with_event_sink(events);
        let (publish, outgoing) = mpsc::unbounded_channel();
        tokio::spawn(run_publisher(bus, committed, outgoing));

        let resume_window = Duration::from_secs(settings.resume_window_seconds);
        let checkpoint_interval = resume_window / 4;
        let (commands, command_receiver) = mpsc::channel(1024);
        let (session_frames, session_frame_receiver) = mpsc::unbounded_channel();
        let sequencer = Sequencer::new(
            store.clone(),
            stream_id,
            subscription,
            command_receiver,
            VoiceLink {
                frames: session_frame_receiver,
                driver: voice,
            },
            publish.clone(),
            login_sessions.clone(),
            Duration::from_millis(settings.presence_grace_ms),
            checkpoint_interval,
        );
        tokio::spawn(sequencer.run());
        tokio::spawn(prune_old_events(
            store.clone(),
            resume_window + checkpoint_interval * 2,
        ));
        let gateway = Gateway {
            commands,
            publish,
            session_frames,
            login_sessions,
            heartbeat_interval: Duration::from_millis(settings.heartbeat_interval_ms),
            resume_window_ms: settings.resume_window_seconds as i64 * 1000,
            session_queue_capacity: settings.session_queue_capacity,
        };
        Ok((gateway, store))
    }

    /// Ends the revoked logins on every node: this one forgets them before this returns, the
    /// others when the bus delivers. Call it once the revocation is committed.
    pub fn revoke(&self, revocation: SessionRevocation) {
        self.login_sessions.revoke(&revocation);
        let _ = self.publish.send(NodeMessage::CloseSessions(revocation));
    }

    /// Where the voice driver sends frames for this node's sessions.
    pub fn session_frames(&self) -> mpsc::UnboundedSender<SessionFrame> {
        self.session_frames.clone()
    }

    /// Hands a moderator's action to the node holding the call (whichever it is).
    pub fn control_voice(&self, control: VoiceControl) {
        let _ = self.publish.send(NodeMessage::VoiceControl(control));
    }

    /// Runs a session's voice op on `node`, another node that holds the call, over the bus.
    /// A node that does not answer in time has stopped (or is far behind): `unavailable`.
    pub async fn forward_voice(
        &self,
        node: i64,
        request: voice::VoiceRequest,
    ) -> Result<(), VoiceError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::ForwardVoice {
                node,
                request,
                reply,
            })
            .await
            .map_err(|_| voice::stopped())?;
        match tokio::time::timeout(VOICE_FORWARD_TIMEOUT, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(voice::stopped()),
            Err(_) => Err(voice::refusal(
                madang_protocol::rest::ErrorCode::Unavailable,
                "the node holding this voice channel does not answer",
            )),
        }
    }

    /// Asks every session on this node to reconnect elsewhere, and stops the sequencer.
    pub async fn shut_down(&self) {
        let (done, stopped) = oneshot::channel();
        if self.commands.send(Command::Shutdown(done)).await.is_ok() {
            let _ = stopped.await;
        }
    }
}

/// Forwards committed events and this node's announcements to the bus, in order.
async fn run_publisher(
    bus: Bus<NodeMessage>,
    mut committed: mpsc::UnboundedReceiver<LoggedEvent>,
    mut outgoing: mpsc::UnboundedReceiver<NodeMessage>,
) {
    loop {
        let message = tokio::select! {
            Some(event) = committed.recv() => NodeMessage::Event(event),
            Some(message) = outgoing.recv() => message,
            else => break,
        };
        // A lost publication is recovered by the sequencers from the database (events) or
        // is best-effort anyway (presence, typing).
        if let Err(error) = bus.publish(&message).await {
            tracing::warn!(%error, "cannot publish on the bus");
        }
    }
}

async fn prune_old_events(store: Store, keep: Duration) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(error) = store.prune_events(now_ms() - keep.as_millis() as i64).await {
            tracing::warn!(%error, "cannot prune old events");
        }
    }
}

/// `GET /gateway`: upgrades to a WebSocket session. Browsers must come from our own origin.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if let Err(refused) = require_same_origin(&headers, state.public_origin.as_deref()) {
        return refused.into_response();
    }
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(_) => {
            return ApiError::invalid_parameter("GET /gateway expects a WebSocket upgrade")
                .into_response();
        }
    };
    // A small read buffer keeps idle sessions cheap: the WebSocket layer zero-fills all of
    // it on every read, so it stays resident, and clients mostly send heartbeats; a larger
    // frame grows it. Frames above the voice-signalling limit are refused by the WebSocket
    // layer, the rest by op (see `connection`).
    upgrade
        .read_buffer_size(SOCKET_READ_BUFFER_BYTES)
        .max_message_size(MAX_VOICE_SIGNALLING_FRAME_BYTES)
        .max_frame_size(MAX_VOICE_SIGNALLING_FRAME_BYTES)
        .on_upgrade(move |socket| connection::run(socket, state))
}
