//! One WebSocket connection: hello, then identify or resume, heartbeats, client ops, and
//! writing the session's queue to the socket in batches (one flush per batch).

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use madang_protocol::Id;
use madang_protocol::gateway::{
    ClientFrame, DispatchType, GatewayGuild, Hello, Identify, InvalidSession,
    MAX_CLIENT_FRAME_BYTES, MAX_CLIENT_FRAMES_PER_WINDOW, PresenceStatus,
    RATE_LIMIT_WINDOW_SECONDS, Ready, Resume, ServerFrame, VoiceError, VoiceJoin, close_code,
};
use madang_protocol::rest::ErrorCode;
use madang_store::{ChannelKind, EventSource, SessionCheckpoint, VoiceFlags};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::TypingAnnouncement;
use super::filter::SessionFilter;
use super::frames::{DispatchFrame, server_frame, texts, unsequenced};
use super::outbound::{self, Outbound, OutboundReceiver};
use super::replay::{CheckpointState, ReplayError, Replayed, catch_up, replay};
use super::sequencer::{Attachment, Closing, Command};
use crate::api::views;
use crate::state::{AppState, now_ms};
use crate::voice::{self, Voice, VoiceControl, VoiceOp, VoiceRequest, refusal};

/// Frames written per flush, unless one hand-over of the sequencer brings more.
const WRITE_BATCH: usize = 256;
/// READY's presences per guild: enough for a member list's first screens; in a larger guild
/// the rest arrive as PRESENCE_UPDATEs when they change.
const READY_PRESENCES_PER_GUILD: usize = 1000;

/// Why the connection ends.
enum End {
    /// Close with this code.
    Close(u16),
    /// The socket is gone.
    Gone,
}

impl From<axum::Error> for End {
    fn from(_: axum::Error) -> End {
        End::Gone
    }
}

/// A session this connection carries, once identified or resumed.
struct Attached {
    session_id: i64,
    generation: i64,
    user_id: i64,
    outbound: OutboundReceiver,
    closing: oneshot::Receiver<Closing>,
}

struct Connection {
    state: AppState,
    socket: WebSocket,
    heartbeat_deadline: Instant,
    window_started: Instant,
    frames_in_window: u32,
    session: Option<Attached>,
    /// The call this connection joined.
    voice_call: Option<JoinedCall>,
}

/// Where a connection's call is: its channel, and the node holding it (this one or another).
#[derive(Clone, Copy)]
struct JoinedCall {
    channel_id: i64,
    node: i64,
}

/// Runs a voice op on the node holding the call: this one, or another over the bus.
async fn voice_on(
    state: &AppState,
    voice: &Voice,
    node: i64,
    request: VoiceRequest,
) -> Result<(), VoiceError> {
    if node == state.stream_id {
        voice.perform(request).await
    } else {
        state.gateway.forward_voice(node, request).await
    }
}

pub async fn run(socket: WebSocket, state: AppState) {
    let interval = state.gateway.heartbeat_interval;
    let mut connection = Connection {
        state,
        socket,
        heartbeat_deadline: Instant::now() + interval.mul_f32(1.5),
        window_started: Instant::now(),
        frames_in_window: 0,
        session: None,
        voice_call: None,
    };
    let end = connection.serve().await;
    if let End::Close(code) = end {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(""),
        };
        let _ = connection.socket.send(Message::Close(Some(frame))).await;
    }
    if let Some(session) = connection.session.take() {
        // A session whose login ended cannot be resumed, so its call ends now; any other
        // session may resume and keep its call (see docs/protocol.md, "Voice").
        // Sent to every node: the call may be held by another one.
        if matches!(end, End::Close(close_code::AUTHENTICATION_FAILED)) {
            connection
                .state
                .gateway
                .control_voice(VoiceControl::SessionClosed {
                    session_id: session.session_id,
                });
        }
        let _ = connection
            .state
            .gateway
            .commands
            .send(Command::Detach {
                session_id: session.session_id,
                generation: session.generation,
            })
            .await;
    }
}

