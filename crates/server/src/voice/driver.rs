//! The driver: one task owns the UDP socket and the [`Sfu`]; nothing else touches either. It
//! waits on three things at once (a datagram, a command, the SFU's next deadline), feeds
//! each into the SFU, then drains the SFU's output: datagrams to the socket, offers and
//! speaking flags to gateway sessions, departures to the state writer.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use madang_protocol::Id;
use madang_protocol::gateway::{
    DispatchType, SdpType, ServerFrame, SessionDescription, VideoQuality, VoiceAnswer, VoiceError,
    VoiceReceivedTrack, VoiceServerOffer, VoiceSpeaking,
};
use madang_protocol::rest::ErrorCode;
use madang_sfu::{
    Datagram, Input, LeaveReason, Output, ParticipantId, RoomId, Sfu, SfuConfig, SfuError,
    SfuEvent, VideoLayer,
};
use madang_store::{VoiceFlags, VoiceStateRow};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::states::StateChange;
use super::{
    Command, JoinRequest, SessionFrame, VoiceControl, description_of_answer, refusal,
    voice_track_kind,
};
use crate::gateway::frames::{server_frame, unsequenced};
use crate::state::now_ms;

/// Large enough for any datagram on a 1500-byte MTU path, and then some.
const RECEIVE_BUFFER: usize = 2048;
/// Datagrams read in one go before the SFU's output is drained.
const RECEIVE_BATCH: usize = 64;

/// One call on this node, as the gateway knows it.
#[derive(Debug, Clone)]
struct Member {
    user_id: i64,
    session_id: i64,
    /// The node the session is attached to (this one or another), where its frames go.
    session_node: i64,
    guild_id: i64,
    channel_id: i64,
    flags: VoiceFlags,
}

pub struct Driver {
    sfu: Sfu,
    socket: UdpSocket,
    /// The address received datagrams count as sent to: the first announced candidate.
    local: SocketAddr,
    commands: mpsc::Receiver<Command>,
    sessions: mpsc::UnboundedSender<SessionFrame>,
    states: mpsc::UnboundedSender<StateChange>,
    stream_id: i64,
    max_per_channel: usize,
    members: HashMap<ParticipantId, Member>,
    /// Each user's current call; a user is in at most one voice channel.
    by_user: HashMap<i64, ParticipantId>,
    forwarded_reported: u64,
}

impl Driver {
    pub fn new(
        config: SfuConfig,
        socket: UdpSocket,
        commands: mpsc::Receiver<Command>,
        sessions: mpsc::UnboundedSender<SessionFrame>,
        states: mpsc::UnboundedSender<StateChange>,
        stream_id: i64,
    ) -> anyhow::Result<Driver> {
        let local = config.candidate_addresses[0];
        let max_per_channel = config.max_participants_per_room;
        let sfu = Sfu::new(config, Instant::now())?;
        Ok(Driver {
            sfu,
            socket,
            local,
            commands,
            sessions,
            states,
            stream_id,
            max_per_channel,
            members: HashMap::new(),
            by_user: HashMap::new(),
            forwarded_reported: 0,
        })
    }

