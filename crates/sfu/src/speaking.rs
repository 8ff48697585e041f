//! Speaking indicator: turns the audio level each packet carries into on/off transitions.
//!
//! Browsers put the microphone level in every Opus packet (RFC 6464 header extension), so the
//! SFU needs no decoder to know who is talking. The hysteresis rules live in
//! [`SpeakingConfig`]; this type only applies them, with time passed in.

use std::time::Instant;

use crate::config::SpeakingConfig;

/// Speaking state of one participant's microphone.
#[derive(Debug, Default)]
pub(crate) struct SpeakingDetector {
    /// When the last packet loud enough to keep the state on arrived, while speaking.
    speaking_since_kept: Option<Instant>,
}

impl SpeakingDetector {
    pub(crate) fn is_speaking(&self) -> bool {
        self.speaking_since_kept.is_some()
    }

    /// Feeds one packet's level; returns the new state when it changed.
    pub(crate) fn on_level(
        &mut self,
        now: Instant,
        level_dbov: i8,
        config: &SpeakingConfig,
    ) -> Option<bool> {
        let expired = self.on_timeout(now, config);
        if self.is_speaking() {
            if level_dbov >= config.keep_level_dbov {
                self.speaking_since_kept = Some(now);
            }
            expired
        } else if level_dbov >= config.start_level_dbov {
            self.speaking_since_kept = Some(now);
            // A stop and a start in the same call cancel out: the state did not change.
            if expired.is_some() { None } else { Some(true) }
        } else {
            expired
        }
    }

    /// Ends the speaking state once the hang-over has passed; returns `Some(false)` if it did.
    pub(crate) fn on_timeout(&mut self, now: Instant, config: &SpeakingConfig) -> Option<bool> {
        let deadline = self.deadline(config)?;
        if now >= deadline {
            self.speaking_since_kept = None;
            Some(false)
        } else {
            None
        }
    }

    /// Forces the state off (the participant was muted); returns `Some(false)` if it was on.
    pub(crate) fn reset(&mut self) -> Option<bool> {
        self.speaking_since_kept.take().map(|_| false)
    }

    /// When the speaking state ends if no loud packet arrives before.
    pub(crate) fn deadline(&self, config: &SpeakingConfig) -> Option<Instant> {
        self.speaking_since_kept.map(|kept| kept + config.hangover)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ms(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    #[test]
    fn quiet_packets_never_start_speaking() {
        let config = SpeakingConfig::default();
        let start = Instant::now();
        let mut detector = SpeakingDetector::default();
        for i in 0..50 {
            assert_eq!(detector.on_level(ms(start, i * 20), -45, &config), None);
        }
        assert!(!detector.is_speaking());
    }

    #[test]
    fn loud_packet_starts_and_quieter_packets_keep_speaking() {
        let config = SpeakingConfig::default();
        let start = Instant::now();
        let mut detector = SpeakingDetector::default();
        assert_eq!(detector.on_level(start, -30, &config), Some(true));
        // Between the two thresholds: not loud enough to start, loud enough to keep.
        for i in 1..100 {
            assert_eq!(detector.on_level(ms(start, i * 20), -45, &config), None);
        }
        assert!(detector.is_speaking());
    }

    #[test]
    fn silence_ends_speaking_after_the_hangover() {
        let config = SpeakingConfig::default();
        let start = Instant::now();
        let mut detector = SpeakingDetector::default();
        detector.on_level(start, -20, &config);
        assert_eq!(detector.deadline(&config), Some(ms(start, 500)));
        assert_eq!(detector.on_level(ms(start, 200), -90, &config), None);
        assert_eq!(detector.on_timeout(ms(start, 499), &config), None);
        assert_eq!(detector.on_timeout(ms(start, 500), &config), Some(false));
        assert_eq!(detector.deadline(&config), None);
    }

    #[test]
    fn a_late_loud_packet_after_the_hangover_reports_no_change() {
        let config = SpeakingConfig::default();
        let start = Instant::now();
        let mut detector = SpeakingDetector::default();
        detector.on_level(start, -20, &config);
        assert_eq!(detector.on_level(ms(start, 900), -20, &config), None);
        assert!(detector.is_speaking());
    }

    #[test]
    fn reset_reports_only_when_speaking() {
        let config = SpeakingConfig::default();
        let mut detector = SpeakingDetector::default();
        assert_eq!(detector.reset(), None);
        detector.on_level(Instant::now(), -10, &config);
        assert_eq!(detector.reset(), Some(false));
    }
}