impl Connection {
    async fn serve(&mut self) -> End {
        let hello = ServerFrame::Hello(Hello {
            heartbeat_interval_ms: self.state.gateway.heartbeat_interval.as_millis() as u64,
        });
        if let Err(end) = self.send(server_frame(&hello)).await {
            return end;
        }
        loop {
            let result = match &mut self.session {
                Some(session) => {
                    tokio::select! {
                        biased;
                        closing = &mut session.closing => Err(match closing {
                            Ok(Closing::Code(code)) => End::Close(code),
                            Ok(Closing::Reconnect) => self.reconnect().await,
                            Err(_) => End::Close(close_code::UNKNOWN_ERROR),
                        }),
                        // Boxed, here and below: what a client frame sets off (identify, resume,
                        // voice) has large futures; inline, they would make every idle
                        // session's task that much bigger, for the frames it rarely sends.
                        received = self.socket.recv() => Box::pin(self.received(received)).await,
                        batch = session.outbound.recv(WRITE_BATCH) => match batch {
                            Some(batch) => self.write(batch).await,
                            None => Err(End::Close(close_code::UNKNOWN_ERROR)),
                        },
                        _ = tokio::time::sleep_until(self.heartbeat_deadline) => Err(End::Close(close_code::SESSION_TIMED_OUT)),
                    }
                }
                None => tokio::select! {
                    received = self.socket.recv() => Box::pin(self.received(received)).await,
                    _ = tokio::time::sleep_until(self.heartbeat_deadline) => Err(End::Close(close_code::SESSION_TIMED_OUT)),
                },
            };
            if let Err(end) = result {
                return end;
            }
        }
    }

    async fn reconnect(&mut self) -> End {
        match self.send(server_frame(&ServerFrame::Reconnect)).await {
            Ok(()) => End::Close(close_code::UNKNOWN_ERROR),
            Err(end) => end,
        }
    }

    async fn send(&mut self, text: String) -> Result<(), End> {
        Ok(self.socket.send(Message::Text(text.into())).await?)
    }

    /// Writes queued frames with one flush.
    async fn write(&mut self, batch: Vec<Outbound>) -> Result<(), End> {
        for text in texts(batch) {
            self.socket.feed(Message::Text(text)).await?;
        }
        Ok(self.socket.flush().await?)
    }

    async fn received(
        &mut self,
        received: Option<Result<Message, axum::Error>>,
    ) -> Result<(), End> {
        let text = match received {
            None | Some(Err(_)) => return Err(End::Gone),
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => return Err(End::Close(close_code::DECODE_ERROR)),
            Some(Ok(Message::Close(_))) => return Err(End::Gone),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => return Ok(()),
        };
        self.count_frame()?;
        let frame = decode(text.as_str())?;
        match frame {
            ClientFrame::Heartbeat(_) => {
                self.heartbeat_deadline =
                    Instant::now() + self.state.gateway.heartbeat_interval.mul_f32(1.5);
                self.send(server_frame(&ServerFrame::HeartbeatAck)).await
            }
            ClientFrame::Identify(identify) => {
                if self.session.is_some() {
                    return Err(End::Close(close_code::ALREADY_IDENTIFIED));
                }
                self.identify(identify).await
            }
            ClientFrame::Resume(resume) => {
                if self.session.is_some() {
                    return Err(End::Close(close_code::ALREADY_IDENTIFIED));
                }
                self.resume(resume).await
            }
            ClientFrame::Typing(typing) => {
                let user_id = self
                    .session
                    .as_ref()
                    .ok_or(End::Close(close_code::NOT_IDENTIFIED))?
                    .user_id;
                self.typing(user_id, typing.channel_id).await
            }
            ClientFrame::PresenceUpdate(update) => {
                let session_id = self
                    .session
                    .as_ref()
                    .ok_or(End::Close(close_code::NOT_IDENTIFIED))?
                    .session_id;
                let status = if update.status == PresenceStatus::Offline {
                    PresenceStatus::Invisible
                } else {
                    update.status
                };
                self.command(Command::SetStatus { session_id, status })
                    .await
            }
            voice_op @ (ClientFrame::VoiceJoin(_)
            | ClientFrame::VoiceOffer(_)
            | ClientFrame::VoiceAnswer(_)
            | ClientFrame::VoiceState(_)
            | ClientFrame::VoiceVideoQuality(_)
            | ClientFrame::VoiceLeave) => self.voice(voice_op).await,
        }
    }

