//! Simulcast: measuring a publisher's layers and choosing one layer per subscriber.
//!
//! A simulcast publisher sends the same video two or three times at different qualities, each
//! an RTP stream named by a RID. The SFU forwards exactly one of them to each subscriber and may
//! switch as the subscriber's wishes or bandwidth change. RIDs are free-form names whose order
//! differs between clients (`l/m/h`, `q/h/f`, `0/1/2`, high-first or low-first), so layers are
//! ranked by the bitrate the SFU measures, not by name or declaration order.

use std::time::{Duration, Instant};

use str0m::media::Rid;

/// The highest simulcast layer a subscriber wants for one track, for example `Low` for a
/// thumbnail and `High` for the focused speaker. The SFU may send a lower layer when the
/// bandwidth toward the subscriber does not carry the wanted one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum VideoLayer {
    /// The lowest layer the publisher sends.
    Low,
    /// The middle layer (with two layers, the lower one).
    Medium,
    /// The highest layer the publisher sends.
    #[default]
    High,
}

/// Length of one bitrate measurement window.
const MEASURE_WINDOW: Duration = Duration::from_millis(500);
/// A layer with no frame for this long is not offered to selection (the browser stopped it).
const LAYER_SILENCE: Duration = Duration::from_secs(1);
/// Frame rate assumed for a layer that has not finished its first window: its bitrate is
/// guessed from its frame sizes, which already rank layers correctly from the first frames.
const ASSUMED_FRAME_RATE: u64 = 30;
/// Switching up needs this much headroom (per cent of the layer's bitrate), so an estimate
/// hovering at a layer's bitrate does not flip the choice back and forth.
const UPSWITCH_HEADROOM_PERCENT: u64 = 115;

/// Bitrate and liveness of one layer of a published track.
#[derive(Debug)]
struct LayerMeter {
    rid: Rid,
    window_start: Instant,
    window_bytes: u64,
    window_frames: u64,
    /// Bitrate of the last complete window.
    measured_bps: Option<u64>,
    last_frame: Instant,
    /// str0m reported the stream paused (no packets for a while).
    paused: bool,
}

impl LayerMeter {
    fn bitrate_bps(&self) -> u64 {
        self.measured_bps.unwrap_or_else(|| {
            self.window_bytes * 8 * ASSUMED_FRAME_RATE / self.window_frames.max(1)
        })
    }
}

fn bits_per_second(bytes: u64, over: Duration) -> u64 {
    let micros = over.as_micros().max(1);
    u64::try_from(u128::from(bytes) * 8 * 1_000_000 / micros).unwrap_or(u64::MAX)
}

/// The layers of one simulcast track, as seen from the frames that arrive.
#[derive(Debug, Default)]
pub(crate) struct LayerMeters {
    layers: Vec<LayerMeter>,
}

/// A layer that selection may choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LayerCandidate {
    pub(crate) rid: Rid,
    pub(crate) bitrate_bps: u64,
}

impl LayerMeters {
    pub(crate) fn on_frame(&mut self, now: Instant, rid: Rid, bytes: usize) {
        let bytes = bytes as u64;
        let Some(layer) = self.layers.iter_mut().find(|l| l.rid == rid) else {
            self.layers.push(LayerMeter {
                rid,
                window_start: now,
                window_bytes: bytes,
                window_frames: 1,
                measured_bps: None,
                last_frame: now,
                paused: false,
            });
            return;
        };
        layer.last_frame = now;
        layer.paused = false;
        let elapsed = now.saturating_duration_since(layer.window_start);
        if elapsed >= MEASURE_WINDOW {
            layer.measured_bps = Some(bits_per_second(layer.window_bytes, elapsed));
            layer.window_start = now;
            layer.window_bytes = bytes;
            layer.window_frames = 1;
        } else {
            layer.window_bytes += bytes;
            layer.window_frames += 1;
        }
    }

    pub(crate) fn set_paused(&mut self, rid: Rid, paused: bool) {
        if let Some(layer) = self.layers.iter_mut().find(|l| l.rid == rid) {
            layer.paused = paused;
        }
    }

    /// The layers currently flowing, lowest bitrate first.
    pub(crate) fn candidates(&self, now: Instant) -> Vec<LayerCandidate> {
        let mut candidates: Vec<LayerCandidate> = self
            .layers
            .iter()
            .filter(|l| !l.paused && now.saturating_duration_since(l.last_frame) < LAYER_SILENCE)
            .map(|l| LayerCandidate {
                rid: l.rid,
                bitrate_bps: l.bitrate_bps(),
            })
            .collect();
        candidates.sort_by_key(|c| c.bitrate_bps);
        candidates
    }
}

/// The rank (lowest first) of the layer `max` stands for among `candidates`.
fn wanted_rank(candidates: &[LayerCandidate], max: VideoLayer) -> Option<usize> {
    let highest = candidates.len().checked_sub(1)?;
    Some(match max {
        VideoLayer::Low => 0,
        VideoLayer::Medium => highest / 2,
        VideoLayer::High => highest,
    })
}

/// The bitrate of the layer the subscriber wishes for, which bandwidth estimation should
/// try to make room for; 0 when no layer is flowing.
pub(crate) fn wanted_bitrate(candidates: &[LayerCandidate], max: VideoLayer) -> u64 {
    wanted_rank(candidates, max).map_or(0, |rank| candidates[rank].bitrate_bps)
}

