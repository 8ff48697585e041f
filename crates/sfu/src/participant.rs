//! One participant: its str0m `Rtc`, the tracks it publishes, the tracks it receives, and the
//! state of the SFU's own offer to it.
//!
//! Subscriptions move through a small state machine because an m-line exists in str0m only
//! once an answer has been applied, and an offer can be rolled back when the client's offer
//! crosses it: `Pending → Offered → Active → Stopping → StopOffered → (gone)`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use str0m::Rtc;
use str0m::bwe::Bitrate;
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::media::{Direction, KeyframeRequestKind, MediaKind, Mid, Rid};

use crate::config::SpeakingConfig;
use crate::events::OfferedTrack;
use crate::forward::Forwarder;
use crate::ids::{ParticipantId, RoomId, TrackId, TrackKind};
use crate::simulcast::LayerMeters;
use crate::speaking::SpeakingDetector;

/// A track this participant sends to the SFU.
#[derive(Debug)]
pub(crate) struct PublishedTrack {
    pub(crate) kind: TrackKind,
    /// The client's m-line carrying it.
    pub(crate) mid: Mid,
    /// Bitrates of the simulcast layers; empty for a track sent as one stream.
    pub(crate) layers: LayerMeters,
    keyframe_requests: Vec<KeyframeThrottle>,
}

/// Rate limit for keyframe requests to one layer of a published track.
#[derive(Debug)]
struct KeyframeThrottle {
    rid: Option<Rid>,
    last_sent: Instant,
    /// A request came within the interval; send one when it has passed.
    deferred: bool,
}

impl PublishedTrack {
    pub(crate) fn new(kind: TrackKind, mid: Mid) -> Self {
        PublishedTrack {
            kind,
            mid,
            layers: LayerMeters::default(),
            keyframe_requests: Vec::new(),
        }
    }

    /// When a deferred keyframe request becomes due.
    fn keyframe_deadline(&self, interval: Duration) -> Option<Instant> {
        self.keyframe_requests
            .iter()
            .filter(|k| k.deferred)
            .map(|k| k.last_sent + interval)
            .min()
    }
}

/// Where a subscription stands in the SFU's offer/answer exchange with the subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubscriptionState {
    /// Waiting to be put into the next offer.
    Pending,
    /// In the pending offer on this m-line; not usable until the answer is applied.
    Offered(Mid),
    /// Negotiated: media is forwarded on this m-line.
    Active(Mid),
    /// The track ended; the m-line is to be stopped in the next offer.
    Stopping(Mid),
    /// The pending offer stops this m-line.
    StopOffered(Mid),
}

/// A track of another participant that this participant receives.
#[derive(Debug)]
pub(crate) struct Subscription {
    pub(crate) track: TrackId,
    pub(crate) state: SubscriptionState,
    /// The track ended while its m-line was being offered: stop it once the answer is in.
    ended: bool,
    pub(crate) forwarder: Forwarder,
}

impl Subscription {
    pub(crate) fn active_mid(&self) -> Option<Mid> {
        match self.state {
            SubscriptionState::Active(mid) => Some(mid),
            _ => None,
        }
    }
}

/// The ICE connection as the SFU tracks it, for the reconnect grace period.
#[derive(Debug, Default)]
pub(crate) struct Connectivity {
    /// ICE and DTLS came up at least once.
    pub(crate) connected: bool,
    /// ICE reported `Disconnected` at this time and has not recovered since.
    pub(crate) disconnected_since: Option<Instant>,
}

#[derive(Debug)]
pub(crate) struct Participant {
    pub(crate) id: ParticipantId,
    pub(crate) room: RoomId,
    pub(crate) rtc: Rtc,
    /// What the client said each of its m-lines carries, with its latest offer.
    pub(crate) labels: HashMap<Mid, TrackKind>,
    pub(crate) published: Vec<PublishedTrack>,
    pub(crate) subscriptions: Vec<Subscription>,
    /// The SFU's offer awaiting the client's answer.
    pending_offer: Option<SdpPendingOffer>,
    /// An ICE restart is wanted in the next offer.
    ice_restart_wanted: bool,
    /// The pending offer carries the ICE restart.
    ice_restart_offered: bool,
    pub(crate) self_muted: bool,
    pub(crate) server_muted: bool,
    pub(crate) speaking: SpeakingDetector,
    /// Latest estimate of the bandwidth toward this participant, in bits per second.
    pub(crate) bandwidth_estimate_bps: u64,
    /// The bitrate the bandwidth estimator was last told to probe for.
    desired_bitrate_bps: u64,
    pub(crate) connectivity: Connectivity,
    /// The deadline str0m last asked for.
    pub(crate) rtc_timeout: Instant,
    /// Input or writes reached the `Rtc` since it was last polled.
    pub(crate) needs_poll: bool,
}