    /// Runs a voice op and sends its reply: the answer, nothing, or `voice_error`.
    async fn voice(&mut self, op: ClientFrame) -> Result<(), End> {
        let session = self
            .session
            .as_ref()
            .ok_or(End::Close(close_code::NOT_IDENTIFIED))?;
        let (session_id, user_id) = (session.session_id, session.user_id);
        let outcome = match self.state.voice.clone() {
            Some(voice) => self.voice_request(&voice, session_id, user_id, op).await?,
            None => Err(refusal(
                ErrorCode::Unavailable,
                "voice is switched off on this server",
            )),
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(error) => {
                self.send(server_frame(&ServerFrame::VoiceError(error)))
                    .await
            }
        }
    }

    async fn voice_request(
        &mut self,
        voice: &Voice,
        session_id: i64,
        user_id: i64,
        op: ClientFrame,
    ) -> Result<Result<(), VoiceError>, End> {
        // Answers come from the driver on the session's ordered path, not from here.
        let op = match op {
            ClientFrame::VoiceJoin(join) => {
                return self.voice_join(voice, session_id, user_id, join).await;
            }
            ClientFrame::VoiceOffer(offer) => VoiceOp::Offer {
                offer: offer.offer,
                tracks: offer.tracks,
            },
            ClientFrame::VoiceAnswer(answer) => VoiceOp::Answer {
                answer: answer.answer,
            },
            ClientFrame::VoiceState(state) => VoiceOp::SetFlags {
                flags: VoiceFlags {
                    self_mute: state.self_mute,
                    self_deaf: state.self_deaf,
                    self_video: state.self_video,
                    self_stream: state.self_stream,
                },
            },
            ClientFrame::VoiceVideoQuality(wish) => VoiceOp::VideoQuality {
                mid: wish.mid,
                quality: wish.quality,
            },
            ClientFrame::VoiceLeave => VoiceOp::Leave,
            _ => unreachable!("only voice ops are passed in"),
        };
        // The node this connection joined through; after a resume, the node its voice state
        // names; without either the op finds no call, which this node's driver says.
        let node = match self.voice_call {
            Some(call) => call.node,
            None => self
                .state
                .store
                .voice_state(user_id)
                .await
                .map_err(store_failure)?
                .map_or(self.state.stream_id, |row| row.stream_id),
        };
        let request = VoiceRequest {
            session_id,
            session_node: self.state.stream_id,
            user_id,
            op,
        };
        Ok(voice_on(&self.state, voice, node, request).await)
    }