    pub async fn run(mut self) {
        let mut buffer = vec![0; RECEIVE_BUFFER];
        loop {
            let deadline = self.drain();
            tokio::select! {
                received = self.socket.recv_from(&mut buffer) => {
                    match received {
                        Ok((length, source)) => self.receive(&buffer[..length], source),
                        Err(error) => tracing::debug!(%error, "voice: receive failed"),
                    }
                    // Take what else is waiting before draining once for all of it.
                    for _ in 1..RECEIVE_BATCH {
                        match self.socket.try_recv_from(&mut buffer) {
                            Ok((length, source)) => self.receive(&buffer[..length], source),
                            Err(_) => break,
                        }
                    }
                }
                command = self.commands.recv() => {
                    let Some(command) = command else { break };
                    self.command(command);
                }
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline)) => {
                    self.sfu.handle_input(Input::Timeout(Instant::now()));
                }
            }
        }
    }

    fn receive(&mut self, contents: &[u8], source: SocketAddr) {
        self.sfu.handle_input(Input::Receive(
            Instant::now(),
            Datagram {
                source,
                destination: self.local,
                contents,
            },
        ));
    }

    /// Hands out everything the SFU has to say; returns when it next needs the time.
    fn drain(&mut self) -> Instant {
        let deadline = loop {
            match self.sfu.poll_output() {
                Output::Transmit(transmit) => {
                    // UDP may drop datagrams anyway; a full socket buffer is one more way,
                    // and waiting for room would stall every call on the node.
                    if let Err(error) = self
                        .socket
                        .try_send_to(&transmit.contents, transmit.destination)
                        && error.kind() != ErrorKind::WouldBlock
                    {
                        tracing::debug!(%error, destination = %transmit.destination, "voice: send failed");
                    }
                }
                Output::Event(event) => self.event(event),
                Output::Timeout(deadline) => break deadline,
            }
        };
        let forwarded = self.sfu.forwarded_frames();
        if forwarded > self.forwarded_reported {
            metrics::counter!("voice_forwarded_frames_total")
                .increment(forwarded - self.forwarded_reported);
            self.forwarded_reported = forwarded;
        }
        deadline
    }

    fn event(&mut self, event: SfuEvent) {
        match event {
            SfuEvent::SendOffer {
                participant,
                offer,
                tracks,
            } => {
                let tracks = tracks
                    .into_iter()
                    .filter_map(|offered| {
                        let publisher = self.members.get(&offered.track.publisher)?;
                        Some(VoiceReceivedTrack {
                            mid: offered.mid,
                            user_id: Id(publisher.user_id),
                            kind: voice_track_kind(offered.track.kind),
                        })
                    })
                    .collect();
                let frame = ServerFrame::VoiceOffer(VoiceServerOffer {
                    offer: SessionDescription {
                        kind: SdpType::Offer,
                        sdp: offer.to_sdp_string(),
                    },
                    tracks,
                });
                self.send(participant, server_frame(&frame).into());
            }
            SfuEvent::SpeakingChanged {
                room,
                participant,
                speaking,
            } => {
                let Some(member) = self.members.get(&participant) else {
                    return;
                };
                let text: Utf8Bytes = unsequenced(
                    DispatchType::VoiceSpeaking,
                    &VoiceSpeaking {
                        channel_id: Id(member.channel_id),
                        user_id: Id(member.user_id),
                        speaking,
                    },
                )
                .into();
                for listener in self.sfu.participants(room) {
                    self.send(*listener, text.clone());
                }
            }
            SfuEvent::ParticipantLeft {
                participant,
                reason,
                ..
            } => {
                let Some(member) = self.members.remove(&participant) else {
                    return;
                };
                if self.by_user.get(&member.user_id) == Some(&participant) {
                    self.by_user.remove(&member.user_id);
                }
                if reason != LeaveReason::Left {
                    tracing::info!(user_id = member.user_id, ?reason, "voice: a call dropped");
                }
                let _ = self.states.send(StateChange::Left {
                    user_id: member.user_id,
                    participant_id: participant.0 as i64,
                });
                // Written after the departure, in the driver's order: a join that refills
                // the channel claims it again after this release.
                if !self
                    .members
                    .values()
                    .any(|m| m.channel_id == member.channel_id)
                {
                    let _ = self.states.send(StateChange::Released {
                        channel_id: member.channel_id,
                    });
                }
                // Counted up and down, not set: every server in a process shares the series.
                metrics::gauge!("voice_participants").decrement(1.0);
            }
            SfuEvent::ParticipantConnected { participant, .. } => {
                tracing::debug!(%participant, "voice: media connected");
            }
            SfuEvent::TrackPublished { .. } | SfuEvent::TrackUnpublished { .. } => {}
        }
    }

    /// Sends a frame to the session of a call, through its node's sequencer.
    fn send(&self, participant: ParticipantId, text: Utf8Bytes) {
        let Some(member) = self.members.get(&participant) else {
            return;
        };
        let _ = self.sessions.send(SessionFrame {
            session_id: member.session_id,
            node: member.session_node,
            text,
        });
    }

    /// Sends the answer to a client's offer on the path of the SFU's own offers: one the SFU
    /// made before it (and rolled back) then reaches the client first, while the client's offer
    /// is still out, and is ignored, as the glare rule says. Sent directly, the answer could
    /// overtake it, and the client would take the stale offer for a new one.
    fn answer(&self, participant: ParticipantId, answer: &madang_sfu::SdpAnswer) {
        let frame = ServerFrame::VoiceAnswer(VoiceAnswer {
            answer: description_of_answer(answer),
        });
        self.send(participant, server_frame(&frame).into());
    }

    fn command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Join(request, reply) => {
                let participant = ParticipantId(request.participant_id as u64);
                let result = self.join(now, *request);
                let _ = reply.send(result.map(|answer| self.answer(participant, &answer)));
            }
            Command::Offer {
                session_id,
                user_id,
                offer,
                labels,
                reply,
            } => {
                let result = self.call_of(session_id, user_id).and_then(|participant| {
                    self.sfu
                        .handle_offer(now, participant, offer, &labels)
                        .map(|answer| (participant, answer))
                        .map_err(sfu_refusal)
                });
                let _ = reply
                    .send(result.map(|(participant, answer)| self.answer(participant, &answer)));
            }
            Command::Answer {
                session_id,
                user_id,
                answer,
                reply,
            } => {
                let result = self.call_of(session_id, user_id).and_then(|participant| {
                    self.sfu
                        .handle_answer(now, participant, answer)
                        .map_err(sfu_refusal)
                });
                let _ = reply.send(result);
            }
            Command::SetFlags {
                session_id,
                user_id,
                flags,
                reply,
            } => {
                let result = self
                    .call_of(session_id, user_id)
                    .map(|participant| self.set_flags(participant, flags));
                let _ = reply.send(result);
            }
            Command::VideoQuality {
                session_id,
                user_id,
                mid,
                quality,
                reply,
            } => {
                let result = self
                    .call_of(session_id, user_id)
                    .and_then(|participant| self.set_video_quality(participant, &mid, quality));
                let _ = reply.send(result);
            }
            Command::Leave {
                session_id,
                user_id,
                reply,
            } => {
                let result = self
                    .call_of(session_id, user_id)
                    .map(|participant| self.leave(now, participant));
                let _ = reply.send(result);
            }
            Command::Control(control) => self.control(now, control),
        }
    }

    /// The user's call, if it was joined from this session.
    fn call_of(&self, session_id: i64, user_id: i64) -> Result<ParticipantId, VoiceError> {
        self.by_user
            .get(&user_id)
            .filter(|p| {
                self.members
                    .get(p)
                    .is_some_and(|m| m.session_id == session_id)
            })
            .copied()
            .ok_or_else(|| refusal(ErrorCode::Conflict, "you are not in a voice channel"))
    }

    fn join(
        &mut self,
        now: Instant,
        request: JoinRequest,
    ) -> Result<madang_sfu::SdpAnswer, VoiceError> {
        let room = RoomId(request.channel_id as u64);
        let previous = self.by_user.get(&request.user_id).copied();
        let others = self
            .sfu
            .participants(room)
            .iter()
            .filter(|p| Some(**p) != previous)
            .count();
        let limit = request.user_limit.map_or(self.max_per_channel, |limit| {
            limit.min(self.max_per_channel)
        });
        if others >= limit {
            return Err(refusal(
                ErrorCode::VoiceChannelFull,
                format!("this voice channel is full ({limit} people)"),
            ));
        }
        // Joining moves: the previous call ends first (its departure is announced only if
        // the new join fails, since the new voice state replaces the old row).
        if let Some(previous) = previous {
            self.leave(now, previous);
        }
        let participant = ParticipantId(request.participant_id as u64);
        let answer = self
            .sfu
            .join(now, room, participant, request.offer, &request.labels)
            .map_err(sfu_refusal)?;
        let muted = request.flags.self_mute || request.flags.self_deaf;
        self.sfu
            .set_self_muted(participant, muted)
            .expect("the participant just joined");
        self.sfu
            .set_server_muted(participant, request.server_mute)
            .expect("the participant just joined");
        let member = Member {
            user_id: request.user_id,
            session_id: request.session_id,
            session_node: request.session_node,
            guild_id: request.guild_id,
            channel_id: request.channel_id,
            flags: request.flags,
        };
        self.members.insert(participant, member);
        self.by_user.insert(request.user_id, participant);
        metrics::gauge!("voice_participants").increment(1.0);
        let _ = self.states.send(StateChange::Joined(VoiceStateRow {
            user_id: request.user_id,
            guild_id: request.guild_id,
            channel_id: request.channel_id,
            participant_id: request.participant_id,
            stream_id: self.stream_id,
            flags: request.flags,
            server_mute: request.server_mute,
            refreshed_at: now_ms(),
        }));
        Ok(answer)
    }

    fn set_flags(&mut self, participant: ParticipantId, flags: VoiceFlags) {
        let Some(member) = self.members.get_mut(&participant) else {
            return;
        };
        member.flags = flags;
        let user_id = member.user_id;
        // Deafened implies muted, as everywhere else: nobody talks into a call they cannot hear.
        self.sfu
            .set_self_muted(participant, flags.self_mute || flags.self_deaf)
            .expect("members are participants");
        let _ = self.states.send(StateChange::Flags {
            user_id,
            participant_id: participant.0 as i64,
            flags,
        });
    }

    /// Applies a subscriber's wish for one video track it receives: a layer cap, or a pause.
    fn set_video_quality(
        &mut self,
        participant: ParticipantId,
        mid: &str,
        quality: VideoQuality,
    ) -> Result<(), VoiceError> {
        let track = self
            .sfu
            .received_track(participant, mid)
            .map_err(sfu_refusal)?;
        if track.kind.is_audio() {
            return Err(refusal(
                ErrorCode::UnknownTrack,
                format!("m-line {mid} carries audio, not video"),
            ));
        }
        let layer = match quality {
            VideoQuality::Off => None,
            VideoQuality::Low => Some(VideoLayer::Low),
            VideoQuality::Medium => Some(VideoLayer::Medium),
            VideoQuality::High => Some(VideoLayer::High),
        };
        let result = match layer {
            None => self.sfu.set_video_paused(participant, track, true),
            Some(layer) => self
                .sfu
                .set_max_video_layer(participant, track, layer)
                .and_then(|()| self.sfu.set_video_paused(participant, track, false)),
        };
        result.map_err(sfu_refusal)
    }

    fn leave(&mut self, now: Instant, participant: ParticipantId) {
        // `ParticipantLeft` follows from the output, which removes the member.
        if let Err(error) = self.sfu.leave(now, participant) {
            tracing::warn!(%error, "voice: leave of an unknown participant");
        }
    }

    fn control(&mut self, now: Instant, control: VoiceControl) {
        // Calls on other nodes are theirs to act on.
        let calls: Vec<ParticipantId> = self
            .members
            .iter()
            .filter(|(_, member)| covers(&control, member))
            .map(|(participant, _)| *participant)
            .collect();
        for participant in calls {
            match control {
                VoiceControl::ServerMute { server_mute, .. } => self
                    .sfu
                    .set_server_muted(participant, server_mute)
                    .expect("members are participants"),
                VoiceControl::SessionResumed { node, .. } => {
                    if let Some(member) = self.members.get_mut(&participant) {
                        member.session_node = node;
                    }
                }
                VoiceControl::Disconnect { .. }
                | VoiceControl::CloseChannel { .. }
                | VoiceControl::CloseGuild { .. }
                | VoiceControl::SessionClosed { .. } => self.leave(now, participant),
            }
        }
    }
}

