//! The SFU: every room and participant on one UDP socket, driven by inputs and polled for
//! outputs.
//!
//! One `Sfu` owns all rooms because all peers share one socket: an incoming datagram has to be
//! matched to its participant (str0m's `Rtc::accepts`) before anything else, and media from one
//! participant's `Rtc` is written straight into the others'. The caller feeds time and
//! datagrams in and drains [`Output`]s until it gets a timeout, exactly as with a str0m `Rtc`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use str0m::bwe::{Bitrate, BweKind};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::media::{KeyframeRequest, MediaData, MediaKind, MediaTime, Mid};
use str0m::net::{DatagramRecv, Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Rtc, RtcError};

use crate::config::SfuConfig;
use crate::error::SfuError;
use crate::events::{Datagram, Input, LeaveReason, Output, SfuEvent, Transmit};
use crate::ids::{ParticipantId, RoomId, TrackId, TrackKind, TrackLabel};
use crate::participant::{Participant, PublishedTrack};
use crate::simulcast::{VideoLayer, select_layer, wanted_bitrate};

/// Deadline reported when nothing is scheduled, so a driver still wakes up now and then.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// A selective forwarding unit for many rooms, in the sans-IO style of str0m.
///
/// See the [crate documentation](crate) for the signalling flow and a driver loop.
#[derive(Debug)]
pub struct Sfu {
    config: SfuConfig,
    /// The configured addresses as ICE host candidates, added to every participant.
    candidates: Vec<Candidate>,
    /// Members of each room in join order; a room exists while it has members.
    rooms: BTreeMap<RoomId, Vec<ParticipantId>>,
    /// Ordered so that polling, and therefore every test, is deterministic.
    participants: BTreeMap<ParticipantId, Participant>,
    /// Who sent from each address last, so most datagrams skip the search over all peers.
    senders: HashMap<SocketAddr, ParticipantId>,
    outputs: VecDeque<Output>,
    /// The latest time seen in any call.
    now: Instant,
    /// Media frames handed to subscribers since the start, for the driver's metrics.
    forwarded_frames: u64,
}

impl Sfu {
    /// Creates an SFU with no rooms. `now` is the current time of the caller's clock.
    pub fn new(config: SfuConfig, now: Instant) -> Result<Self, SfuError> {
        if config.candidate_addresses.is_empty() {
            return Err(SfuError::NoCandidateAddress);
        }
        if config.max_participants_per_room == 0 {
            return Err(SfuError::NoRoomForParticipants);
        }
        let candidates = config
            .candidate_addresses
            .iter()
            .map(|&address| {
                if address.port() == 0 {
                    return Err(SfuError::InvalidCandidateAddress(address));
                }
                Candidate::host(address, "udp")
                    .map_err(|_| SfuError::InvalidCandidateAddress(address))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Sfu {
            config,
            candidates,
            rooms: BTreeMap::new(),
            participants: BTreeMap::new(),
            senders: HashMap::new(),
            outputs: VecDeque::new(),
            now,
            forwarded_frames: 0,
        })
    }

    /// Adds a participant to a room with the client's first offer; returns the answer to send
    /// back. `labels` say which of the offer's m-lines carry which track (see [`TrackLabel`]).
    ///
    /// The answer must reach the client before any [`SfuEvent::SendOffer`] polled afterwards,
    /// which offers the tracks already in the room.
    pub fn join(
        &mut self,
        now: Instant,
        room: RoomId,
        participant: ParticipantId,
        offer: SdpOffer,
        labels: &[TrackLabel],
    ) -> Result<SdpAnswer, SfuError> {
        self.advance(now);
        if self.participants.contains_key(&participant) {
            return Err(SfuError::ParticipantExists(participant));
        }
        let members = self.rooms.get(&room).map_or(0, Vec::len);
        if members >= self.config.max_participants_per_room {
            return Err(SfuError::RoomFull {
                room,
                limit: self.config.max_participants_per_room,
            });
        }
        let labels = label_map(labels)?;

        let mut rtc = Rtc::builder()
            .clear_codecs()
            .enable_opus(true, false)
            .enable_vp8(true)
            .enable_h264(true)
            .enable_bwe(Some(Bitrate::bps(self.config.initial_bitrate_estimate)))
            .build(self.now);
        for candidate in &self.candidates {
            rtc.add_local_candidate(candidate.clone());
        }
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|source| SfuError::RejectedSdp {
                participant,
                source,
            })?;

        let mut joined = Participant::new(
            participant,
            room,
            rtc,
            self.now,
            self.config.initial_bitrate_estimate,
        );
        joined.labels = labels;
        let members = self.rooms.entry(room).or_default();
        for member in members.iter() {
            for track in &self.participants[member].published {
                joined.subscribe(TrackId {
                    publisher: *member,
                    kind: track.kind,
                });
            }
        }
        members.push(participant);
        self.participants.insert(participant, joined);
        Ok(answer)
    }