    /// Checks that the user may join the channel, claims the channel's call for this node
    /// unless another node holds it, then joins on the holder. Channels that are not voice
    /// channels of one of the user's guilds are all `unknown_channel`, so their existence
    /// does not leak.
    async fn voice_join(
        &mut self,
        voice: &Voice,
        session_id: i64,
        user_id: i64,
        join: VoiceJoin,
    ) -> Result<Result<(), VoiceError>, End> {
        let store = self.state.store.clone();
        let unknown = || refusal(ErrorCode::UnknownChannel, "unknown voice channel");
        let Some(channel) = store
            .channel(join.channel_id.0)
            .await
            .map_err(store_failure)?
            .filter(|c| c.kind == ChannelKind::Voice)
        else {
            return Ok(Err(unknown()));
        };
        if store
            .member(channel.guild_id, user_id)
            .await
            .map_err(store_failure)?
            .is_none()
        {
            return Ok(Err(unknown()));
        }
        let server_mute = store
            .member_server_muted(channel.guild_id, user_id)
            .await
            .map_err(store_failure)?;
        let now = now_ms();
        let stale_before = voice::states::stale_before(now, self.state.config.voice.stale_after());
        let holder = store
            .claim_voice_channel(channel.id, self.state.stream_id, now, stale_before)
            .await
            .map_err(store_failure)?;
        let request = VoiceRequest {
            session_id,
            session_node: self.state.stream_id,
            user_id,
            op: VoiceOp::Join {
                participant_id: self.state.next_id().0,
                guild_id: channel.guild_id,
                channel_id: channel.id,
                user_limit: channel.user_limit.map(|limit| limit as usize),
                server_mute,
                offer: join.offer,
                tracks: join.tracks,
                flags: VoiceFlags {
                    self_mute: join.self_mute,
                    self_deaf: join.self_deaf,
                    self_video: false,
                    self_stream: false,
                },
            },
        };
        // Moving from a call this connection joined on another node: that node ends it, since
        // the new channel's holder does not know of it. Unless that node no longer holds the
        // old channel: its calls there ended, or it stopped (its hold lapsed), and a stopped
        // node would keep this join waiting until forwarding times out.
        if let Some(previous) = self.voice_call.filter(|call| call.node != holder) {
            let still_held = store
                .live_voice_channel_holder(previous.channel_id, stale_before)
                .await
                .map_err(store_failure)?
                == Some(previous.node);
            if still_held {
                let leave = VoiceRequest {
                    session_id,
                    session_node: self.state.stream_id,
                    user_id,
                    op: VoiceOp::Leave,
                };
                let _ = voice_on(&self.state, voice, previous.node, leave).await;
            }
        }
        let joined = voice_on(&self.state, voice, holder, request).await;
        if joined.is_ok() {
            self.voice_call = Some(JoinedCall {
                channel_id: channel.id,
                node: holder,
            });
        }
        Ok(joined)
    }

    /// Counts a client frame against the rate limit.
    fn count_frame(&mut self) -> Result<(), End> {
        let now = Instant::now();
        if now.duration_since(self.window_started) >= Duration::from_secs(RATE_LIMIT_WINDOW_SECONDS)
        {
            self.window_started = now;
            self.frames_in_window = 0;
        }
        self.frames_in_window += 1;
        if self.frames_in_window > MAX_CLIENT_FRAMES_PER_WINDOW {
            return Err(End::Close(close_code::RATE_LIMITED));
        }
        Ok(())
    }

    async fn command(&mut self, command: Command) -> Result<(), End> {
        self.state
            .gateway
            .commands
            .send(command)
            .await
            .map_err(|_| End::Close(close_code::UNKNOWN_ERROR))
    }

    async fn position(&mut self) -> Result<i64, End> {
        let (reply, position) = oneshot::channel();
        self.command(Command::Position(reply)).await?;
        position
            .await
            .map_err(|_| End::Close(close_code::UNKNOWN_ERROR))
    }

    /// The (user, login session) of a valid token whose login is live.
    async fn authenticate(&mut self, token: &str) -> Result<(i64, i64), End> {
        let (user_id, login) = self
            .state
            .tokens
            .verify(token)
            .ok_or(End::Close(close_code::AUTHENTICATION_FAILED))?;
        match self.state.store.authenticate(login.0).await {
            Ok(Some(user)) if user.user_id == user_id.0 => Ok((user_id.0, login.0)),
            Ok(_) => Err(End::Close(close_code::AUTHENTICATION_FAILED)),
            Err(error) => Err(store_failure(error)),
        }
    }

