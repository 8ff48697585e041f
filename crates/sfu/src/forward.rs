//! Per-subscriber forwarding of one track: which frames go out and with which timestamps.
//!
//! str0m's frame API repacketises what the SFU writes, so sequence numbers are continuous on
//! their own; RTP timestamps are not, because every simulcast layer has its own timeline. The
//! forwarder therefore maps each source layer's timeline onto one continuous outgoing timeline,
//! and only starts or switches a video layer on a keyframe, which is the only frame a decoder
//! can begin from.

use std::time::Instant;

use str0m::media::{MediaTime, Rid};

use crate::simulcast::VideoLayer;

/// The layer being forwarded and how its timeline maps onto the outgoing one.
#[derive(Debug, Clone, Copy)]
struct Source {
    rid: Option<Rid>,
    /// Source timestamp of the first frame forwarded from this layer.
    in_origin: u64,
    /// Outgoing timestamp given to that frame.
    out_origin: u64,
}

/// Forwarding state of one track toward one subscriber.
#[derive(Debug)]
pub(crate) struct Forwarder {
    is_video: bool,
    /// `None` until the first frame is forwarded: video waits for a keyframe.
    source: Option<Source>,
    /// The layer to forward; a switch happens at this layer's next keyframe. Always `None`
    /// for tracks without simulcast, whose frames carry no RID.
    target_rid: Option<Rid>,
    /// The highest layer the subscriber asked for.
    pub(crate) max_layer: VideoLayer,
    /// The subscriber does not want this video now (its tile is hidden): nothing is forwarded.
    paused: bool,
    /// Bitrate of that layer as last measured: what the bandwidth estimator should probe for.
    pub(crate) wanted_bps: u64,
    /// The last frame written: its outgoing timestamp and arrival time.
    last_out: Option<(MediaTime, Instant)>,
}

impl Forwarder {
    pub(crate) fn new(is_video: bool) -> Self {
        Forwarder {
            is_video,
            source: None,
            target_rid: None,
            max_layer: VideoLayer::default(),
            paused: false,
            wanted_bps: 0,
            last_out: None,
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.paused
    }

    /// Stops or resumes forwarding. A paused forwarder forgets its layer, so forwarding
    /// resumes on a keyframe, on whichever layer fits by then; the outgoing timeline goes on
    /// from the last frame written, so the subscriber's decoder sees time pass, not jump back.
    pub(crate) fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        if paused {
            self.source = None;
            self.target_rid = None;
            self.wanted_bps = 0;
        }
    }

    pub(crate) fn target_rid(&self) -> Option<Rid> {
        self.target_rid
    }

    /// The layer whose frames currently go out (or are awaited, before the first keyframe).
    pub(crate) fn current_rid(&self) -> Option<Rid> {
        self.source.map_or(self.target_rid, |source| source.rid)
    }

    /// Sets the layer to forward; returns whether it changed (then a keyframe on it is needed).
    pub(crate) fn set_target(&mut self, rid: Option<Rid>) -> bool {
        let changed = self.target_rid != rid;
        self.target_rid = rid;
        changed
    }

    /// Decides about one incoming frame: `Some(outgoing timestamp)` to forward it.
    pub(crate) fn on_frame(
        &mut self,
        rid: Option<Rid>,
        time: MediaTime,
        arrived: Instant,
        is_keyframe: bool,
    ) -> Option<MediaTime> {
        let source_matches = self.source.is_some_and(|source| source.rid == rid);
        let can_start = !self.is_video || is_keyframe;
        if rid == self.target_rid && !source_matches && can_start {
            self.source = Some(Source {
                rid,
                in_origin: time.numer(),
                out_origin: self.continue_timeline(time, arrived),
            });
        } else if !source_matches {
            return None;
        }
        let source = self.source.expect("a source was set or matched above");
        // A frame older than the switch point (reordered) cannot be placed on the timeline.
        let since_origin = time.numer().checked_sub(source.in_origin)?;
        let out = MediaTime::new(source.out_origin + since_origin, time.frequency());
        self.last_out = Some((out, arrived));
        Some(out)
    }