    /// Applies a later offer from the client (publishing or unpublishing a track, or an ICE
    /// restart after a network change); returns the answer to send back.
    ///
    /// If the SFU's own offer is out at the same time, the client's offer wins: the SFU's is
    /// rolled back and made again after this one (see the crate docs on glare).
    pub fn handle_offer(
        &mut self,
        now: Instant,
        participant: ParticipantId,
        offer: SdpOffer,
        labels: &[TrackLabel],
    ) -> Result<SdpAnswer, SfuError> {
        self.advance(now);
        let labels = label_map(labels)?;
        let p = self.participant_mut(participant)?;
        if p.has_pending_offer() {
            p.roll_back_offer();
        }
        let answer =
            p.rtc
                .sdp_api()
                .accept_offer(offer)
                .map_err(|source| SfuError::RejectedSdp {
                    participant,
                    source,
                })?;
        p.labels = labels;
        p.needs_poll = true;
        Ok(answer)
    }

    /// Applies the client's answer to the last [`SfuEvent::SendOffer`].
    pub fn handle_answer(
        &mut self,
        now: Instant,
        participant: ParticipantId,
        answer: SdpAnswer,
    ) -> Result<(), SfuError> {
        self.advance(now);
        let p = self.participant_mut(participant)?;
        let pending = p
            .take_pending_offer()
            .ok_or(SfuError::NoPendingOffer(participant))?;
        let activated =
            p.accept_answer(pending, answer)
                .map_err(|source| SfuError::RejectedSdp {
                    participant,
                    source,
                })?;
        // A new subscriber can only start video on a keyframe: ask the publishers for one,
        // unless the connection is not up yet (then it is asked for when it is).
        if p.connectivity.connected {
            for track in activated {
                if !track.kind.is_audio() {
                    self.choose_layer_and_request_keyframe(participant, track);
                }
            }
        }
        Ok(())
    }

    /// Removes a participant from its room: its connection is closed, its tracks are removed
    /// from everyone else in one renegotiation each, and [`SfuEvent::ParticipantLeft`] follows.
    pub fn leave(&mut self, now: Instant, participant: ParticipantId) -> Result<(), SfuError> {
        self.advance(now);
        if !self.participants.contains_key(&participant) {
            return Err(SfuError::UnknownParticipant(participant));
        }
        self.remove_participant(participant, LeaveReason::Left);
        Ok(())
    }

    /// The participant muted (or unmuted) their microphone. While muted, their audio is not
    /// forwarded and they are never shown as speaking.
    pub fn set_self_muted(
        &mut self,
        participant: ParticipantId,
        muted: bool,
    ) -> Result<(), SfuError> {
        self.participant_mut(participant)?.self_muted = muted;
        self.after_mute_change(participant);
        Ok(())
    }

    /// A moderator muted (or unmuted) the participant. Independent of the participant's own
    /// mute: audio flows only when neither is set.
    pub fn set_server_muted(
        &mut self,
        participant: ParticipantId,
        muted: bool,
    ) -> Result<(), SfuError> {
        self.participant_mut(participant)?.server_muted = muted;
        self.after_mute_change(participant);
        Ok(())
    }