/// Chooses the layer to forward to one subscriber.
///
/// `candidates` are ordered lowest bitrate first. The wanted layer `max` caps the choice; below
/// it, the highest layer that fits `budget_bps` wins, and a layer above `current` must fit with
/// headroom. When nothing fits, the lowest layer is sent: a poor picture beats none, and the
/// bandwidth estimator needs traffic to discover more capacity.
pub(crate) fn select_layer(
    candidates: &[LayerCandidate],
    max: VideoLayer,
    budget_bps: u64,
    current: Option<Rid>,
) -> Option<Rid> {
    let cap = wanted_rank(candidates, max)?;
    let current_rank = current.and_then(|rid| candidates.iter().position(|c| c.rid == rid));
    let fits = |rank: usize| {
        let bitrate = candidates[rank].bitrate_bps;
        let is_upswitch = current_rank.is_some_and(|current| rank > current);
        if is_upswitch {
            bitrate.saturating_mul(UPSWITCH_HEADROOM_PERCENT) / 100 <= budget_bps
        } else {
            bitrate <= budget_bps
        }
    };
    let rank = (0..=cap).rev().find(|&rank| fits(rank)).unwrap_or(0);
    Some(candidates[rank].rid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layers(bitrates: &[(&str, u64)]) -> Vec<LayerCandidate> {
        bitrates
            .iter()
            .map(|&(rid, bitrate_bps)| LayerCandidate {
                rid: rid.into(),
                bitrate_bps,
            })
            .collect()
    }

    fn three_layers() -> Vec<LayerCandidate> {
        layers(&[("l", 150_000), ("m", 500_000), ("h", 1_500_000)])
    }

    #[test]
    fn no_layers_selects_nothing() {
        assert_eq!(select_layer(&[], VideoLayer::High, u64::MAX, None), None);
    }

    #[test]
    fn wanted_layer_caps_the_choice_when_bandwidth_is_plentiful() {
        let candidates = three_layers();
        let pick = |max| select_layer(&candidates, max, 10_000_000, None);
        assert_eq!(pick(VideoLayer::High), Some("h".into()));
        assert_eq!(pick(VideoLayer::Medium), Some("m".into()));
        assert_eq!(pick(VideoLayer::Low), Some("l".into()));
    }

    #[test]
    fn medium_with_two_layers_is_the_lower_one() {
        let candidates = layers(&[("q", 200_000), ("f", 1_000_000)]);
        assert_eq!(
            select_layer(&candidates, VideoLayer::Medium, u64::MAX, None),
            Some("q".into())
        );
    }

    #[test]
    fn wanted_bitrate_is_that_of_the_wished_layer() {
        let candidates = three_layers();
        assert_eq!(wanted_bitrate(&candidates, VideoLayer::Medium), 500_000);
        assert_eq!(wanted_bitrate(&[], VideoLayer::High), 0);
    }

    #[test]
    fn budget_picks_the_highest_layer_that_fits() {
        let candidates = three_layers();
        assert_eq!(
            select_layer(&candidates, VideoLayer::High, 800_000, None),
            Some("m".into())
        );
    }

    #[test]
    fn too_small_a_budget_still_sends_the_lowest_layer() {
        let candidates = three_layers();
        assert_eq!(
            select_layer(&candidates, VideoLayer::High, 10_000, None),
            Some("l".into())
        );
    }

    #[test]
    fn switching_up_needs_headroom_but_staying_does_not() {
        let candidates = three_layers();
        // Exactly the high layer's bitrate: enough to stay on it, not enough to switch up to it.
        assert_eq!(
            select_layer(&candidates, VideoLayer::High, 1_500_000, Some("h".into())),
            Some("h".into())
        );
        assert_eq!(
            select_layer(&candidates, VideoLayer::High, 1_500_000, Some("m".into())),
            Some("m".into())
        );
        assert_eq!(
            select_layer(&candidates, VideoLayer::High, 1_800_000, Some("m".into())),
            Some("h".into())
        );
    }

    #[test]
    fn meters_rank_layers_by_measured_bitrate_whatever_their_names() {
        let start = Instant::now();
        let mut meters = LayerMeters::default();
        // "a" is the big layer, "z" the small one: names say nothing about quality.
        for frame in 0..40u64 {
            let now = start + Duration::from_millis(frame * 33);
            meters.on_frame(now, "a".into(), 6_000);
            meters.on_frame(now, "z".into(), 600);
        }
        let now = start + Duration::from_millis(40 * 33);
        let ranked: Vec<Rid> = meters.candidates(now).iter().map(|c| c.rid).collect();
        assert_eq!(ranked, vec![Rid::from("z"), Rid::from("a")]);
        let bitrate_a = meters.candidates(now)[1].bitrate_bps;
        // 6000 bytes every 33 ms is about 1.45 Mbit/s.
        assert!((1_300_000..1_600_000).contains(&bitrate_a), "{bitrate_a}");
    }

    #[test]
    fn unmeasured_layers_are_ranked_by_frame_size_from_the_first_frame() {
        let start = Instant::now();
        let mut meters = LayerMeters::default();
        meters.on_frame(start, "h".into(), 2_500);
        meters.on_frame(start, "l".into(), 300);
        let candidates = meters.candidates(start);
        assert_eq!(
            candidates,
            vec![
                LayerCandidate {
                    rid: "l".into(),
                    bitrate_bps: 72_000
                },
                LayerCandidate {
                    rid: "h".into(),
                    bitrate_bps: 600_000
                },
            ]
        );
    }

    #[test]
    fn paused_and_silent_layers_are_not_candidates() {
        let start = Instant::now();
        let mut meters = LayerMeters::default();
        meters.on_frame(start, "l".into(), 500);
        meters.on_frame(start, "h".into(), 5_000);
        meters.set_paused("h".into(), true);
        let ranked: Vec<Rid> = meters.candidates(start).iter().map(|c| c.rid).collect();
        assert_eq!(ranked, vec![Rid::from("l")]);
        assert!(meters.candidates(start + LAYER_SILENCE).is_empty());
    }
}