impl Participant {
    pub(crate) fn new(
        id: ParticipantId,
        room: RoomId,
        rtc: Rtc,
        now: Instant,
        initial_bitrate_estimate: u64,
    ) -> Self {
        Participant {
            id,
            room,
            rtc,
            labels: HashMap::new(),
            published: Vec::new(),
            subscriptions: Vec::new(),
            pending_offer: None,
            ice_restart_wanted: false,
            ice_restart_offered: false,
            self_muted: false,
            server_muted: false,
            speaking: SpeakingDetector::default(),
            bandwidth_estimate_bps: initial_bitrate_estimate,
            desired_bitrate_bps: 0,
            connectivity: Connectivity::default(),
            rtc_timeout: now,
            needs_poll: true,
        }
    }

    pub(crate) fn is_audio_muted(&self) -> bool {
        self.self_muted || self.server_muted
    }

    pub(crate) fn published_track(&self, kind: TrackKind) -> Option<&PublishedTrack> {
        self.published.iter().find(|t| t.kind == kind)
    }

    pub(crate) fn subscription_mut(&mut self, track: TrackId) -> Option<&mut Subscription> {
        self.subscriptions.iter_mut().find(|s| s.track == track)
    }

    /// Starts receiving `track`: it goes into the next offer.
    pub(crate) fn subscribe(&mut self, track: TrackId) {
        self.subscriptions.push(Subscription {
            track,
            state: SubscriptionState::Pending,
            ended: false,
            forwarder: Forwarder::new(!track.kind.is_audio()),
        });
        self.needs_poll = true;
    }

    /// Stops receiving every track `ended` selects, renegotiating where an m-line exists.
    pub(crate) fn unsubscribe(&mut self, ended: impl Fn(TrackId) -> bool) {
        self.subscriptions.retain_mut(|sub| {
            if !ended(sub.track) {
                return true;
            }
            match sub.state {
                SubscriptionState::Pending => false,
                SubscriptionState::Offered(_) => {
                    sub.ended = true;
                    true
                }
                SubscriptionState::Active(mid) => {
                    sub.state = SubscriptionState::Stopping(mid);
                    true
                }
                SubscriptionState::Stopping(_) | SubscriptionState::StopOffered(_) => true,
            }
        });
        self.needs_poll = true;
    }

    pub(crate) fn request_ice_restart(&mut self) {
        self.ice_restart_wanted = true;
        self.needs_poll = true;
    }

    /// Creates the SFU's next offer if there is something to negotiate and no offer is out.
    pub(crate) fn create_offer(&mut self) -> Option<(SdpOffer, Vec<OfferedTrack>)> {
        if self.pending_offer.is_some() {
            return None;
        }
        let wants_change = self.ice_restart_wanted
            || self.subscriptions.iter().any(|s| {
                matches!(
                    s.state,
                    SubscriptionState::Pending | SubscriptionState::Stopping(_)
                )
            });
        if !wants_change {
            return None;
        }

        let mut change = self.rtc.sdp_api();
        for sub in &mut self.subscriptions {
            match sub.state {
                SubscriptionState::Pending => {
                    let kind = if sub.track.kind.is_audio() {
                        MediaKind::Audio
                    } else {
                        MediaKind::Video
                    };
                    // The stream id groups one publisher's audio and video for lip sync in the
                    // browser; the track id is unique in the session.
                    let mid = change.add_media(
                        kind,
                        Direction::SendOnly,
                        Some(sub.track.publisher.to_string()),
                        Some(sub.track.to_string()),
                        None,
                    );
                    sub.state = SubscriptionState::Offered(mid);
                }
                SubscriptionState::Stopping(mid) => {
                    change.stop_media(mid);
                    sub.state = SubscriptionState::StopOffered(mid);
                }
                _ => {}
            }
        }
        if self.ice_restart_wanted {
            change.ice_restart(true);
            self.ice_restart_offered = true;
        }

        match change.apply() {
            Some((offer, pending)) => {
                self.pending_offer = Some(pending);
                Some((offer, self.offered_tracks()))
            }
            None => {
                // Nothing needed the client's consent: the stopped m-lines were already gone.
                self.subscriptions
                    .retain(|s| !matches!(s.state, SubscriptionState::StopOffered(_)));
                self.ice_restart_wanted = false;
                self.ice_restart_offered = false;
                None
            }
        }
    }

    /// The m-lines carrying media to this participant once the pending offer is answered.
    fn offered_tracks(&self) -> Vec<OfferedTrack> {
        self.subscriptions
            .iter()
            .filter_map(|sub| match sub.state {
                SubscriptionState::Offered(mid) | SubscriptionState::Active(mid) if !sub.ended => {
                    Some(OfferedTrack {
                        mid: mid.to_string(),
                        track: sub.track,
                    })
                }
                _ => None,
            })
            .collect()
    }

    pub(crate) fn has_pending_offer(&self) -> bool {
        self.pending_offer.is_some()
    }