    async fn identify(&mut self, identify: Identify) -> Result<(), End> {
        let (user_id, login) = self.authenticate(&identify.token).await?;
        let store = self.state.store.clone();
        // The user's log position is read before the memberships, so a guild joined in
        // between is found by its join marker during the catch-up.
        let user_after = store
            .last_seq(EventSource::User(user_id))
            .await
            .map_err(store_failure)?;
        let memberships = store.memberships(user_id).await.map_err(store_failure)?;
        let start = SessionFilter::new(user_id, user_after, memberships);
        let position = self.position().await?;
        let mut filter = start.clone();
        let mut seq = 0;
        let mut caught_up = Vec::new();
        let bounds = catch_up(&store, &mut filter, &mut seq, &mut caught_up)
            .await
            .map_err(replay_failure)?;
        let session_id = self.state.next_id().0;
        let checkpoint = SessionCheckpoint {
            session_id,
            user_id,
            login_session_id: login,
            generation: 1,
            stream_id: self.state.stream_id,
            position,
            seq: 0,
            state: checkpoint_state(start, bounds),
            updated_at: now_ms(),
        };
        store
            .save_session_checkpoint(&checkpoint)
            .await
            .map_err(store_failure)?;
        let ready = self.ready(session_id, user_id, &filter).await?;
        self.send(ready).await?;
        let status = identify.status.unwrap_or(PresenceStatus::Online);
        self.send_replayed(caught_up, 0).await?;
        self.attach(session_id, user_id, login, 1, filter, seq, position, status)
            .await
    }

    async fn ready(
        &mut self,
        session_id: i64,
        user_id: i64,
        filter: &SessionFilter,
    ) -> Result<String, End> {
        let store = self.state.store.clone();
        let user = store
            .user(user_id)
            .await
            .map_err(store_failure)?
            .ok_or(End::Close(close_code::AUTHENTICATION_FAILED))?;
        let mut guilds = Vec::new();
        for (guild_id, view) in &filter.guilds {
            let Some(role) = view.role else { continue };
            let Some(guild) = store.guild(*guild_id).await.map_err(store_failure)? else {
                continue;
            };
            let channels = store
                .channels_of_guild(*guild_id)
                .await
                .map_err(store_failure)?;
            let (reply, presences) = oneshot::channel();
            self.command(Command::Presences {
                guild_id: *guild_id,
                limit: READY_PRESENCES_PER_GUILD,
                reply,
            })
            .await?;
            let presences = presences
                .await
                .map_err(|_| End::Close(close_code::UNKNOWN_ERROR))?;
            let voice_states = store
                .voice_states_of_guild(*guild_id)
                .await
                .map_err(store_failure)?;
            guilds.push(GatewayGuild {
                guild: views::guild(&guild),
                channels: channels.iter().map(views::channel).collect(),
                role: views::member_role(role),
                presences,
                voice_states: voice_states.iter().map(views::voice_state).collect(),
            });
        }
        let read_states = store
            .read_states_of_user(user_id)
            .await
            .map_err(store_failure)?;
        let ready = Ready {
            session_id: Id(session_id),
            user: views::current_user(&user),
            guilds,
            read_states: read_states.iter().map(views::read_state).collect(),
        };
        Ok(unsequenced(DispatchType::Ready, &ready))
    }

