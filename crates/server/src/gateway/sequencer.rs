//! The sequencer: one task per node that puts every event it hears of into one order, writes
//! that order to the database (the node's receipt stream) before delivering anything, and
//! then fans each event out to the sessions whose filter lets it through.
//!
//! It also follows each log's sequence: an event that arrives ahead of its predecessors
//! (another node published first, or the bus lost one) makes it read the missing events
//! from the database first; a periodic look at the newest events catches a lost last event.
//! Presence and typing pass through it too, since it knows which sessions are in which
//! guild; they are never written anywhere.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use futures_util::FutureExt;
use madang_bus::{Received, Subscription};
use madang_protocol::Id;
use madang_protocol::gateway::{
    DispatchType, PresenceStatus, PresenceUpdate, TypingStart, VoiceError, close_code,
};
use madang_store::{EventSource, LoggedEvent, MembershipEffect, Receipt, SessionCheckpoint, Store};
use tokio::sync::{mpsc, oneshot};

use super::filter::{Delivery, SessionFilter};
use super::frames::{DispatchFrame, unsequenced};
use super::outbound::{MAX_ENTRY_FRAMES, Outbound, OutboundSender, SendError};
use super::replay::CheckpointState;
use super::{
    NodeMessage, PresenceAnnouncement, SessionRevocation, TypingAnnouncement, VoiceSignal,
    VoiceSignalMessage,
};
use crate::auth::LoginSessions;
use crate::state::now_ms;
use crate::voice::{self, SessionFrame};

/// Ordered events kept in memory, so a session attaching a little after the position it
/// caught up to gets the events in between.
const RING_CAPACITY: usize = 100_000;
/// Bus messages taken in one go before the receipts are written: the write batch.
const BATCH_LIMIT: usize = 4096;
/// How far back the periodic look for lost events reaches.
const LOST_EVENT_LOOKBACK_MS: i64 = 10_000;
/// Every node announces its users' presence this often; entries not refreshed for three
/// announcements belong to a dead node and are dropped.
const PRESENCE_ANNOUNCE_INTERVAL: Duration = Duration::from_secs(20);

/// The sequencer's side of voice: it delivers the driver's frames to sessions, and hands the
/// driver what the bus says about calls.
pub struct VoiceLink {
    /// Frames the voice driver addresses to one session.
    pub frames: mpsc::UnboundedReceiver<SessionFrame>,
    pub driver: mpsc::Sender<voice::Command>,
}

/// A session joining live delivery.
pub struct Attachment {
    pub session_id: i64,
    pub user_id: i64,
    pub login_session_id: i64,
    pub generation: i64,
    /// The filter as of `from_position`, and the last `s` sent.
    pub filter: SessionFilter,
    pub last_seq: i64,
    pub from_position: i64,
    pub status: PresenceStatus,
    pub outbound: OutboundSender,
    /// Ends the session, when the queue cannot carry the news.
    pub close: oneshot::Sender<Closing>,
}

/// Why the sequencer ends a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// Close with this close code.
    Code(u16),
    /// Ask the client to reconnect and resume (the node is stopping).
    Reconnect,
}

pub enum Command {
    /// The last position delivered. A session that catches up from the database after
    /// asking attaches from here.
    Position(oneshot::Sender<i64>),
    /// Starts live delivery; fails when the events since `from_position` are no longer in
    /// memory (the session then reconnects and resumes).
    Attach(Box<Attachment>, oneshot::Sender<bool>),
    Detach {
        session_id: i64,
        generation: i64,
    },
    SetStatus {
        session_id: i64,
        status: PresenceStatus,
    },
    /// Up to `limit` of the guild's members who are not offline, with their visible status.
    Presences {
        guild_id: i64,
        limit: usize,
        reply: oneshot::Sender<Vec<PresenceUpdate>>,
    },
    /// Sends a session's voice op to `node`, which holds the call, and replies with its
    /// answer when it comes back.
    ForwardVoice {
        node: i64,
        request: voice::VoiceRequest,
        reply: oneshot::Sender<Result<(), VoiceError>>,
    },
    /// Asks every session to reconnect elsewhere; the node is stopping.
    Shutdown(oneshot::Sender<()>),
}

struct OrderedEvent {
    position: i64,
    event: LoggedEvent,
    /// `None` for silent events (join markers).
    members_frame: Option<Arc<DispatchFrame>>,
    target_frame: Option<Arc<DispatchFrame>>,
}