/// Whether the action applies to this call.
fn covers(control: &VoiceControl, member: &Member) -> bool {
    match *control {
        VoiceControl::ServerMute {
            guild_id, user_id, ..
        }
        | VoiceControl::Disconnect { guild_id, user_id } => {
            member.guild_id == guild_id && member.user_id == user_id
        }
        VoiceControl::CloseChannel { channel_id } => member.channel_id == channel_id,
        VoiceControl::CloseGuild { guild_id } => member.guild_id == guild_id,
        VoiceControl::SessionClosed { session_id }
        | VoiceControl::SessionResumed { session_id, .. } => member.session_id == session_id,
    }
}

/// What a refused SFU call tells the client.
fn sfu_refusal(error: SfuError) -> VoiceError {
    match error {
        SfuError::RoomFull { limit, .. } => refusal(
            ErrorCode::VoiceChannelFull,
            format!("this voice channel is full ({limit} people)"),
        ),
        SfuError::NoPendingOffer(_) => refusal(
            ErrorCode::Conflict,
            "no offer of the server is waiting for an answer",
        ),
        SfuError::UnknownMid { mid, .. } => refusal(
            ErrorCode::UnknownTrack,
            format!("no video track reaches you on m-line {mid}"),
        ),
        SfuError::UnknownParticipant(_) => {
            refusal(ErrorCode::Conflict, "you are not in a voice channel")
        }
        SfuError::DuplicateTrackLabel(kind) => refusal(
            ErrorCode::ValidationFailed,
            format!("tracks: {kind} is labelled on more than one m-line"),
        ),
        SfuError::RejectedSdp { source, .. } => refusal(
            ErrorCode::ValidationFailed,
            format!("the SDP cannot be used: {source}"),
        ),
        other => {
            tracing::error!(error = %other, "voice: unexpected SFU refusal");
            refusal(ErrorCode::Internal, "the voice server failed")
        }
    }
}