    /// The outgoing timestamp for the first frame of a new source: the publisher's own for the
    /// very first frame, otherwise the last one advanced by the wall-clock time since.
    fn continue_timeline(&self, time: MediaTime, arrived: Instant) -> u64 {
        let Some((last, last_arrived)) = self.last_out else {
            return time.numer();
        };
        let elapsed = arrived.saturating_duration_since(last_arrived);
        let ticks = elapsed.as_micros() * u128::from(last.denom()) / 1_000_000;
        let ticks = u64::try_from(ticks).unwrap_or(u64::MAX).max(1);
        let last_in_frequency = last.rebase(time.frequency()).numer();
        last_in_frequency.saturating_add(ticks)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use str0m::media::Frequency;

    use super::*;

    fn t(ticks: u64) -> MediaTime {
        MediaTime::new(ticks, Frequency::NINETY_KHZ)
    }

    #[test]
    fn video_waits_for_a_keyframe_then_keeps_the_publishers_timeline() {
        let start = Instant::now();
        let mut forwarder = Forwarder::new(true);
        assert_eq!(forwarder.on_frame(None, t(1000), start, false), None);
        assert_eq!(
            forwarder.on_frame(None, t(4000), start, true),
            Some(t(4000))
        );
        assert_eq!(
            forwarder.on_frame(None, t(7000), start, false),
            Some(t(7000))
        );
    }

    #[test]
    fn audio_starts_at_once() {
        let mut forwarder = Forwarder::new(false);
        assert_eq!(
            forwarder.on_frame(None, t(960), Instant::now(), false),
            Some(t(960))
        );
    }

    #[test]
    fn only_the_target_layer_is_forwarded() {
        let start = Instant::now();
        let mut forwarder = Forwarder::new(true);
        assert!(forwarder.set_target(Some("h".into())));
        assert_eq!(
            forwarder.on_frame(Some("l".into()), t(10), start, true),
            None
        );
        assert!(
            forwarder
                .on_frame(Some("h".into()), t(90), start, true)
                .is_some()
        );
        assert_eq!(
            forwarder.on_frame(Some("l".into()), t(20), start, false),
            None
        );
        assert_eq!(forwarder.current_rid(), Some("h".into()));
    }

    #[test]
    fn switching_layers_waits_for_a_keyframe_and_keeps_time_continuous() {
        let start = Instant::now();
        let mut forwarder = Forwarder::new(true);
        forwarder.set_target(Some("h".into()));
        assert_eq!(
            forwarder.on_frame(Some("h".into()), t(500_000), start, true),
            Some(t(500_000))
        );

        forwarder.set_target(Some("l".into()));
        let later = start + Duration::from_millis(100);
        // Until "l" has a keyframe, "h" keeps flowing and "l" is held back.
        assert_eq!(
            forwarder.on_frame(Some("l".into()), t(7_000_000), later, false),
            None
        );
        assert_eq!(
            forwarder.on_frame(Some("h".into()), t(509_000), later, false),
            Some(t(509_000))
        );

        // The "l" keyframe lands 100 ms (9000 ticks) after the last "h" frame, whatever its
        // own timestamp, and later "l" frames follow it.
        let switch = later + Duration::from_millis(100);
        assert_eq!(
            forwarder.on_frame(Some("l".into()), t(7_018_000), switch, true),
            Some(t(518_000))
        );
        assert_eq!(
            forwarder.on_frame(Some("h".into()), t(518_000), switch, false),
            None
        );
        assert_eq!(
            forwarder.on_frame(Some("l".into()), t(7_021_000), switch, false),
            Some(t(521_000))
        );
    }

    #[test]
    fn a_resumed_forwarder_waits_for_a_keyframe_and_continues_the_timeline() {
        let start = Instant::now();
        let mut forwarder = Forwarder::new(true);
        forwarder.set_target(Some("h".into()));
        assert_eq!(
            forwarder.on_frame(Some("h".into()), t(90_000), start, true),
            Some(t(90_000))
        );
        forwarder.set_paused(true);
        assert_eq!(forwarder.target_rid(), None);
        forwarder.set_paused(false);
        forwarder.set_target(Some("l".into()));
        let later = start + Duration::from_secs(2);
        assert_eq!(
            forwarder.on_frame(Some("l".into()), t(5_000), later, false),
            None
        );
        // Two seconds after the last frame written, whatever the new layer's own clock says.
        assert_eq!(
            forwarder.on_frame(Some("l".into()), t(5_000), later, true),
            Some(t(270_000))
        );
    }

    #[test]
    fn frames_older_than_the_switch_point_are_dropped() {
        let start = Instant::now();
        let mut forwarder = Forwarder::new(false);
        forwarder.on_frame(None, t(1000), start, false);
        assert_eq!(forwarder.on_frame(None, t(500), start, false), None);
    }
}