impl OrderedEvent {
    fn new(position: i64, event: LoggedEvent) -> OrderedEvent {
        let (members_frame, target_frame) = match &event {
            LoggedEvent::Guild(e) => (
                Some(DispatchFrame::new(&e.dispatch)),
                e.target_dispatch.as_ref().map(DispatchFrame::new),
            ),
            LoggedEvent::User(e) => match &e.kind {
                madang_store::UserEventKind::Dispatch(dispatch) => {
                    (Some(DispatchFrame::new(dispatch)), None)
                }
                madang_store::UserEventKind::Joined { .. } => (None, None),
            },
        };
        OrderedEvent {
            position,
            event,
            members_frame,
            target_frame,
        }
    }
}

struct LiveSession {
    user_id: i64,
    login_session_id: i64,
    generation: i64,
    filter: SessionFilter,
    last_seq: i64,
    outbound: OutboundSender,
    /// The frames of this turn of the sequencer, handed over when it ends (or in pieces of
    /// [`MAX_ENTRY_FRAMES`]).
    unsent: Vec<Outbound>,
    /// How many frames the last hand-over had: room for as many is made at once, since a
    /// busy channel brings about as many each turn.
    frames_last_turn: usize,
    close: Option<oneshot::Sender<Closing>>,
}

impl LiveSession {
    fn close(&mut self, code: u16) {
        self.end(Closing::Code(code));
    }

    fn end(&mut self, closing: Closing) {
        if let Some(close) = self.close.take() {
            let _ = close.send(closing);
        }
    }

    /// Adds a frame to this turn's, handing them over at once when they reach
    /// [`MAX_ENTRY_FRAMES`]. True when the frame starts a hand-over: the caller then lists the
    /// session in [`Sequencer::unsent_to`], so it is handed over when the turn ends.
    #[must_use]
    fn push(&mut self, outbound: Outbound) -> bool {
        if self.close.is_none() {
            return false;
        }
        let first = self.unsent.is_empty();
        if first {
            self.unsent.reserve(self.frames_last_turn);
        }
        self.unsent.push(outbound);
        if self.unsent.len() == MAX_ENTRY_FRAMES {
            self.hand_over();
        }
        first
    }

    /// Queues this turn's frames for the connection task, as one entry.
    fn hand_over(&mut self) {
        let frames = std::mem::take(&mut self.unsent);
        if frames.is_empty() || self.close.is_none() {
            return;
        }
        self.frames_last_turn = frames.len();
        if let Err(SendError::Full) = self.outbound.send(frames) {
            self.close(close_code::SLOW_CONSUMER);
        }
    }

    /// Runs the event through the filter and adds what it lets through to this turn's
    /// frames; true as for [`LiveSession::push`].
    #[must_use]
    fn offer(&mut self, ordered: &OrderedEvent) -> bool {
        let Some(delivery) = self.filter.apply(&ordered.event) else {
            return false;
        };
        let frame = match delivery {
            Delivery::Target => ordered
                .target_frame
                .as_ref()
                .or(ordered.members_frame.as_ref()),
            Delivery::Members => ordered.members_frame.as_ref(),
        };
        let Some(frame) = frame else { return false };
        self.last_seq += 1;
        let seq = self.last_seq;
        self.push(Outbound::Dispatch {
            seq,
            frame: frame.clone(),
        })
    }
}

/// This node's users' presence, and what every node said about theirs.
#[derive(Default)]
struct Presence {
    local: HashMap<i64, LocalPresence>,
    /// user → announcing stream → what it said.
    cluster: HashMap<i64, HashMap<i64, Announced>>,
    /// guild → the users some node announced as seen in it: READY and a joiner's presences
    /// come from here, without reading the member list.
    by_guild: HashMap<i64, HashSet<i64>>,
}

struct LocalPresence {
    sessions: usize,
    status: PresenceStatus,
    /// When the user goes offline, if no session comes back first.
    offline_at: Option<Instant>,
}

struct Announced {
    status: PresenceStatus,
    guild_ids: Vec<i64>,
    at: Instant,
}

fn rank(status: PresenceStatus) -> u8 {
    match status {
        PresenceStatus::Online => 3,
        PresenceStatus::Dnd => 2,
        PresenceStatus::Idle => 1,
        PresenceStatus::Invisible | PresenceStatus::Offline => 0,
    }
}

