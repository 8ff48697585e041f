//! What goes into the SFU and what comes out of it, shaped like str0m's own `Input`/`Output`.
//!
//! The driver task owns the UDP socket and the clock: it feeds received datagrams and timeouts
//! in, then polls outputs until it gets a timeout, sending datagrams and relaying events to the
//! gateway along the way. None of these types borrow str0m's, except SDP, which is carried as
//! str0m's serde-ready `SdpOffer`/`SdpAnswer` (the JSON a browser's `RTCSessionDescription`
//! produces and accepts).

use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::SdpOffer;

use crate::ids::{ParticipantId, RoomId, TrackId};

/// Input to [`Sfu::handle_input`](crate::Sfu::handle_input).
#[derive(Debug)]
pub enum Input<'a> {
    /// Time has passed, typically the deadline from the last [`Output::Timeout`].
    Timeout(Instant),
    /// A datagram arrived on the SFU's socket at the given time.
    Receive(Instant, Datagram<'a>),
}

/// One datagram received on the SFU's UDP socket.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// Who sent it.
    pub source: SocketAddr,
    /// The local address it arrived on (one of the announced candidate addresses).
    pub destination: SocketAddr,
    /// The payload as received.
    pub contents: &'a [u8],
}

/// Output of [`Sfu::poll_output`](crate::Sfu::poll_output).
#[derive(Debug)]
pub enum Output {
    /// Nothing more to do until this time (or until the next input).
    Timeout(Instant),
    /// A datagram to send.
    Transmit(Transmit),
    /// Something to tell a participant or the room over the gateway.
    Event(SfuEvent),
}

/// A datagram to send from the SFU's socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The local address to send from (one of the announced candidate addresses).
    pub source: SocketAddr,
    /// Where to send it.
    pub destination: SocketAddr,
    /// The payload.
    pub contents: Vec<u8>,
}

/// Events for the gateway to relay.
#[derive(Debug)]
pub enum SfuEvent {
    /// Send this offer to the participant and pass its answer to
    /// [`Sfu::handle_answer`](crate::Sfu::handle_answer). `tracks` lists every m-line on which
    /// the SFU sends media to this participant after the offer, so the client can tell whose
    /// camera each incoming track is.
    SendOffer {
        /// Who the offer is for.
        participant: ParticipantId,
        /// The SDP offer.
        offer: SdpOffer,
        /// What each of the SFU's sending m-lines carries.
        tracks: Vec<OfferedTrack>,
    },
    /// ICE and DTLS are up: media can flow to and from the participant.
    ParticipantConnected {
        /// The participant's room.
        room: RoomId,
        /// The participant.
        participant: ParticipantId,
    },
    /// A participant started sending a track; it is being offered to the rest of the room.
    TrackPublished {
        /// The room.
        room: RoomId,
        /// The new track.
        track: TrackId,
    },
    /// A track ended (unpublished, or its publisher left); it is being removed from the rest
    /// of the room.
    TrackUnpublished {
        /// The room.
        room: RoomId,
        /// The track that ended.
        track: TrackId,
    },
    /// The speaking indicator of a participant changed.
    SpeakingChanged {
        /// The room.
        room: RoomId,
        /// Who started or stopped speaking.
        participant: ParticipantId,
        /// Whether they are speaking now.
        speaking: bool,
    },
    /// A participant is no longer in its room. Sent for every departure, including
    /// [`Sfu::leave`](crate::Sfu::leave), after the `TrackUnpublished` events of its tracks.
    ParticipantLeft {
        /// The room it was in.
        room: RoomId,
        /// The participant.
        participant: ParticipantId,
        /// Why it left.
        reason: LeaveReason,
    },
}

/// One of the SFU's sending m-lines in an offer, and the track it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedTrack {
    /// The m-line's `mid`: the browser's `RTCRtpTransceiver.mid` for the incoming track.
    pub mid: String,
    /// The track forwarded on it.
    pub track: TrackId,
}

/// Why a participant left its room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaveReason {
    /// [`Sfu::leave`](crate::Sfu::leave) was called.
    Left,
    /// The ICE connection dropped and did not come back within
    /// [`SfuConfig::reconnect_grace`](crate::SfuConfig::reconnect_grace).
    IceTimeout,
    /// The peer closed the connection, or it failed beyond repair.
    ConnectionClosed,
}