    async fn resume(&mut self, resume: Resume) -> Result<(), End> {
        let (user_id, login) = self.authenticate(&resume.token).await?;
        let store = self.state.store.clone();
        let checkpoint = store
            .session_checkpoint(resume.session_id.0)
            .await
            .map_err(store_failure)?;
        let Some(checkpoint) = checkpoint.filter(|c| {
            c.user_id == user_id && c.updated_at >= now_ms() - self.state.gateway.resume_window_ms
        }) else {
            return self.invalid_session().await;
        };
        if resume.seq < checkpoint.seq {
            return self.invalid_session().await;
        }
        let position = self.position().await?;
        let mut replayed = Vec::new();
        let (filter, last_seq) = match replay(&store, &checkpoint, &mut replayed).await {
            Ok(done) => done,
            Err(ReplayError::Expired) => return self.invalid_session().await,
            Err(error) => return Err(replay_failure(error)),
        };
        if resume.seq > last_seq {
            return Err(End::Close(close_code::INVALID_SEQUENCE));
        }
        // Whatever this node ordered before `position` and the old stream did not carry.
        let start = filter.clone();
        let mut filter = filter;
        let mut seq = last_seq;
        let bounds = catch_up(&store, &mut filter, &mut seq, &mut replayed)
            .await
            .map_err(replay_failure)?;
        let generation = checkpoint.generation + 1;
        let moved = SessionCheckpoint {
            generation,
            login_session_id: login,
            stream_id: self.state.stream_id,
            position,
            seq: last_seq,
            state: checkpoint_state(start, bounds),
            updated_at: now_ms(),
            ..checkpoint
        };
        // Saved before anything is sent: what follows is reproducible only from here.
        if !store
            .save_session_checkpoint(&moved)
            .await
            .map_err(store_failure)?
        {
            return self.invalid_session().await;
        }
        // Frames of the session's call, on whichever node, come here from now on. Published
        // before the client can send anything, so it reaches the call's node before any op.
        self.state
            .gateway
            .control_voice(VoiceControl::SessionResumed {
                session_id: moved.session_id,
                node: self.state.stream_id,
            });
        self.send_replayed(replayed, resume.seq).await?;
        self.send(unsequenced(DispatchType::Resumed, &serde_json::json!({})))
            .await?;
        self.attach(
            moved.session_id,
            user_id,
            login,
            generation,
            filter,
            seq,
            position,
            PresenceStatus::Online,
        )
        .await
    }

    async fn invalid_session(&mut self) -> Result<(), End> {
        self.send(server_frame(&ServerFrame::InvalidSession(InvalidSession {
            resumable: false,
        })))
        .await
    }

    /// Sends replayed dispatches the client has not seen (those after `after`), with one
    /// flush.
    async fn send_replayed(&mut self, replayed: Vec<Replayed>, after: i64) -> Result<(), End> {
        let batch = replayed
            .into_iter()
            .filter(|r| r.seq > after)
            .map(|item| Outbound::Dispatch {
                seq: item.seq,
                frame: DispatchFrame::new(item.delivery.dispatch(&item.event)),
            })
            .collect();
        self.write(batch).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn attach(
        &mut self,
        session_id: i64,
        user_id: i64,
        login: i64,
        generation: i64,
        filter: SessionFilter,
        last_seq: i64,
        from_position: i64,
        status: PresenceStatus,
    ) -> Result<(), End> {
        let (outbound, queue) = outbound::queue(self.state.gateway.session_queue_capacity);
        let (close, closing) = oneshot::channel();
        let attachment = Attachment {
            session_id,
            user_id,
            login_session_id: login,
            generation,
            filter,
            last_seq,
            from_position,
            status,
            outbound,
            close,
        };
        let (reply, attached) = oneshot::channel();
        self.command(Command::Attach(Box::new(attachment), reply))
            .await?;
        if !attached.await.unwrap_or(false) {
            // Too much happened while catching up; the client resumes and tries again.
            return Err(End::Close(close_code::UNKNOWN_ERROR));
        }
        self.session = Some(Attached {
            session_id,
            generation,
            user_id,
            outbound: queue,
            closing,
        });
        Ok(())
    }

    async fn typing(&mut self, user_id: i64, channel_id: Id) -> Result<(), End> {
        let store = self.state.store.clone();
        let Some(channel) = store.channel(channel_id.0).await.map_err(store_failure)? else {
            return Ok(());
        };
        if store
            .member(channel.guild_id, user_id)
            .await
            .map_err(store_failure)?
            .is_none()
        {
            return Ok(());
        }
        let typing = TypingAnnouncement {
            guild_id: channel.guild_id,
            channel_id: channel.id,
            user_id,
            timestamp_ms: now_ms(),
        };
        let _ = self
            .state
            .gateway
            .publish
            .send(super::NodeMessage::Typing(typing));
        Ok(())
    }
}

/// A client frame, or the close code for why it is not one: 4001 for an op the client may
/// not send, 4002 for anything undecodable.
fn decode(text: &str) -> Result<ClientFrame, End> {
    const CLIENT_OPS: [&str; 11] = [
        "heartbeat",
        "identify",
        "resume",
        "typing",
        "presence_update",
        "voice_join",
        "voice_offer",
        "voice_answer",
        "voice_state",
        "voice_leave",
        "voice_video_quality",
    ];
    /// Ops that carry SDP, and so may be as large as the WebSocket layer allows.
    const SDP_OPS: [&str; 3] = ["voice_join", "voice_offer", "voice_answer"];
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| End::Close(close_code::DECODE_ERROR))?;
    let op = value
        .get("op")
        .and_then(|op| op.as_str())
        .ok_or(End::Close(close_code::DECODE_ERROR))?;
    if !CLIENT_OPS.contains(&op) {
        return Err(End::Close(close_code::UNKNOWN_OP));
    }
    if text.len() > MAX_CLIENT_FRAME_BYTES && !SDP_OPS.contains(&op) {
        return Err(End::Close(close_code::DECODE_ERROR));
    }
    serde_json::from_value(value).map_err(|_| End::Close(close_code::DECODE_ERROR))
}

