//! Madang's selective forwarding unit (SFU) for voice and video rooms, without I/O.
//!
//! Built on [str0m](https://docs.rs/str0m) and shaped like it: the caller owns the UDP socket
//! and the clock, feeds [`Input`]s into [`Sfu::handle_input`] and drains [`Output`]s from
//! [`Sfu::poll_output`] until it gets [`Output::Timeout`]. There are no sockets, threads or
//! async runtime inside, so tests run many simulated browsers against one `Sfu` in a loop with
//! a simulated clock, deterministically.
//!
//! One [`Sfu`] holds every room. All peers share one UDP port: each datagram is matched to its
//! participant by str0m's `Rtc::accepts` (ICE credentials for STUN, the nominated address for
//! the rest), with a per-address cache in front.
//!
//! # Signalling flow
//!
//! SDP travels over the gateway WebSocket, which is ordered; the SFU only produces and
//! consumes it.
//!
//! 1. **Join with the client's offer.** The client adds its own tracks (`addTransceiver` with
//!    `direction: "sendonly"`; for simulcast, `sendEncodings` with RIDs) and a data channel, so
//!    that even a listen-only client has an m-line, and sends the offer with [`TrackLabel`]s
//!    naming each sending m-line `audio`, `camera` or `screen`. [`Sfu::join`] returns the
//!    answer.
//! 2. **The SFU offers what the client receives.** Whenever tracks must be added to or removed
//!    from a subscriber (someone joins, publishes, unpublishes or leaves), the SFU emits
//!    [`SfuEvent::SendOffer`] with the mapping of its m-lines to [`TrackId`]s; the client answers
//!    and the gateway calls [`Sfu::handle_answer`]. At most one SFU offer per participant is
//!    out at a time; changes that arrive meanwhile are batched into the next one.
//! 3. **Later client offers** (start or stop screen share, ICE restart) go through
//!    [`Sfu::handle_offer`], again with labels.
//!
//! Why two offerers and not one: Chrome sends simulcast only when it is the offerer (RIDs come
//! from `sendEncodings` in the browser's own offer), so publishing must be a client offer. The
//! reverse direction must be a server offer, because only the SFU knows when other people's
//! tracks come and go; making the client re-offer for that would cost a round trip and put
//! str0m in the answerer role for m-lines it has to send on.
//!
//! # Glare
//!
//! Both sides can offer, so offers can cross. The roles are fixed, as in the WebRTC "perfect
//! negotiation" pattern: **the client is impolite, the SFU is polite.**
//! - When a client offer reaches the SFU while the SFU's offer is out, [`Sfu::handle_offer`]
//!   rolls the SFU's offer back (str0m had not applied it), answers the client, and makes its
//!   offer again, with the same changes, on the next poll.
//! - The client ignores an SFU offer that arrives while its own offer is out (it will get a
//!   fresh one after its answer). Because the gateway is ordered, the client never answers an
//!   offer that the SFU rolled back; an answer that arrives with no offer pending is refused with
//!   [`SfuError::NoPendingOffer`].
//!
//! # ICE restart
//!
//! str0m 0.25 supports both directions. A client whose network changed sends an offer with new
//! ICE credentials through [`Sfu::handle_offer`] (`createOffer({iceRestart: true})`); the SFU
//! answers with new credentials of its own. [`Sfu::restart_ice`] puts an ICE restart into the
//! SFU's next offer. A participant whose ICE connection drops has
//! [`SfuConfig::reconnect_grace`] to come back before it is removed with
//! [`LeaveReason::IceTimeout`].
//!
//! # Media
//!
//! Audio is Opus; video is VP8 or H264 (a subscriber that negotiated neither codec of a
//! publisher gets no picture from it). Frames are forwarded through str0m's frame API, which
//! retransmits on NACK toward each subscriber and asks the publisher for retransmissions on
//! its own. A video frame after unrecovered loss, a new subscription and a subscriber's PLI or
//! FIR each lead to a keyframe request to the publisher, rate-limited per layer. Simulcast
//! publishers send several layers; each subscriber receives one, chosen from its wished layer
//! ([`Sfu::set_max_video_layer`]), its bandwidth estimate (transport-wide congestion control)
//! and [`SfuConfig::max_subscriber_video_bitrate`]. A subscriber that hides a video pauses it
//! ([`Sfu::set_video_paused`]): nothing is forwarded until it resumes, on a fresh keyframe.
//!
//! # Known limits
//!
//! - The SFU does not cap what publishers send: clients set `maxBitrate` on their encodings.
//!   [`SfuConfig::max_subscriber_video_bitrate`] caps what each subscriber is sent.
//! - Layers are switched on keyframes of the whole stream; temporal layers (VP8 `tid`) and
//!   SVC are not used.
//! - One `Rtc` per participant is polled on every input addressed to it; rooms are not
//!   sharded across threads (one driver task per UDP socket).
//!
//! # A driver
//!
//! ```no_run
//! use std::net::UdpSocket;
//! use std::time::Instant;
//!
//! use madang_sfu::{Datagram, Input, Output, Sfu, SfuConfig, SfuEvent};
//!
//! let socket = UdpSocket::bind("0.0.0.0:3478")?;
//! let config = SfuConfig {
//!     candidate_addresses: vec!["203.0.113.7:3478".parse()?],
//!     ..SfuConfig::default()
//! };
//! let local = config.candidate_addresses[0];
//! let mut sfu = Sfu::new(config, Instant::now())?;
//! let mut buf = vec![0; 2000];
//! loop {
//!     // Gateway requests (join, handle_offer, handle_answer, leave, mute) are applied here too.
//!     let deadline = loop {
//!         match sfu.poll_output() {
//!             Output::Transmit(t) => {
//!                 socket.send_to(&t.contents, t.destination)?;
//!             }
//!             Output::Event(SfuEvent::SendOffer { participant, offer, tracks }) => {
//!                 // Send the offer and the track mapping to the participant's gateway session.
//!             }
//!             Output::Event(_other) => { /* relay to the room over the gateway */ }
//!             Output::Timeout(deadline) => break deadline,
//!         }
//!     };
//!     let wait = deadline.saturating_duration_since(Instant::now());
//!     socket.set_read_timeout(Some(wait.max(std::time::Duration::from_millis(1))))?;
//!     match socket.recv_from(&mut buf) {
//!         Ok((n, source)) => sfu.handle_input(Input::Receive(
//!             Instant::now(),
//!             Datagram { source, destination: local, contents: &buf[..n] },
//!         )),
//!         Err(_) => sfu.handle_input(Input::Timeout(Instant::now())),
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod error;
mod events;
mod forward;
mod ids;
mod participant;
mod sfu;
mod simulcast;
mod speaking;

pub use config::{SfuConfig, SpeakingConfig};
pub use error::SfuError;
pub use events::{Datagram, Input, LeaveReason, OfferedTrack, Output, SfuEvent, Transmit};
pub use ids::{ParticipantId, RoomId, TrackId, TrackKind, TrackLabel, UnknownTrackKind};
pub use sfu::Sfu;
pub use simulcast::VideoLayer;
/// SDP as str0m parses and writes it; serde turns it into the browser's
/// `{"type": "offer", "sdp": "…"}` JSON and back.
pub use str0m::change::{SdpAnswer, SdpOffer};