/// What others see of a chosen status.
pub fn visible(status: PresenceStatus) -> PresenceStatus {
    match status {
        PresenceStatus::Invisible => PresenceStatus::Offline,
        other => other,
    }
}

impl Presence {
    fn status_of(&self, user_id: i64) -> PresenceStatus {
        self.cluster
            .get(&user_id)
            .and_then(|nodes| nodes.values().map(|a| a.status).max_by_key(|s| rank(*s)))
            .unwrap_or(PresenceStatus::Offline)
    }

    /// The guilds whose members see the user's presence, as the nodes announced them.
    fn guilds_of(&self, user_id: i64) -> HashSet<i64> {
        self.cluster
            .get(&user_id)
            .into_iter()
            .flat_map(|nodes| nodes.values())
            .flat_map(|a| a.guild_ids.iter().copied())
            .collect()
    }

    /// Takes in a node's announcement; returns the user's status and guilds before it.
    fn record(&mut self, announcement: &PresenceAnnouncement) -> (PresenceStatus, HashSet<i64>) {
        let user_id = announcement.user_id;
        let before = self.status_of(user_id);
        let guilds_before = self.guilds_of(user_id);
        let nodes = self.cluster.entry(user_id).or_default();
        if announcement.status == PresenceStatus::Offline {
            nodes.remove(&announcement.stream_id);
        } else {
            let announced = Announced {
                status: announcement.status,
                guild_ids: announcement.guild_ids.clone(),
                at: Instant::now(),
            };
            nodes.insert(announcement.stream_id, announced);
        }
        if nodes.is_empty() {
            self.cluster.remove(&user_id);
        }
        let guilds_after = self.guilds_of(user_id);
        for guild_id in guilds_before.difference(&guilds_after) {
            if let Some(users) = self.by_guild.get_mut(guild_id) {
                users.remove(&user_id);
                if users.is_empty() {
                    self.by_guild.remove(guild_id);
                }
            }
        }
        for guild_id in guilds_after.difference(&guilds_before) {
            self.by_guild.entry(*guild_id).or_default().insert(user_id);
        }
        (before, guilds_before)
    }

    /// Up to `limit` of the guild's members who are not offline, with their status.
    fn online_in(&self, guild_id: i64, limit: usize) -> Vec<PresenceUpdate> {
        self.by_guild
            .get(&guild_id)
            .into_iter()
            .flatten()
            .map(|user_id| PresenceUpdate {
                user_id: Id(*user_id),
                status: self.status_of(*user_id),
            })
            .filter(|p| p.status != PresenceStatus::Offline)
            .take(limit)
            .collect()
    }
}

fn presence_frame(user_id: i64, status: PresenceStatus) -> Utf8Bytes {
    unsequenced(
        DispatchType::PresenceUpdate,
        &PresenceUpdate {
            user_id: Id(user_id),
            status,
        },
    )
    .into()
}

pub struct Sequencer {
    store: Store,
    stream_id: i64,
    subscription: Subscription<NodeMessage>,
    commands: mpsc::Receiver<Command>,
    voice: VoiceLink,
    publish: mpsc::UnboundedSender<NodeMessage>,
    /// Forgets the logins that revocations heard on the bus cover.
    login_sessions: Arc<LoginSessions>,
    presence_grace: Duration,
    checkpoint_interval: Duration,
    /// The last sequence number ordered, per log.
    cursors: HashMap<EventSource, i64>,
    last_position: i64,
    /// Ordered, not yet written to the receipt stream nor delivered.
    pending: Vec<LoggedEvent>,
    ring: VecDeque<Arc<OrderedEvent>>,
    sessions: HashMap<i64, LiveSession>,
    /// The sessions with frames from this turn (one pass of the run loop), which are handed
    /// over at its end: each session's task is woken once per turn, not once per frame.
    unsent_to: Vec<i64>,
    by_guild: HashMap<i64, HashSet<i64>>,
    by_user: HashMap<i64, HashSet<i64>>,
    presence: Presence,
    /// Checkpoints taken at the last tick, saved at the next.
    previous_checkpoints: Vec<SessionCheckpoint>,
    /// Voice ops sent to other nodes, waiting for their replies.
    forwarded_voice: HashMap<u64, oneshot::Sender<Result<(), VoiceError>>>,
    next_voice_request: u64,
}