    /// Sets the highest simulcast layer `subscriber` wants for `track`. Takes effect with the
    /// next frame of the track; tracks without simulcast ignore it.
    pub fn set_max_video_layer(
        &mut self,
        subscriber: ParticipantId,
        track: TrackId,
        layer: VideoLayer,
    ) -> Result<(), SfuError> {
        let subscription = self
            .participant_mut(subscriber)?
            .subscription_mut(track)
            .ok_or(SfuError::NotSubscribed { subscriber, track })?;
        subscription.forwarder.max_layer = layer;
        Ok(())
    }

    /// Stops (or resumes) forwarding `track` to `subscriber`, for example while the
    /// subscriber hides that video: a paused track costs no bandwidth toward it. Resuming asks
    /// the publisher for a keyframe, so the picture comes back at once. Works with and without
    /// simulcast; audio tracks cannot be paused.
    pub fn set_video_paused(
        &mut self,
        subscriber: ParticipantId,
        track: TrackId,
        paused: bool,
    ) -> Result<(), SfuError> {
        if track.kind.is_audio() {
            return Err(SfuError::NotVideo(track));
        }
        let cap = self.config.max_subscriber_video_bitrate;
        let p = self.participant_mut(subscriber)?;
        let forwarder = &mut p
            .subscription_mut(track)
            .ok_or(SfuError::NotSubscribed { subscriber, track })?
            .forwarder;
        if forwarder.is_paused() == paused {
            return Ok(());
        }
        forwarder.set_paused(paused);
        p.update_desired_bitrate(cap);
        if !paused && p.connectivity.connected {
            self.choose_layer_and_request_keyframe(subscriber, track);
        }
        Ok(())
    }

    /// The track `subscriber` receives on its m-line `mid` (as named in
    /// [`SfuEvent::SendOffer`]), once the subscriber's answer made that m-line usable.
    pub fn received_track(
        &self,
        subscriber: ParticipantId,
        mid: &str,
    ) -> Result<TrackId, SfuError> {
        let p = self
            .participants
            .get(&subscriber)
            .ok_or(SfuError::UnknownParticipant(subscriber))?;
        p.subscriptions
            .iter()
            .find(|s| s.active_mid().is_some_and(|active| &*active == mid))
            .map(|s| s.track)
            .ok_or_else(|| SfuError::UnknownMid {
                subscriber,
                mid: mid.to_owned(),
            })
    }

    /// Starts an ICE restart from the server side: the next offer to the participant carries
    /// new ICE credentials. Clients restart ICE themselves with a new offer instead, through
    /// [`Sfu::handle_offer`].
    pub fn restart_ice(&mut self, participant: ParticipantId) -> Result<(), SfuError> {
        self.participant_mut(participant)?.request_ice_restart();
        Ok(())
    }

    /// Media frames forwarded to subscribers so far (each copy counts once).
    pub fn forwarded_frames(&self) -> u64 {
        self.forwarded_frames
    }

    /// The room a participant is in.
    pub fn room_of(&self, participant: ParticipantId) -> Option<RoomId> {
        self.participants.get(&participant).map(|p| p.room)
    }

    /// The participants in a room, in join order.
    pub fn participants(&self, room: RoomId) -> &[ParticipantId] {
        self.rooms.get(&room).map_or(&[], Vec::as_slice)
    }

    /// Feeds a received datagram or the passing of time. Datagrams no participant accepts
    /// (stray traffic, or a peer that already left) are dropped.
    pub fn handle_input(&mut self, input: Input<'_>) {
        match input {
            Input::Timeout(now) => self.handle_timeout(now),
            Input::Receive(now, datagram) => self.handle_datagram(now, datagram),
        }
    }

    /// The next thing to do. Call repeatedly until it returns [`Output::Timeout`], then wait
    /// for that time or the next datagram.
    pub fn poll_output(&mut self) -> Output {
        loop {
            if let Some(output) = self.outputs.pop_front() {
                return output;
            }
            if !self.make_progress() {
                return Output::Timeout(self.next_deadline());
            }
        }
    }

    fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    fn participant_mut(&mut self, id: ParticipantId) -> Result<&mut Participant, SfuError> {
        self.participants
            .get_mut(&id)
            .ok_or(SfuError::UnknownParticipant(id))
    }

