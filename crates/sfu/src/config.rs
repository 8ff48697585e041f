//! Start-up configuration of the SFU: what it announces, how much it admits and forwards.
//!
//! Built once by the binary from Madang's config and handed to [`Sfu::new`](crate::Sfu::new);
//! every field has a default except the addresses to announce, which depend on the deployment.

use std::net::SocketAddr;
use std::time::Duration;

/// Configuration for one [`Sfu`](crate::Sfu).
#[derive(Debug, Clone, PartialEq)]
pub struct SfuConfig {
    /// Host candidates announced to every peer: the addresses on which the driver's single UDP
    /// socket receives. Give the bind address and/or the public IP that forwards to it. Firefox
    /// rejects loopback candidates, so a server reached from other machines must announce a
    /// routable address. Must not be empty.
    pub candidate_addresses: Vec<SocketAddr>,

    /// Participants admitted to one room; the next [`Sfu::join`](crate::Sfu::join) fails with
    /// [`SfuError::RoomFull`](crate::SfuError::RoomFull).
    pub max_participants_per_room: usize,

    /// Upper bound, in bits per second, on the video sent to one subscriber, shared by all the
    /// video tracks it receives. Simulcast layer selection never picks layers that would exceed
    /// it (unless even the lowest layer does), whatever the bandwidth estimate says.
    pub max_subscriber_video_bitrate: u64,

    /// Starting bandwidth estimate toward each subscriber, in bits per second, used until the
    /// estimator (transport-wide congestion control) has measured the path. The estimator runs
    /// toward subscribers of simulcast tracks, probing for the bitrate of their wished layers.
    pub initial_bitrate_estimate: u64,

    /// Minimum time between two keyframe requests sent to one publisher's layer. A request that
    /// comes sooner is sent when the interval has passed, so no subscriber waits forever.
    pub keyframe_request_interval: Duration,

    /// How long a participant whose ICE connection dropped may take to come back (for example
    /// with an ICE restart after a network change) before it is removed from its room. str0m
    /// reports the drop after about 20 s without answers to its connectivity checks, so a peer
    /// that vanishes is removed about 20 s plus this grace after its last packet.
    pub reconnect_grace: Duration,

    /// Thresholds for the speaking indicator.
    pub speaking: SpeakingConfig,
}

impl Default for SfuConfig {
    fn default() -> Self {
        SfuConfig {
            candidate_addresses: Vec::new(),
            max_participants_per_room: 25,
            max_subscriber_video_bitrate: 4_000_000,
            initial_bitrate_estimate: 1_000_000,
            keyframe_request_interval: Duration::from_millis(500),
            reconnect_grace: Duration::from_secs(5),
            speaking: SpeakingConfig::default(),
        }
    }
}

/// Hysteresis for the speaking indicator, read from the RFC 6464 audio-level header extension.
///
/// Levels are in dBov: 0 is the loudest, -127 silence. Two thresholds keep the indicator from
/// flickering: a louder one to start speaking and a quieter one that keeps it on, plus a hang-over
/// so the pauses between words do not switch it off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeakingConfig {
    /// A packet at least this loud starts the speaking state.
    pub start_level_dbov: i8,
    /// While speaking, a packet at least this loud keeps the state on.
    pub keep_level_dbov: i8,
    /// Speaking ends this long after the last packet that kept it on.
    pub hangover: Duration,
}

impl Default for SpeakingConfig {
    fn default() -> Self {
        SpeakingConfig {
            start_level_dbov: -40,
            keep_level_dbov: -50,
            hangover: Duration::from_millis(500),
        }
    }
}