impl Sequencer {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Store,
        stream_id: i64,
        subscription: Subscription<NodeMessage>,
        commands: mpsc::Receiver<Command>,
        voice: VoiceLink,
        publish: mpsc::UnboundedSender<NodeMessage>,
        login_sessions: Arc<LoginSessions>,
        presence_grace: Duration,
        checkpoint_interval: Duration,
    ) -> Sequencer {
        Sequencer {
            store,
            stream_id,
            subscription,
            commands,
            voice,
            publish,
            login_sessions,
            presence_grace,
            checkpoint_interval,
            cursors: HashMap::new(),
            last_position: 0,
            pending: Vec::new(),
            ring: VecDeque::new(),
            sessions: HashMap::new(),
            unsent_to: Vec::new(),
            by_guild: HashMap::new(),
            by_user: HashMap::new(),
            presence: Presence::default(),
            previous_checkpoints: Vec::new(),
            forwarded_voice: HashMap::new(),
            next_voice_request: 0,
        }
    }

    pub async fn run(mut self) {
        let mut lost_event_check = tokio::time::interval(Duration::from_secs(1));
        let mut checkpoints = tokio::time::interval(self.checkpoint_interval);
        let mut presence_tick = tokio::time::interval(Duration::from_millis(250));
        let mut announce = tokio::time::interval(PRESENCE_ANNOUNCE_INTERVAL);
        loop {
            tokio::select! {
                received = self.subscription.next() => {
                    let Some(received) = received else { break };
                    self.receive(received).await;
                    // Take what else has arrived, so one receipt write covers a batch.
                    let mut taken = 1;
                    while taken < BATCH_LIMIT {
                        let Some(Some(received)) = self.subscription.next().now_or_never() else { break };
                        self.receive(received).await;
                        taken += 1;
                    }
                }
                command = self.commands.recv() => {
                    let Some(command) = command else { break };
                    if let Command::Shutdown(done) = command {
                        self.shutdown();
                        let _ = done.send(());
                        break;
                    }
                    self.command(command);
                }
                Some(frame) = self.voice.frames.recv() => self.voice_frame(frame),
                _ = lost_event_check.tick() => self.look_for_lost_events().await,
                _ = checkpoints.tick() => self.save_checkpoints(),
                _ = presence_tick.tick() => self.expire_presence(),
                _ = announce.tick() => self.announce_all(),
            }
            // What needs no receipt (presence, typing, voice) goes out before the receipt
            // write is awaited, as it would without events to deliver.
            self.hand_over();
            self.deliver_pending().await;
            self.hand_over();
        }
    }

    /// Ends the turn: every session given frames in it gets them now.
    fn hand_over(&mut self) {
        for id in self.unsent_to.drain(..) {
            if let Some(session) = self.sessions.get_mut(&id) {
                session.hand_over();
            }
        }
    }

    async fn receive(&mut self, received: Received<NodeMessage>) {
        match received {
            Received::Message(NodeMessage::Event(event)) => self.order(event).await,
            Received::Message(NodeMessage::Presence(announcement)) => {
                self.presence_announced(announcement)
            }
            Received::Message(NodeMessage::Typing(typing)) => self.typing(typing),
            Received::Message(NodeMessage::CloseSessions(revocation)) => self.revoke(revocation),
            Received::Message(NodeMessage::VoiceSignal(signal)) => {
                if signal.to_node == self.stream_id {
                    self.voice_signal(signal.message);
                }
            }
            Received::Message(NodeMessage::VoiceControl(control)) => {
                // A full queue means the driver is far behind; moderators can repeat. A closed
                // one means voice is off on this node, so it holds no calls.
                if let Err(mpsc::error::TrySendError::Full(_)) =
                    self.voice.driver.try_send(voice::Command::Control(control))
                {
                    tracing::warn!("voice: a moderation action was dropped");
                }
            }
            Received::Lost => {
                // A revocation may have been among the lost messages.
                self.login_sessions.forget_all();
                self.look_for_lost_events().await
            }
        }
    }

    /// Puts the event in this node's order, after any of its predecessors still missing.
    async fn order(&mut self, event: LoggedEvent) {
        let source = event.source();
        let seq = event.seq();
        let cursor = self.cursors.get(&source).copied();
        if cursor.is_some_and(|cursor| seq <= cursor) {
            return;
        }
        // First sight of a log: order what the database still has of it, so nothing
        // committed earlier but delivered later by the bus is skipped.
        let after = cursor.unwrap_or(0);
        if seq > after + 1 {
            for missing in self.read_events(source, after, seq - 1).await {
                self.pending.push(missing);
            }
        }
        self.cursors.insert(source, seq);
        self.pending.push(event);
    }

    /// Events of a log from the database, retrying while the database is unavailable.
    async fn read_events(&self, source: EventSource, after: i64, up_to: i64) -> Vec<LoggedEvent> {
        loop {
            match self.store.events(source, after, up_to).await {
                Ok(events) => return events,
                Err(error) => {
                    tracing::error!(%error, "cannot read missing events; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }

    async fn look_for_lost_events(&mut self) {
        let heads = match self
            .store
            .recent_log_heads(now_ms() - LOST_EVENT_LOOKBACK_MS)
            .await
        {
            Ok(heads) => heads,
            Err(error) => {
                tracing::warn!(%error, "cannot look for lost events");
                return;
            }
        };
        for (source, head) in heads {
            let cursor = self.cursors.get(&source).copied().unwrap_or(0);
            if head > cursor {
                for event in self.read_events(source, cursor, head).await {
                    self.order(event).await;
                }
            }
        }
    }

    /// Writes the receipts of the pending events, then delivers them.
    async fn deliver_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let events = std::mem::take(&mut self.pending);
        let first = self.last_position + 1;
        let receipts: Vec<Receipt> = events
            .iter()
            .enumerate()
            .map(|(i, event)| Receipt {
                position: first + i as i64,
                source: event.source(),
                seq: event.seq(),
            })
            .collect();
        while let Err(error) = self
            .store
            .append_receipts(self.stream_id, &receipts, now_ms())
            .await
        {
            tracing::error!(%error, "cannot write receipts; retrying");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        for (i, event) in events.into_iter().enumerate() {
            let ordered = Arc::new(OrderedEvent::new(first + i as i64, event));
            self.fan_out(&ordered);
            if self.ring.len() == RING_CAPACITY {
                self.ring.pop_front();
            }
            self.ring.push_back(ordered);
        }
        self.last_position = first + receipts.len() as i64 - 1;
    }

    fn fan_out(&mut self, ordered: &OrderedEvent) {
        let sessions = &mut self.sessions;
        let unsent_to = &mut self.unsent_to;
        match &ordered.event {
            LoggedEvent::User(event) => {
                for id in self.by_user.get(&event.user_id).into_iter().flatten() {
                    if let Some(session) = sessions.get_mut(id)
                        && session.offer(ordered)
                    {
                        unsent_to.push(*id);
                    }
                }
            }
            LoggedEvent::Guild(event) => {
                for id in self.by_guild.get(&event.guild_id).into_iter().flatten() {
                    if let Some(session) = sessions.get_mut(id)
                        && session.offer(ordered)
                    {
                        unsent_to.push(*id);
                    }
                }
                // The member an event is about may not follow the guild yet (a join).
                if let Some(target) = event.target_user_id {
                    for id in self.by_user.get(&target).into_iter().flatten() {
                        if let Some(session) = sessions.get_mut(id) {
                            if session.offer(ordered) {
                                unsent_to.push(*id);
                            }
                            if session.filter.guilds.contains_key(&event.guild_id) {
                                self.by_guild.entry(event.guild_id).or_default().insert(*id);
                            }
                        }
                    }
                    if self.by_user.contains_key(&target) {
                        match event.effect {
                            MembershipEffect::Joined(_) => self.joined(target, event.guild_id),
                            // The guild no longer sees this user's presence.
                            MembershipEffect::Left => self.announce(target),
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Position(reply) => {
                let _ = reply.send(self.last_position);
            }
            Command::Attach(attachment, reply) => {
                let attached = self.attach(*attachment);
                let _ = reply.send(attached);
            }
            Command::Detach {
                session_id,
                generation,
            } => self.detach(session_id, generation),
            Command::SetStatus { session_id, status } => {
                if let Some(user_id) = self.sessions.get(&session_id).map(|s| s.user_id)
                    && let Some(local) = self.presence.local.get_mut(&user_id)
                {
                    local.status = status;
                    self.announce(user_id);
                }
            }
            Command::Presences {
                guild_id,
                limit,
                reply,
            } => {
                let _ = reply.send(self.presence.online_in(guild_id, limit));
            }
            Command::ForwardVoice {
                node,
                request,
                reply,
            } => {
                // Requests whose sessions stopped waiting (their node timed out) are dropped.
                self.forwarded_voice
                    .retain(|_, waiting| !waiting.is_closed());
                self.next_voice_request += 1;
                let request_id = self.next_voice_request;
                self.forwarded_voice.insert(request_id, reply);
                let _ = self.publish.send(NodeMessage::VoiceSignal(VoiceSignal {
                    to_node: node,
                    message: VoiceSignalMessage::Request {
                        request_id,
                        from_node: self.stream_id,
                        request,
                    },
                }));
            }
            Command::Shutdown(_) => unreachable!("handled by the loop"),
        }
    }

    /// Voice signalling from another node: an op for a call this node holds, the reply to
    /// an op this node forwarded, or a frame for one of this node's sessions.
    fn voice_signal(&mut self, message: VoiceSignalMessage) {
        match message {
            VoiceSignalMessage::Request {
                request_id,
                from_node,
                request,
            } => {
                let publish = self.publish.clone();
                let reply_to = move |result| {
                    let _ = publish.send(NodeMessage::VoiceSignal(VoiceSignal {
                        to_node: from_node,
                        message: VoiceSignalMessage::Reply { request_id, result },
                    }));
                };
                let (reply, answer) = oneshot::channel();
                let queued = voice::command(request, reply).and_then(|command| {
                    self.voice
                        .driver
                        .try_send(command)
                        .map_err(|_| voice::stopped())
                });
                match queued {
                    // The driver answers without waiting on anything, so this task is short.
                    Ok(()) => {
                        tokio::spawn(async move {
                            reply_to(answer.await.unwrap_or_else(|_| Err(voice::stopped())));
                        });
                    }
                    Err(error) => reply_to(Err(error)),
                }
            }
            VoiceSignalMessage::Reply { request_id, result } => {
                if let Some(waiting) = self.forwarded_voice.remove(&request_id) {
                    let _ = waiting.send(result);
                }
            }
            VoiceSignalMessage::Frame { session_id, text } => {
                if let Some(session) = self.sessions.get_mut(&session_id)
                    && session.push(Outbound::Unsequenced(text.into()))
                {
                    self.unsent_to.push(session_id);
                }
            }
        }
    }

    fn attach(&mut self, attachment: Attachment) -> bool {
        let from = attachment.from_position;
        let oldest_kept = self
            .ring
            .front()
            .map_or(self.last_position + 1, |e| e.position);
        if from + 1 < oldest_kept {
            return false;
        }
        let mut session = LiveSession {
            user_id: attachment.user_id,
            login_session_id: attachment.login_session_id,
            generation: attachment.generation,
            filter: attachment.filter,
            last_seq: attachment.last_seq,
            outbound: attachment.outbound,
            unsent: Vec::new(),
            frames_last_turn: 0,
            close: Some(attachment.close),
        };
        let session_id = attachment.session_id;
        for ordered in self.ring.iter().filter(|e| e.position > from) {
            if session.offer(ordered) {
                self.unsent_to.push(session_id);
            }
        }
        // The same session attached twice (a resume racing its old connection): the newer
        // one wins.
        if let Some(mut previous) = self.sessions.remove(&session_id) {
            previous.close(close_code::UNKNOWN_ERROR);
            self.unindex(session_id, &previous);
        }
        for guild_id in session.filter.guilds.keys() {
            self.by_guild
                .entry(*guild_id)
                .or_default()
                .insert(session_id);
        }
        self.by_user
            .entry(session.user_id)
            .or_default()
            .insert(session_id);
        let user_id = session.user_id;
        self.sessions.insert(session_id, session);
        let local = self.presence.local.entry(user_id).or_insert(LocalPresence {
            sessions: 0,
            status: attachment.status,
            offline_at: None,
        });
        local.sessions += 1;
        local.offline_at = None;
        local.status = attachment.status;
        self.announce(user_id);
        true
    }

    fn unindex(&mut self, session_id: i64, session: &LiveSession) {
        for guild_id in session.filter.guilds.keys() {
            if let Some(ids) = self.by_guild.get_mut(guild_id) {
                ids.remove(&session_id);
                if ids.is_empty() {
                    self.by_guild.remove(guild_id);
                }
            }
        }
        if let Some(ids) = self.by_user.get_mut(&session.user_id) {
            ids.remove(&session_id);
            if ids.is_empty() {
                self.by_user.remove(&session.user_id);
            }
        }
    }

    fn detach(&mut self, session_id: i64, generation: i64) {
        if self
            .sessions
            .get(&session_id)
            .is_none_or(|s| s.generation != generation)
        {
            return;
        }
        let Some(session) = self.sessions.remove(&session_id) else {
            return;
        };
        self.unindex(session_id, &session);
        if let Some(local) = self.presence.local.get_mut(&session.user_id) {
            local.sessions = local.sessions.saturating_sub(1);
            if local.sessions == 0 {
                local.offline_at = Some(Instant::now() + self.presence_grace);
            }
        }
    }

    fn checkpoint(&self, session_id: i64, session: &LiveSession) -> SessionCheckpoint {
        let state = CheckpointState {
            filter: session.filter.clone(),
            catch_up: Vec::new(),
        };
        SessionCheckpoint {
            session_id,
            user_id: session.user_id,
            login_session_id: session.login_session_id,
            generation: session.generation,
            stream_id: self.stream_id,
            position: self.last_position,
            seq: session.last_seq,
            state: serde_json::to_string(&state).expect("checkpoint state serialises"),
            updated_at: now_ms(),
        }
    }

    /// Moves every live session's checkpoint forward, so resuming stays within the window
    /// and replays little. What is saved is the snapshot taken one interval earlier: a
    /// checkpoint must not count dispatches still waiting in a queue, which a client that
    /// drops now never received and will ask to have replayed.
    fn save_checkpoints(&mut self) {
        let snapshot: Vec<SessionCheckpoint> = self
            .sessions
            .iter()
            .map(|(id, s)| self.checkpoint(*id, s))
            .collect();
        let checkpoints = std::mem::replace(&mut self.previous_checkpoints, snapshot);
        if checkpoints.is_empty() {
            return;
        }
        let store = self.store.clone();
        tokio::spawn(async move {
            for checkpoint in checkpoints {
                if let Err(error) = store.save_session_checkpoint(&checkpoint).await {
                    tracing::warn!(%error, "cannot save a session checkpoint");
                    return;
                }
            }
        });
    }

    fn revoke(&mut self, revocation: SessionRevocation) {
        self.login_sessions.revoke(&revocation);
        let user_id = revocation.user_id();
        for id in self.by_user.get(&user_id).into_iter().flatten() {
            if let Some(session) = self.sessions.get_mut(id)
                && revocation.covers(session.login_session_id)
            {
                session.close(close_code::AUTHENTICATION_FAILED);
            }
        }
    }

    /// A voice frame for one session; lost if the session is not attached (a resumed client
    /// re-offers, see docs/protocol.md).
    fn voice_frame(&mut self, frame: SessionFrame) {
        if frame.node != self.stream_id {
            // After the frames before it: this node publishes in order.
            let _ = self.publish.send(NodeMessage::VoiceSignal(VoiceSignal {
                to_node: frame.node,
                message: VoiceSignalMessage::Frame {
                    session_id: frame.session_id,
                    text: frame.text.as_str().to_owned(),
                },
            }));
            return;
        }
        if let Some(session) = self.sessions.get_mut(&frame.session_id)
            && session.push(Outbound::Unsequenced(frame.text))
        {
            self.unsent_to.push(frame.session_id);
        }
    }

    fn typing(&mut self, typing: TypingAnnouncement) {
        let frame = Utf8Bytes::from(unsequenced(
            DispatchType::TypingStart,
            &TypingStart {
                channel_id: Id(typing.channel_id),
                guild_id: Id(typing.guild_id),
                user_id: Id(typing.user_id),
                timestamp: madang_protocol::Timestamp(typing.timestamp_ms),
            },
        ));
        for id in self.by_guild.get(&typing.guild_id).into_iter().flatten() {
            if let Some(session) = self.sessions.get_mut(id)
                && session.user_id != typing.user_id
                && session.filter.is_member(typing.guild_id)
                && session.push(Outbound::Unsequenced(frame.clone()))
            {
                self.unsent_to.push(*id);
            }
        }
    }

    /// Tells the cluster this node's view of a user's presence.
    fn announce(&self, user_id: i64) {
        let (status, guild_ids) = match self.presence.local.get(&user_id) {
            Some(local) if local.sessions > 0 || local.offline_at.is_some() => {
                let guilds: HashSet<i64> = self
                    .by_user
                    .get(&user_id)
                    .into_iter()
                    .flatten()
                    .filter_map(|id| self.sessions.get(id))
                    .flat_map(|s| {
                        s.filter
                            .guilds
                            .iter()
                            .filter(|(_, v)| v.role.is_some())
                            .map(|(g, _)| *g)
                    })
                    .collect();
                (visible(local.status), guilds.into_iter().collect())
            }
            _ => (PresenceStatus::Offline, Vec::new()),
        };
        let _ = self
            .publish
            .send(NodeMessage::Presence(PresenceAnnouncement {
                stream_id: self.stream_id,
                user_id,
                status,
                guild_ids,
            }));
    }

    fn announce_all(&self) {
        for user_id in self.presence.local.keys() {
            self.announce(*user_id);
        }
    }

    fn expire_presence(&mut self) {
        let now = Instant::now();
        let gone: Vec<i64> = self
            .presence
            .local
            .iter()
            .filter(|(_, local)| {
                local.sessions == 0 && local.offline_at.is_some_and(|at| at <= now)
            })
            .map(|(user_id, _)| *user_id)
            .collect();
        for user_id in gone {
            self.presence.local.remove(&user_id);
            self.announce(user_id);
        }
        let stale_after = PRESENCE_ANNOUNCE_INTERVAL * 3;
        let stale: Vec<(i64, i64)> = self
            .presence
            .cluster
            .iter()
            .flat_map(|(user_id, nodes)| {
                nodes
                    .iter()
                    .filter(|(_, a)| now.duration_since(a.at) > stale_after)
                    .map(move |(stream, _)| (*user_id, *stream))
            })
            .collect();
        for (user_id, stream_id) in stale {
            self.presence_announced(PresenceAnnouncement {
                stream_id,
                user_id,
                status: PresenceStatus::Offline,
                guild_ids: Vec::new(),
            });
        }
    }

    fn presence_announced(&mut self, announcement: PresenceAnnouncement) {
        let user_id = announcement.user_id;
        let (before, guilds_before) = self.presence.record(&announcement);
        let after = self.presence.status_of(user_id);
        // A change of status goes to every guild the user was or is seen in; the same status
        // only to guilds it newly shares (the user joined one), whose members did not know it.
        let guild_ids: HashSet<i64> = if before != after {
            guilds_before
                .into_iter()
                .chain(announcement.guild_ids)
                .collect()
        } else if after != PresenceStatus::Offline {
            announcement
                .guild_ids
                .into_iter()
                .filter(|g| !guilds_before.contains(g))
                .collect()
        } else {
            return;
        };
        let frame = presence_frame(user_id, after);
        let mut reached = HashSet::new();
        for guild_id in guild_ids {
            for id in self.by_guild.get(&guild_id).into_iter().flatten() {
                if let Some(session) = self.sessions.get_mut(id)
                    && session.user_id != user_id
                    && session.filter.is_member(guild_id)
                    && reached.insert(*id)
                    && session.push(Outbound::Unsequenced(frame.clone()))
                {
                    self.unsent_to.push(*id);
                }
            }
        }
    }

    /// A user's sessions here just joined `guild_id` (its GUILD_CREATE is queued): they get
    /// the presence of the guild's members who are online, and the guild's members, on every
    /// node, get theirs through a fresh announcement.
    fn joined(&mut self, user_id: i64, guild_id: i64) {
        let online: Vec<Utf8Bytes> = self
            .presence
            .online_in(guild_id, usize::MAX)
            .into_iter()
            .filter(|p| p.user_id.0 != user_id)
            .map(|p| presence_frame(p.user_id.0, p.status))
            .collect();
        for id in self.by_user.get(&user_id).into_iter().flatten() {
            if let Some(session) = self.sessions.get_mut(id)
                && session.filter.is_member(guild_id)
            {
                for frame in &online {
                    if session.push(Outbound::Unsequenced(frame.clone())) {
                        self.unsent_to.push(*id);
                    }
                }
            }
        }
        self.announce(user_id);
    }

    fn shutdown(&mut self) {
        for session in self.sessions.values_mut() {
            session.end(Closing::Reconnect);
        }
    }
}
