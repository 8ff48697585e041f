//! Identifiers the caller chooses (rooms, participants) and the names of published tracks.
//!
//! Rooms and participants are numbered by the caller (the gateway owns voice channels and voice
//! sessions), so the SFU never mints ids of its own and needs no lookup table to translate them.

use std::fmt;
use std::str::FromStr;

/// One voice/video room, e.g. a voice channel. Chosen by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoomId(pub u64);

/// One participant connection (one browser tab in one room). Chosen by the caller and unique
/// within one [`Sfu`](crate::Sfu): a user who joins from two devices is two participants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParticipantId(pub u64);

impl fmt::Display for RoomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a published track carries. A participant publishes at most one track of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TrackKind {
    /// The microphone (Opus).
    Audio,
    /// The camera (VP8 or H264, optionally simulcast).
    Camera,
    /// A screen share, a second video track next to the camera.
    Screen,
}

impl TrackKind {
    /// The label used on the wire: `audio`, `camera` or `screen`.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackKind::Audio => "audio",
            TrackKind::Camera => "camera",
            TrackKind::Screen => "screen",
        }
    }

    /// Whether this kind travels in an audio m-line (as opposed to a video one).
    pub fn is_audio(self) -> bool {
        self == TrackKind::Audio
    }
}

impl fmt::Display for TrackKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A label that is not `audio`, `camera` or `screen`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown track kind {0:?}: expected audio, camera or screen")]
pub struct UnknownTrackKind(pub String);

impl FromStr for TrackKind {
    type Err = UnknownTrackKind;

    fn from_str(label: &str) -> Result<Self, Self::Err> {
        match label {
            "audio" => Ok(TrackKind::Audio),
            "camera" => Ok(TrackKind::Camera),
            "screen" => Ok(TrackKind::Screen),
            other => Err(UnknownTrackKind(other.to_owned())),
        }
    }
}

/// One published track in a room: whose it is and what it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrackId {
    /// The participant sending the track.
    pub publisher: ParticipantId,
    /// What the track carries.
    pub kind: TrackKind,
}

impl fmt::Display for TrackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.publisher, self.kind)
    }
}

/// Declares which of the client's m-lines (by `mid`) carries which kind of track. Sent by the
/// client next to every offer it makes, because SDP alone cannot tell a camera from a screen.
/// An m-line without a label counts as `audio` or `camera` by its media kind; a label whose
/// kind does not match the m-line's media kind is ignored the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackLabel {
    /// The m-line's `mid` as the browser reports it in `RTCRtpTransceiver.mid`.
    pub mid: String,
    /// What the m-line carries.
    pub kind: TrackKind,
}

impl TrackLabel {
    /// Labels the m-line `mid` as carrying `kind`.
    pub fn new(mid: impl Into<String>, kind: TrackKind) -> Self {
        TrackLabel {
            mid: mid.into(),
            kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_kind_labels_round_trip() {
        for kind in [TrackKind::Audio, TrackKind::Camera, TrackKind::Screen] {
            assert_eq!(kind.as_str().parse::<TrackKind>(), Ok(kind));
        }
        assert_eq!(
            "microphone".parse::<TrackKind>(),
            Err(UnknownTrackKind("microphone".into()))
        );
    }
}