    /// Applies the client's answer to the pending offer; returns the subscriptions that became
    /// active. On error the offer is rolled back and its changes will be offered again.
    pub(crate) fn accept_answer(
        &mut self,
        pending: SdpPendingOffer,
        answer: SdpAnswer,
    ) -> Result<Vec<TrackId>, str0m::RtcError> {
        if let Err(e) = self.rtc.sdp_api().accept_answer(pending, answer) {
            self.roll_back_offer();
            return Err(e);
        }
        self.needs_poll = true;
        if self.ice_restart_offered {
            self.ice_restart_wanted = false;
            self.ice_restart_offered = false;
        }
        let mut activated = Vec::new();
        self.subscriptions.retain_mut(|sub| match sub.state {
            SubscriptionState::Offered(mid) if sub.ended => {
                sub.state = SubscriptionState::Stopping(mid);
                true
            }
            SubscriptionState::Offered(mid) => {
                sub.state = SubscriptionState::Active(mid);
                activated.push(sub.track);
                true
            }
            SubscriptionState::StopOffered(_) => false,
            _ => true,
        });
        Ok(activated)
    }

    pub(crate) fn take_pending_offer(&mut self) -> Option<SdpPendingOffer> {
        self.pending_offer.take()
    }

    /// Forgets the pending offer (the client's offer crossed it, or its answer failed): its
    /// changes go back to waiting for the next offer.
    pub(crate) fn roll_back_offer(&mut self) {
        self.pending_offer = None;
        self.ice_restart_offered = false;
        self.subscriptions.retain_mut(|sub| match sub.state {
            SubscriptionState::Offered(_) if sub.ended => false,
            SubscriptionState::Offered(_) => {
                sub.state = SubscriptionState::Pending;
                true
            }
            SubscriptionState::StopOffered(mid) => {
                sub.state = SubscriptionState::Stopping(mid);
                true
            }
            _ => true,
        });
        self.needs_poll = true;
    }

    /// Tells the bandwidth estimator toward this participant how much the wished simulcast
    /// layers need (capped at `cap_bps`), so it probes for room to switch up. The same rate is
    /// the minimum to sustain: while a lower layer is forwarded, padding (capped by the
    /// estimate) makes up the difference, or the estimate would only follow what is sent and
    /// never leave room to switch up (str0m's advice for SFUs).
    pub(crate) fn update_desired_bitrate(&mut self, cap_bps: u64) {
        let wanted: u64 = self
            .subscriptions
            .iter()
            .map(|s| s.forwarder.wanted_bps)
            .sum();
        let desired = wanted.min(cap_bps);
        if desired != self.desired_bitrate_bps {
            self.desired_bitrate_bps = desired;
            self.rtc
                .bwe()
                .set_bitrate(Bitrate::bps(desired), Bitrate::bps(desired));
            self.needs_poll = true;
        }
    }

    /// Asks the client for a keyframe on one layer of a published track, at most once per
    /// `interval`; a request that comes sooner is sent when the interval has passed.
    pub(crate) fn request_keyframe(
        &mut self,
        now: Instant,
        kind: TrackKind,
        rid: Option<Rid>,
        interval: Duration,
    ) {
        let Some(track) = self.published.iter_mut().find(|t| t.kind == kind) else {
            return;
        };
        let mid = track.mid;
        match track.keyframe_requests.iter_mut().find(|k| k.rid == rid) {
            Some(throttle) if now < throttle.last_sent + interval => {
                throttle.deferred = true;
                return;
            }
            Some(throttle) => {
                throttle.last_sent = now;
                throttle.deferred = false;
            }
            None => track.keyframe_requests.push(KeyframeThrottle {
                rid,
                last_sent: now,
                deferred: false,
            }),
        }
        self.send_keyframe_request(mid, rid);
    }

    fn send_keyframe_request(&mut self, mid: Mid, rid: Option<Rid>) {
        let Some(mut writer) = self.rtc.writer(mid) else {
            return;
        };
        let kind = if writer.is_request_keyframe_possible(KeyframeRequestKind::Pli) {
            KeyframeRequestKind::Pli
        } else {
            KeyframeRequestKind::Fir
        };
        // Fails when no packet of this layer has arrived yet; its first frame is a keyframe.
        if let Err(e) = writer.request_keyframe(rid, kind) {
            tracing::debug!(participant = %self.id, %mid, ?rid, "keyframe request not sent: {e}");
        }
        self.needs_poll = true;
    }

    /// Sends the deferred keyframe requests whose interval has passed.
    pub(crate) fn send_due_keyframe_requests(&mut self, now: Instant, interval: Duration) {
        let mut due = Vec::new();
        for track in &mut self.published {
            for throttle in &mut track.keyframe_requests {
                if throttle.deferred && now >= throttle.last_sent + interval {
                    throttle.deferred = false;
                    throttle.last_sent = now;
                    due.push((track.mid, throttle.rid));
                }
            }
        }
        for (mid, rid) in due {
            self.send_keyframe_request(mid, rid);
        }
    }

    /// The earliest time this participant needs a timeout, other than str0m's own.
    pub(crate) fn own_deadline(
        &self,
        keyframe_interval: Duration,
        reconnect_grace: Duration,
        speaking: &SpeakingConfig,
    ) -> Option<Instant> {
        let keyframes = self
            .published
            .iter()
            .filter_map(|t| t.keyframe_deadline(keyframe_interval))
            .min();
        let reconnect = self
            .connectivity
            .disconnected_since
            .map(|since| since + reconnect_grace);
        [keyframes, reconnect, self.speaking.deadline(speaking)]
            .into_iter()
            .flatten()
            .min()
    }
}