fn checkpoint_state(filter: SessionFilter, catch_up: Vec<(EventSource, i64)>) -> String {
    serde_json::to_string(&CheckpointState { filter, catch_up })
        .expect("checkpoint state serialises")
}

fn store_failure(error: madang_store::StoreError) -> End {
    tracing::error!(%error, "gateway: store failure");
    End::Close(close_code::UNKNOWN_ERROR)
}

fn replay_failure(error: ReplayError) -> End {
    tracing::error!(%error, "gateway: replay failure");
    End::Close(close_code::UNKNOWN_ERROR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> Option<u16> {
        match decode(text) {
            Ok(_) => None,
            Err(End::Close(code)) => Some(code),
            Err(End::Gone) => Some(0),
        }
    }

    #[test]
    fn frames_decode_or_name_their_close_code() {
        assert_eq!(code(r#"{"op":"heartbeat","d":{"seq":null}}"#), None);
        assert_eq!(code(r#"{"op":"identify","d":{"token":"t"}}"#), None);
        assert_eq!(
            code(r#"{"op":"dispatch","d":{}}"#),
            Some(close_code::UNKNOWN_OP)
        );
        assert_eq!(
            code(r#"{"op":"identify","d":{"tokn":"t"}}"#),
            Some(close_code::DECODE_ERROR)
        );
        assert_eq!(code("not json"), Some(close_code::DECODE_ERROR));
        assert_eq!(code(r#"{"d":{}}"#), Some(close_code::DECODE_ERROR));
        assert_eq!(code(r#"{"op":"voice_leave","d":null}"#), None);
        assert_eq!(code(r#"{"op":"voice_leave"}"#), None);
        let padding = "x".repeat(MAX_CLIENT_FRAME_BYTES);
        let large_answer = format!(
            r#"{{"op":"voice_answer","d":{{"answer":{{"type":"answer","sdp":"{padding}"}}}}}}"#
        );
        assert_eq!(code(&large_answer), None);
        let large_typing = format!(r#"{{"op":"typing","d":{{"channel_id":"{padding}"}}}}"#);
        assert_eq!(code(&large_typing), Some(close_code::DECODE_ERROR));
    }
}
