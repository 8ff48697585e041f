//! Errors the caller can cause: bad configuration, unknown ids, full rooms, unusable SDP.
//!
//! Anything else (a broken invariant inside the SFU) is a bug and panics.

use std::net::SocketAddr;

use crate::ids::{ParticipantId, RoomId, TrackId, TrackKind};

/// Why an [`Sfu`](crate::Sfu) call was refused. The SFU's state is unchanged by a refused call,
/// except where a variant says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    /// [`SfuConfig::candidate_addresses`](crate::SfuConfig::candidate_addresses) is empty.
    #[error("no candidate address to announce")]
    NoCandidateAddress,

    /// A configured candidate address cannot be announced (for example port 0).
    #[error("candidate address {0} cannot be announced")]
    InvalidCandidateAddress(SocketAddr),

    /// [`SfuConfig::max_participants_per_room`](crate::SfuConfig::max_participants_per_room) is 0.
    #[error("max participants per room must be at least 1")]
    NoRoomForParticipants,

    /// The room already holds the configured maximum of participants.
    #[error("room {room} is full ({limit} participants)")]
    RoomFull {
        /// The room that was asked for.
        room: RoomId,
        /// The configured limit.
        limit: usize,
    },

    /// A participant with this id is already in a room.
    #[error("participant {0} has already joined")]
    ParticipantExists(ParticipantId),

    /// No participant with this id is in any room.
    #[error("participant {0} is not in a room")]
    UnknownParticipant(ParticipantId),

    /// The track labels sent with an offer name one kind twice.
    #[error("track kind {0} is labelled on more than one m-line")]
    DuplicateTrackLabel(TrackKind),

    /// The subscriber does not receive this track.
    #[error("participant {subscriber} does not receive track {track}")]
    NotSubscribed {
        /// The participant that was asked about.
        subscriber: ParticipantId,
        /// The track it does not receive.
        track: TrackId,
    },

    /// The subscriber has no usable m-line with this `mid`: it never had one, the track on it
    /// ended, or the answer that makes it usable has not been applied yet.
    #[error("participant {subscriber} receives nothing on m-line {mid:?}")]
    UnknownMid {
        /// The participant that was asked about.
        subscriber: ParticipantId,
        /// The m-line it named.
        mid: String,
    },

    /// Only video tracks can be paused.
    #[error("track {0} is not a video track")]
    NotVideo(TrackId),

    /// An answer arrived but no offer from the SFU is waiting for one: it answers an offer
    /// that was rolled back because the client's own offer crossed it (see the crate docs).
    #[error("participant {0} sent an answer but no offer is pending")]
    NoPendingOffer(ParticipantId),

    /// The client's SDP could not be applied. For an answer, the SFU rolls the offer back and
    /// will offer its changes again.
    #[error("participant {participant}: SDP rejected: {source}")]
    RejectedSdp {
        /// The participant whose SDP was rejected.
        participant: ParticipantId,
        /// What str0m found wrong with it.
        #[source]
        source: str0m::RtcError,
    },
}