    fn emit(&mut self, event: SfuEvent) {
        self.outputs.push_back(Output::Event(event));
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
        let now = self.now;
        let mut failed = Vec::new();
        let mut speaking_stopped = Vec::new();
        let mut timed_out = Vec::new();
        for (&id, p) in &mut self.participants {
            if p.rtc_timeout <= now {
                p.needs_poll = true;
                if let Err(e) = p.rtc.handle_input(str0m::Input::Timeout(now)) {
                    tracing::warn!(participant = %id, "connection failed: {e}");
                    failed.push(id);
                    continue;
                }
            }
            p.send_due_keyframe_requests(now, self.config.keyframe_request_interval);
            if let Some(speaking) = p.speaking.on_timeout(now, &self.config.speaking) {
                speaking_stopped.push((p.room, id, speaking));
            }
            let grace_over = p
                .connectivity
                .disconnected_since
                .is_some_and(|since| now >= since + self.config.reconnect_grace);
            if grace_over {
                timed_out.push(id);
            }
        }
        for (room, participant, speaking) in speaking_stopped {
            self.emit(SfuEvent::SpeakingChanged {
                room,
                participant,
                speaking,
            });
        }
        for id in failed {
            self.remove_participant(id, LeaveReason::ConnectionClosed);
        }
        for id in timed_out {
            self.remove_participant(id, LeaveReason::IceTimeout);
        }
    }

    fn handle_datagram(&mut self, now: Instant, datagram: Datagram<'_>) {
        self.advance(now);
        let Ok(contents) = DatagramRecv::try_from(datagram.contents) else {
            tracing::debug!(source = %datagram.source, "dropped a datagram that is not WebRTC");
            return;
        };
        let input = str0m::Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source: datagram.source,
                destination: datagram.destination,
                contents,
            },
        );
        let Some(id) = self.find_receiver(datagram.source, &input) else {
            tracing::debug!(source = %datagram.source, "no participant accepts the datagram");
            return;
        };
        self.senders.insert(datagram.source, id);
        let p = self
            .participants
            .get_mut(&id)
            .expect("find_receiver returns a present participant");
        p.needs_poll = true;
        if let Err(e) = p.rtc.handle_input(input) {
            tracing::warn!(participant = %id, "connection failed: {e}");
            self.remove_participant(id, LeaveReason::ConnectionClosed);
        }
    }

    /// The participant a datagram belongs to: the last one seen at its source address if that
    /// one still accepts it, otherwise the first that does.
    fn find_receiver(&self, source: SocketAddr, input: &str0m::Input<'_>) -> Option<ParticipantId> {
        if let Some(&id) = self.senders.get(&source)
            && self
                .participants
                .get(&id)
                .is_some_and(|p| p.rtc.accepts(input))
        {
            return Some(id);
        }
        self.participants
            .iter()
            .find(|(_, p)| p.rtc.accepts(input))
            .map(|(&id, _)| id)
    }

    /// Polls every participant that had input, acts on its events, and makes pending offers.
    /// Returns whether anything happened.
    fn make_progress(&mut self) -> bool {
        let mut progressed = false;
        let ready: Vec<ParticipantId> = self
            .participants
            .iter()
            .filter(|(_, p)| p.needs_poll)
            .map(|(&id, _)| id)
            .collect();
        for id in ready {
            progressed = true;
            match self.drain_rtc(id) {
                Ok(events) => {
                    for event in events {
                        self.handle_rtc_event(id, event);
                    }
                }
                Err(e) => {
                    tracing::warn!(participant = %id, "connection failed: {e}");
                    self.remove_participant(id, LeaveReason::ConnectionClosed);
                }
            }
        }
        let mut offers = Vec::new();
        for (&id, p) in &mut self.participants {
            if let Some((offer, tracks)) = p.create_offer() {
                offers.push(SfuEvent::SendOffer {
                    participant: id,
                    offer,
                    tracks,
                });
            }
        }
        progressed |= !offers.is_empty();
        for offer in offers {
            self.emit(offer);
        }
        progressed
    }

    /// Polls one participant's `Rtc` until it asks for a timeout, queueing its datagrams and
    /// returning its events.
    fn drain_rtc(&mut self, id: ParticipantId) -> Result<Vec<Event>, RtcError> {
        let now = self.now;
        let Some(p) = self.participants.get_mut(&id) else {
            return Ok(Vec::new());
        };
        p.needs_poll = false;
        let mut events = Vec::new();
        // Media written into this `Rtc` may be due already by the SFU's clock, which this
        // `Rtc` has not seen yet: catch it up once instead of making the driver call back.
        let mut caught_up = false;
        loop {
            match p.rtc.poll_output()? {
                str0m::Output::Timeout(deadline) => {
                    if deadline <= now && !caught_up {
                        caught_up = true;
                        p.rtc.handle_input(str0m::Input::Timeout(now))?;
                        continue;
                    }
                    p.rtc_timeout = deadline;
                    return Ok(events);
                }
                str0m::Output::Transmit(transmit) => {
                    self.outputs.push_back(Output::Transmit(Transmit {
                        source: transmit.source,
                        destination: transmit.destination,
                        contents: transmit.contents.into(),
                    }));
                }
                str0m::Output::Event(event) => events.push(event),
            }
        }
    }

    fn handle_rtc_event(&mut self, id: ParticipantId, event: Event) {
        let now = self.now;
        let Some(p) = self.participants.get_mut(&id) else {
            // Removed by an earlier event of the same batch.
            return;
        };
        match event {
            Event::Connected => {
                p.connectivity.connected = true;
                let room = p.room;
                self.emit(SfuEvent::ParticipantConnected {
                    room,
                    participant: id,
                });
                // Video written before this moment was dropped by str0m.
                self.request_keyframes_for(id);
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                p.connectivity.disconnected_since.get_or_insert(now);
            }
            Event::IceConnectionStateChange(
                IceConnectionState::Connected | IceConnectionState::Completed,
            ) => {
                let was_disconnected = p.connectivity.disconnected_since.take().is_some();
                // Coming back from a drop: the video sent meanwhile was lost.
                if was_disconnected {
                    self.request_keyframes_for(id);
                }
            }
            Event::MediaAdded(added) if added.direction.is_receiving() => {
                self.publish(id, added.mid, added.kind);
            }
            Event::MediaChanged(changed) => {
                let published = p.published.iter().any(|t| t.mid == changed.mid);
                if published && !changed.direction.is_receiving() {
                    self.unpublish(id, |t| t.mid == changed.mid);
                } else if !published && changed.direction.is_receiving() {
                    let kind = p.rtc.media(changed.mid).map(|m| m.kind());
                    if let Some(kind) = kind {
                        self.publish(id, changed.mid, kind);
                    }
                }
            }
            Event::MediaData(data) => self.forward(id, data),
            Event::KeyframeRequest(request) => self.relay_keyframe_request(id, request),
            Event::EgressBitrateEstimate(
                BweKind::Twcc { estimate, .. } | BweKind::Remb { estimate, .. },
            ) => {
                p.bandwidth_estimate_bps = estimate.as_u64();
            }
            Event::StreamPaused(paused) => {
                if let Some(rid) = paused.rid
                    && let Some(track) = p.published.iter_mut().find(|t| t.mid == paused.mid)
                {
                    track.layers.set_paused(rid, paused.paused);
                }
            }
            Event::Closed => self.remove_participant(id, LeaveReason::ConnectionClosed),
            _ => {}
        }
    }

    /// The client started sending on `mid`: name the track and offer it to the room.
    fn publish(&mut self, id: ParticipantId, mid: Mid, media_kind: MediaKind) {
        let p = self
            .participants
            .get_mut(&id)
            .expect("publish is called for a present participant");
        if p.published.iter().any(|t| t.mid == mid) {
            return;
        }
        let unlabelled = if media_kind == MediaKind::Audio {
            TrackKind::Audio
        } else {
            TrackKind::Camera
        };
        let kind = p
            .labels
            .get(&mid)
            .copied()
            .filter(|kind| kind.is_audio() == (media_kind == MediaKind::Audio))
            .unwrap_or(unlabelled);
        if p.published_track(kind).is_some() {
            tracing::warn!(participant = %id, %mid, %kind, "second track of one kind ignored");
            return;
        }
        p.published.push(PublishedTrack::new(kind, mid));
        let room = p.room;
        let track = TrackId {
            publisher: id,
            kind,
        };
        self.emit(SfuEvent::TrackPublished { room, track });
        for member in &self.rooms[&room] {
            if *member != id {
                self.participants
                    .get_mut(member)
                    .expect("room members are participants")
                    .subscribe(track);
            }
        }
    }

    /// Ends the participant's published tracks that `ended` selects, for everyone in the room.
    fn unpublish(&mut self, id: ParticipantId, ended: impl Fn(&PublishedTrack) -> bool) {
        let p = self
            .participants
            .get_mut(&id)
            .expect("unpublish is called for a present participant");
        let room = p.room;
        let mut kinds = Vec::new();
        p.published.retain(|track| {
            if ended(track) {
                kinds.push(track.kind);
            }
            !ended(track)
        });
        if kinds.contains(&TrackKind::Audio)
            && let Some(speaking) = p.speaking.reset()
        {
            self.emit(SfuEvent::SpeakingChanged {
                room,
                participant: id,
                speaking,
            });
        }
        for kind in kinds {
            let track = TrackId {
                publisher: id,
                kind,
            };
            self.emit(SfuEvent::TrackUnpublished { room, track });
            for member in &self.rooms[&room] {
                if let Some(other) = self.participants.get_mut(member) {
                    other.unsubscribe(|t| t == track);
                }
            }
        }
    }

    fn remove_participant(&mut self, id: ParticipantId, reason: LeaveReason) {
        let Some(mut gone) = self.participants.remove(&id) else {
            return;
        };
        // Closes the connection at once: str0m stops offering or sending anything for it.
        gone.rtc.disconnect();
        self.senders.retain(|_, sender| *sender != id);
        let room = gone.room;
        let members = self
            .rooms
            .get_mut(&room)
            .expect("a participant's room exists");
        members.retain(|member| *member != id);
        if members.is_empty() {
            self.rooms.remove(&room);
        }
        for track in &gone.published {
            self.emit(SfuEvent::TrackUnpublished {
                room,
                track: TrackId {
                    publisher: id,
                    kind: track.kind,
                },
            });
        }
        for member in self.participants(room).to_vec() {
            if let Some(other) = self.participants.get_mut(&member) {
                other.unsubscribe(|track| track.publisher == id);
            }
        }
        self.emit(SfuEvent::ParticipantLeft {
            room,
            participant: id,
            reason,
        });
    }

    fn after_mute_change(&mut self, id: ParticipantId) {
        let p = self
            .participants
            .get_mut(&id)
            .expect("checked by the caller");
        if p.is_audio_muted()
            && let Some(speaking) = p.speaking.reset()
        {
            let room = p.room;
            self.emit(SfuEvent::SpeakingChanged {
                room,
                participant: id,
                speaking,
            });
        }
    }

    /// Sends one frame from a publisher to every subscriber of its track.
    fn forward(&mut self, id: ParticipantId, data: MediaData) {
        let now = self.now;
        let interval = self.config.keyframe_request_interval;
        let p = self
            .participants
            .get_mut(&id)
            .expect("forward is called for a present participant");
        let Some(track) = p.published.iter_mut().find(|t| t.mid == data.mid) else {
            return;
        };
        let kind = track.kind;
        if let Some(rid) = data.rid {
            track.layers.on_frame(now, rid, data.data.len());
        }
        let layers = match data.rid {
            Some(_) => track.layers.candidates(now),
            None => Vec::new(),
        };
        let room = p.room;
        if kind.is_audio() {
            if p.is_audio_muted() {
                return;
            }
            let level = data.ext_vals.audio_level;
            if let Some(speaking) =
                level.and_then(|l| p.speaking.on_level(now, l, &self.config.speaking))
            {
                self.emit(SfuEvent::SpeakingChanged {
                    room,
                    participant: id,
                    speaking,
                });
            }
        } else if !data.contiguous {
            // Frames were lost beyond what retransmission recovered: decoders need a restart.
            p.request_keyframe(now, kind, data.rid, interval);
        }

        let track = TrackId {
            publisher: id,
            kind,
        };
        let mut wanted_layers = Vec::new();
        for member in &self.rooms[&room] {
            if *member == id {
                continue;
            }
            let subscriber = self
                .participants
                .get_mut(member)
                .expect("room members are participants");
            // str0m drops media written before the connection is up; a subscriber's video
            // starts with the keyframe asked for when it comes up.
            if !subscriber.connectivity.connected {
                continue;
            }
            let Some(subscription) = subscriber.subscription_mut(track) else {
                continue;
            };
            let Some(mid) = subscription.active_mid() else {
                continue;
            };
            if subscription.forwarder.is_paused() {
                continue;
            }
            if data.rid.is_some() {
                subscription.forwarder.wanted_bps =
                    wanted_bitrate(&layers, subscription.forwarder.max_layer);
            }
            let budget = video_budget(subscriber, track, self.config.max_subscriber_video_bitrate);
            let forwarder = &mut subscriber
                .subscription_mut(track)
                .expect("found above")
                .forwarder;
            if data.rid.is_some() {
                let layer = select_layer(
                    &layers,
                    forwarder.max_layer,
                    budget,
                    forwarder.current_rid(),
                );
                if forwarder.set_target(layer)
                    && let Some(rid) = layer
                    && !wanted_layers.contains(&rid)
                {
                    wanted_layers.push(rid);
                }
            }
            let Some(time) =
                forwarder.on_frame(data.rid, data.time, data.network_time, data.is_keyframe())
            else {
                continue;
            };
            if data.rid.is_some() {
                subscriber.update_desired_bitrate(self.config.max_subscriber_video_bitrate);
            }
            match write_frame(&mut subscriber.rtc, mid, &data, time) {
                Ok(written) => self.forwarded_frames += u64::from(written),
                Err(e) => tracing::debug!(subscriber = %member, %track, "frame not forwarded: {e}"),
            }
            subscriber.needs_poll = true;
        }
        let p = self
            .participants
            .get_mut(&id)
            .expect("the publisher is still present");
        for rid in wanted_layers {
            p.request_keyframe(now, kind, Some(rid), interval);
        }
    }

    /// A subscriber's decoder asked for a keyframe: pass it to the publisher of the track on
    /// that m-line, for the layer the subscriber receives.
    fn relay_keyframe_request(&mut self, subscriber: ParticipantId, request: KeyframeRequest) {
        let now = self.now;
        let Some(p) = self.participants.get(&subscriber) else {
            return;
        };
        let Some(subscription) = p
            .subscriptions
            .iter()
            .find(|s| s.active_mid() == Some(request.mid))
        else {
            return;
        };
        // A paused track's frozen picture needs no keyframe; resuming asks for one.
        if subscription.forwarder.is_paused() {
            return;
        }
        let track = subscription.track;
        let rid = subscription.forwarder.current_rid();
        if let Some(publisher) = self.participants.get_mut(&track.publisher) {
            publisher.request_keyframe(now, track.kind, rid, self.config.keyframe_request_interval);
        }
    }

    /// Asks the publishers of every video track `subscriber` receives for a keyframe.
    fn request_keyframes_for(&mut self, subscriber: ParticipantId) {
        let Some(p) = self.participants.get(&subscriber) else {
            return;
        };
        let video: Vec<TrackId> = p
            .subscriptions
            .iter()
            .filter(|s| {
                !s.track.kind.is_audio() && s.active_mid().is_some() && !s.forwarder.is_paused()
            })
            .map(|s| s.track)
            .collect();
        for track in video {
            self.choose_layer_and_request_keyframe(subscriber, track);
        }
    }

    /// A subscription just became usable: pick its first simulcast layer and ask the
    /// publisher for a keyframe on it, so the new subscriber's picture starts at once.
    fn choose_layer_and_request_keyframe(&mut self, subscriber: ParticipantId, track: TrackId) {
        let now = self.now;
        let Some(layers) = self
            .participants
            .get(&track.publisher)
            .and_then(|p| p.published_track(track.kind))
            .map(|t| t.layers.candidates(now))
        else {
            return;
        };
        let cap = self.config.max_subscriber_video_bitrate;
        let Some(p) = self.participants.get_mut(&subscriber) else {
            return;
        };
        let budget = video_budget(p, track, cap);
        let Some(subscription) = p.subscription_mut(track) else {
            return;
        };
        let forwarder = &mut subscription.forwarder;
        if forwarder.is_paused() {
            return;
        }
        let rid = select_layer(&layers, forwarder.max_layer, budget, None);
        forwarder.set_target(rid);
        let rid = forwarder.target_rid();
        if let Some(publisher) = self.participants.get_mut(&track.publisher) {
            publisher.request_keyframe(now, track.kind, rid, self.config.keyframe_request_interval);
        }
    }

    fn next_deadline(&self) -> Instant {
        self.participants
            .values()
            .flat_map(|p| {
                let own = p.own_deadline(
                    self.config.keyframe_request_interval,
                    self.config.reconnect_grace,
                    &self.config.speaking,
                );
                [Some(p.rtc_timeout), own]
            })
            .flatten()
            .min()
            .unwrap_or(self.now + IDLE_TIMEOUT)
    }
}

/// Checks the client's labels and keys them by mid.
fn label_map(labels: &[TrackLabel]) -> Result<HashMap<Mid, TrackKind>, SfuError> {
    let mut by_mid = HashMap::new();
    for (index, label) in labels.iter().enumerate() {
        if labels[..index].iter().any(|l| l.kind == label.kind) {
            return Err(SfuError::DuplicateTrackLabel(label.kind));
        }
        by_mid.insert(Mid::from(label.mid.as_str()), label.kind);
    }
    Ok(by_mid)
}

/// The bitrate `track` toward this subscriber may use: its bandwidth estimate, capped by the
/// configuration, shared by the video tracks it receives in proportion to the bitrate of the
/// layer each is wished at, so one large tile is not held to the share of a thumbnail. A track
/// with no measured wish yet (or without simulcast, whose bitrate the SFU cannot choose)
/// counts as wanting an even share; paused tracks get nothing.
fn video_budget(subscriber: &Participant, track: TrackId, cap_bps: u64) -> u64 {
    let videos: Vec<(TrackId, u64)> = subscriber
        .subscriptions
        .iter()
        .filter(|s| {
            !s.track.kind.is_audio() && s.active_mid().is_some() && !s.forwarder.is_paused()
        })
        .map(|s| (s.track, s.forwarder.wanted_bps))
        .collect();
    let total = u128::from(subscriber.bandwidth_estimate_bps.min(cap_bps));
    let even_share = total / videos.len().max(1) as u128;
    let weight = |wanted: u64| {
        if wanted > 0 {
            u128::from(wanted)
        } else {
            even_share
        }
    };
    let weights: u128 = videos.iter().map(|&(_, wanted)| weight(wanted)).sum();
    let own = videos
        .iter()
        .find(|&&(t, _)| t == track)
        .map_or(even_share, |&(_, wanted)| weight(wanted));
    if weights == 0 {
        return u64::try_from(even_share).unwrap_or(u64::MAX);
    }
    u64::try_from(total * own / weights).unwrap_or(u64::MAX)
}

/// Writes one frame into a subscriber's m-line with the payload type it negotiated for the
/// publisher's codec. A subscriber that cannot decode the codec gets nothing. Returns whether
/// the frame was written.
fn write_frame(
    rtc: &mut Rtc,
    mid: Mid,
    data: &MediaData,
    time: MediaTime,
) -> Result<bool, RtcError> {
    let Some(writer) = rtc.writer(mid) else {
        return Ok(false);
    };
    let Some(pt) = writer.match_params(data.params) else {
        return Ok(false);
    };
    let writer = match data.ext_vals.audio_level {
        Some(level) => writer.audio_level(level, data.ext_vals.voice_activity.unwrap_or(false)),
        None => writer,
    };
    writer.write(pt, data.network_time, time, data.data.clone())?;
    Ok(true)
}
