//! A simulated network of browsers around one SFU, run by a simulated clock.
//!
//! Each browser is a str0m `Rtc` acting as a WebRTC client: it offers its tracks, answers the
//! SFU's offers, sends Opus and VP8 frames at real-time rates, asks for keyframes after loss as
//! browsers do, and records what it receives. Datagrams travel through [`Network`], which adds
//! latency and drops a seeded, reproducible share of them. Nothing sleeps: the loop jumps from
//! one deadline to the next.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use madang_sfu::{
    Datagram, Input, LeaveReason, OfferedTrack, Output, ParticipantId, RoomId, Sfu, SfuConfig,
    SfuError, SfuEvent, TrackId, TrackKind, TrackLabel,
};
use str0m::change::{SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{
    Direction, KeyframeRequestKind, MediaKind, MediaTime, Mid, Rid, Simulcast, SimulcastLayer,
};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Rtc};

pub const SFU_ADDRESS: &str = "203.0.113.1:3478";
/// One-way latency of every simulated link.
const LATENCY: Duration = Duration::from_millis(10);
/// The smallest step the clock takes, so a deadline that is already due cannot stall the loop.
const MIN_STEP: Duration = Duration::from_micros(500);
const AUDIO_INTERVAL: Duration = Duration::from_millis(20);
const VIDEO_INTERVAL: Duration = Duration::from_millis(33);
const VP8_KEYFRAME: u8 = 0x10;
const VP8_DELTA_FRAME: u8 = 0x11;

/// What a simulated browser publishes when it joins.
#[derive(Debug, Clone, Default)]
pub struct Publish {
    pub audio: bool,
    pub camera: bool,
    pub screen: bool,
    /// RIDs of the camera's simulcast layers, each with its frame size in bytes.
    pub camera_simulcast: Vec<(&'static str, usize)>,
}

impl Publish {
    pub fn nothing() -> Self {
        Publish::default()
    }

    pub fn audio_and_camera() -> Self {
        Publish {
            audio: true,
            camera: true,
            ..Publish::default()
        }
    }
}

/// One track the browser sends.
#[derive(Debug)]
struct Sending {
    mid: Mid,
    kind: TrackKind,
    /// Simulcast layers with their frame sizes; a single unnamed layer otherwise.
    layers: Vec<(Option<Rid>, usize)>,
    frames_sent: u64,
    /// A keyframe was asked for on this layer; the next frame is one.
    keyframe_wanted: Vec<Option<Rid>>,
}

/// A frame the browser received from the SFU.
#[derive(Debug, Clone)]
pub struct ReceivedFrame {
    pub at: Instant,
    /// The track the SFU said this m-line carries.
    pub track: Option<TrackId>,
    /// Who sent it, what kind and which layer, as the publisher wrote into the payload.
    pub marker: FrameMarker,
    pub keyframe: bool,
    pub time: MediaTime,
}

/// Identity written into every payload by the publishing browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameMarker {
    pub publisher: u8,
    pub kind: u8,
    pub layer: u8,
}

pub struct Browser {
    pub id: ParticipantId,
    pub address: SocketAddr,
    pub rtc: Rtc,
    sending: Vec<Sending>,
    /// What each of the SFU's m-lines carries, from its latest offer.
    pub tracks: HashMap<String, TrackId>,
    pub received: Vec<ReceivedFrame>,
    /// Keyframe requests the SFU sent to this browser, with when they arrived.
    pub keyframe_requests: Vec<(Instant, Option<Rid>)>,
    pub connected: bool,
    /// A vanished browser sends nothing and receives nothing.
    pub online: bool,
    /// When false, offers from the SFU are held in `held_offers` instead of answered.
    pub answers_offers: bool,
    pub held_offers: Vec<(SdpOffer, Vec<OfferedTrack>)>,
    /// The browser's own offer waiting for the SFU's answer.
    own_offer: Option<SdpPendingOffer>,
    /// Level written into the audio-level extension of outgoing Opus packets.
    pub audio_level_dbov: i8,
    deadline: Instant,
    next_audio: Instant,
    next_video: Instant,
}

impl Browser {
    fn marker_id(&self) -> u8 {
        u8::try_from(self.id.0).expect("test participant ids fit a byte")
    }

    /// Frames received on the track `kind` of `publisher`.
    pub fn frames_from(&self, publisher: ParticipantId, kind: TrackKind) -> Vec<&ReceivedFrame> {
        self.received
            .iter()
            .filter(|f| f.track == Some(TrackId { publisher, kind }))
            .collect()
    }

    pub fn count_from(&self, publisher: ParticipantId, kind: TrackKind) -> usize {
        self.frames_from(publisher, kind).len()
    }

    pub fn sent_frames(&self, kind: TrackKind) -> u64 {
        self.sending
            .iter()
            .find(|s| s.kind == kind)
            .map_or(0, |s| s.frames_sent)
    }

    /// Asks the SFU for a keyframe on the m-line carrying `track`, as a decoder would.
    pub fn request_keyframe(&mut self, track: TrackId) {
        let mid = self
            .tracks
            .iter()
            .find(|(_, t)| **t == track)
            .map(|(mid, _)| Mid::from(mid.as_str()))
            .expect("the browser receives the track");
        self.rtc
            .writer(mid)
            .expect("a receiving m-line")
            .request_keyframe(None, KeyframeRequestKind::Pli)
            .expect("PLI is negotiated");
    }
}

/// A datagram on its way.
struct InFlight {
    deliver_at: Instant,
    source: SocketAddr,
    destination: SocketAddr,
    contents: Vec<u8>,
}

/// Links between the SFU and the browsers: fixed latency and seeded loss.
pub struct Network {
    in_flight: Vec<InFlight>,
    /// Share of datagrams lost, in per cent, to and from each browser address.
    loss_percent: HashMap<SocketAddr, u32>,
    rng_state: u64,
    pub dropped: usize,
}

impl Network {
    fn new(seed: u64) -> Self {
        Network {
            in_flight: Vec::new(),
            loss_percent: HashMap::new(),
            rng_state: seed,
            dropped: 0,
        }
    }

    /// xorshift64*: deterministic and good enough to pick which datagrams to lose.
    fn next_random(&mut self) -> u64 {
        let mut x = self.rng_state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng_state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn send(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        contents: Vec<u8>,
    ) {
        let loss = self
            .loss_percent
            .get(&source)
            .or_else(|| self.loss_percent.get(&destination))
            .copied()
            .unwrap_or(0);
        if loss > 0 && self.next_random() % 100 < u64::from(loss) {
            self.dropped += 1;
            return;
        }
        self.in_flight.push(InFlight {
            deliver_at: now + LATENCY,
            source,
            destination,
            contents,
        });
    }

    fn next_delivery(&self) -> Option<Instant> {
        self.in_flight.iter().map(|d| d.deliver_at).min()
    }

    fn take_due(&mut self, now: Instant) -> Vec<InFlight> {
        let (due, later) = std::mem::take(&mut self.in_flight)
            .into_iter()
            .partition(|d| d.deliver_at <= now);
        self.in_flight = later;
        due
    }
}

/// The SFU, its browsers, the network between them, and the clock.
pub struct World {
    pub now: Instant,
    pub sfu: Sfu,
    sfu_deadline: Instant,
    pub browsers: Vec<Browser>,
    pub net: Network,
    /// SFU events other than offers, in order.
    pub events: Vec<SfuEvent>,
    /// How many offers the SFU sent to each participant.
    pub offers_sent: HashMap<ParticipantId, usize>,
}

impl World {
    pub fn new() -> Self {
        World::with_config(|_| {})
    }

    pub fn with_config(adjust: impl FnOnce(&mut SfuConfig)) -> Self {
        let mut config = SfuConfig {
            candidate_addresses: vec![SFU_ADDRESS.parse().unwrap()],
            ..SfuConfig::default()
        };
        adjust(&mut config);
        let now = Instant::now();
        World {
            now,
            sfu: Sfu::new(config, now).expect("a valid config"),
            sfu_deadline: now,
            browsers: Vec::new(),
            net: Network::new(0x5eed_cafe_f00d_beef),
            events: Vec::new(),
            offers_sent: HashMap::new(),
        }
    }

    fn sfu_address() -> SocketAddr {
        SFU_ADDRESS.parse().unwrap()
    }

    pub fn browser(&self, id: u64) -> &Browser {
        self.browsers
            .iter()
            .find(|b| b.id == ParticipantId(id))
            .expect("a browser with this id")
    }

    pub fn browser_mut(&mut self, id: u64) -> &mut Browser {
        self.browsers
            .iter_mut()
            .find(|b| b.id == ParticipantId(id))
            .expect("a browser with this id")
    }

    /// A browser with id `id` joins `room`, publishing `publish`.
    pub fn join(&mut self, id: u64, room: u64, publish: Publish) -> Result<(), SfuError> {
        let address: SocketAddr = format!("192.0.2.{id}:5000").parse().unwrap();
        let mut rtc = Rtc::builder().build(self.now);
        rtc.add_local_candidate(Candidate::host(address, "udp").unwrap());

        let mut change = rtc.sdp_api();
        let mut sending = Vec::new();
        let mut labels = Vec::new();
        let mut add =
            |change: &mut str0m::change::SdpApi, kind: TrackKind, layers: &[(&str, usize)]| {
                let media_kind = if kind.is_audio() {
                    MediaKind::Audio
                } else {
                    MediaKind::Video
                };
                let simulcast = (!layers.is_empty()).then(|| {
                    let mut simulcast = Simulcast::new();
                    for (rid, _) in layers {
                        simulcast.add_send_layer(SimulcastLayer::new(rid));
                    }
                    simulcast
                });
                let mid = change.add_media(media_kind, Direction::SendOnly, None, None, simulcast);
                // Video frames span three packets, so a frame survives only if all of them do.
                let size = if kind.is_audio() { 80 } else { 2_500 };
                let layers = if layers.is_empty() {
                    vec![(None, size)]
                } else {
                    layers
                        .iter()
                        .map(|&(rid, size)| (Some(Rid::from(rid)), size))
                        .collect()
                };
                labels.push(TrackLabel::new(mid.to_string(), kind));
                sending.push(Sending {
                    mid,
                    kind,
                    layers,
                    frames_sent: 0,
                    keyframe_wanted: Vec::new(),
                });
            };
        if publish.audio {
            add(&mut change, TrackKind::Audio, &[]);
        }
        if publish.camera {
            add(&mut change, TrackKind::Camera, &publish.camera_simulcast);
        }
        if publish.screen {
            add(&mut change, TrackKind::Screen, &[]);
        }
        // Like a browser client, always bring a data channel so the offer has an m-line.
        change.add_channel("madang".into());
        let (offer, pending) = change.apply().expect("an offer");

        let answer = self
            .sfu
            .join(self.now, RoomId(room), ParticipantId(id), offer, &labels)?;
        rtc.sdp_api()
            .accept_answer(pending, answer)
            .expect("the SFU's answer applies");
        self.browsers.push(Browser {
            id: ParticipantId(id),
            address,
            rtc,
            sending,
            tracks: HashMap::new(),
            received: Vec::new(),
            keyframe_requests: Vec::new(),
            connected: false,
            online: true,
            answers_offers: true,
            held_offers: Vec::new(),
            own_offer: None,
            audio_level_dbov: -127,
            deadline: self.now,
            next_audio: self.now,
            next_video: self.now,
        });
        Ok(())
    }

    /// The browser starts a screen share with its own offer (the offer only; see
    /// [`World::deliver_own_offer`]), as the impolite side of negotiation.
    pub fn start_screen_share_offer(&mut self, id: u64) -> SdpOffer {
        let browser = self.browser_mut(id);
        let mut change = browser.rtc.sdp_api();
        let mid = change.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
        let (offer, pending) = change.apply().expect("an offer");
        browser.own_offer = Some(pending);
        browser.sending.push(Sending {
            mid,
            kind: TrackKind::Screen,
            layers: vec![(None, 1_000)],
            frames_sent: 0,
            keyframe_wanted: Vec::new(),
        });
        offer
    }

    /// The browser stops sending `kind` (say, ends its screen share) with its own offer.
    pub fn stop_sending_offer(&mut self, id: u64, kind: TrackKind) -> SdpOffer {
        let browser = self.browser_mut(id);
        let index = browser
            .sending
            .iter()
            .position(|s| s.kind == kind)
            .expect("the browser sends this kind");
        let stopped = browser.sending.remove(index);
        let mut change = browser.rtc.sdp_api();
        change.stop_media(stopped.mid);
        let (offer, pending) = change.apply().expect("an offer");
        browser.own_offer = Some(pending);
        offer
    }

    /// Gives the browser's own offer to the SFU and applies the answer.
    pub fn deliver_own_offer(&mut self, id: u64, offer: SdpOffer) -> Result<(), SfuError> {
        let labels: Vec<TrackLabel> = self
            .browser(id)
            .sending
            .iter()
            .map(|s| TrackLabel::new(s.mid.to_string(), s.kind))
            .collect();
        let answer = self
            .sfu
            .handle_offer(self.now, ParticipantId(id), offer, &labels)?;
        let browser = self.browser_mut(id);
        let pending = browser.own_offer.take().expect("an own offer is out");
        browser
            .rtc
            .sdp_api()
            .accept_answer(pending, answer)
            .expect("the SFU's answer applies");
        Ok(())
    }

    /// The browser's network changes: new address, and an ICE restart offer from it.
    pub fn move_and_restart_ice(
        &mut self,
        id: u64,
        new_address: SocketAddr,
    ) -> Result<(), SfuError> {
        let browser = self.browser_mut(id);
        browser.address = new_address;
        let mut change = browser.rtc.sdp_api();
        change.ice_restart(false);
        let (offer, pending) = change.apply().expect("an ICE restart offer");
        browser.own_offer = Some(pending);
        self.deliver_own_offer(id, offer)?;
        // The restart takes effect with the answer and clears the old candidates.
        self.browser_mut(id)
            .rtc
            .add_local_candidate(Candidate::host(new_address, "udp").unwrap());
        Ok(())
    }

    pub fn set_loss_percent(&mut self, id: u64, percent: u32) {
        let address = self.browser(id).address;
        self.net.loss_percent.insert(address, percent);
    }

    /// Runs the world for `duration` of simulated time.
    pub fn run_for(&mut self, duration: Duration) {
        let end = self.now + duration;
        while self.now < end {
            self.step(end);
        }
    }

    /// Runs until `done` holds, failing the test after `limit` of simulated time.
    pub fn run_until(&mut self, limit: Duration, what: &str, done: impl Fn(&World) -> bool) {
        let end = self.now + limit;
        while !done(self) {
            assert!(self.now < end, "{what}: not reached within {limit:?}");
            self.step(end);
        }
    }

    pub fn run_until_connected(&mut self) {
        self.run_until(Duration::from_secs(5), "all browsers connected", |w| {
            w.browsers.iter().all(|b| !b.online || b.connected)
        });
    }

    fn step(&mut self, end: Instant) {
        self.poll_sfu();
        for index in 0..self.browsers.len() {
            self.poll_browser(index);
        }

        let mut next = end.min(self.sfu_deadline);
        if let Some(delivery) = self.net.next_delivery() {
            next = next.min(delivery);
        }
        for browser in self.browsers.iter().filter(|b| b.online) {
            next = next.min(browser.deadline);
            if browser.connected && !browser.sending.is_empty() {
                next = next.min(browser.next_audio).min(browser.next_video);
            }
        }
        self.now = next.max(self.now + MIN_STEP);

        for datagram in self.net.take_due(self.now) {
            self.deliver(datagram);
        }
        if self.sfu_deadline <= self.now {
            self.sfu.handle_input(Input::Timeout(self.now));
        }
        let now = self.now;
        for browser in self.browsers.iter_mut().filter(|b| b.online) {
            if browser.deadline <= now {
                browser
                    .rtc
                    .handle_input(str0m::Input::Timeout(now))
                    .expect("browser handles timeout");
            }
            if browser.connected {
                send_media(browser, now);
            }
        }
    }

    fn deliver(&mut self, datagram: InFlight) {
        let contents = datagram.contents.as_slice();
        if datagram.destination == Self::sfu_address() {
            self.sfu.handle_input(Input::Receive(
                self.now,
                Datagram {
                    source: datagram.source,
                    destination: datagram.destination,
                    contents,
                },
            ));
            return;
        }
        let now = self.now;
        let Some(browser) = self
            .browsers
            .iter_mut()
            .find(|b| b.online && b.address == datagram.destination)
        else {
            return;
        };
        let input = str0m::Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source: datagram.source,
                destination: datagram.destination,
                contents: contents.try_into().expect("a WebRTC datagram"),
            },
        );
        browser
            .rtc
            .handle_input(input)
            .expect("browser handles datagram");
    }

    fn poll_sfu(&mut self) {
        loop {
            match self.sfu.poll_output() {
                Output::Timeout(deadline) => {
                    self.sfu_deadline = deadline;
                    return;
                }
                Output::Transmit(transmit) => {
                    self.net.send(
                        self.now,
                        transmit.source,
                        transmit.destination,
                        transmit.contents,
                    );
                }
                Output::Event(SfuEvent::SendOffer {
                    participant,
                    offer,
                    tracks,
                }) => {
                    *self.offers_sent.entry(participant).or_default() += 1;
                    self.offer_to_browser(participant, offer, tracks);
                }
                Output::Event(event) => self.events.push(event),
            }
        }
    }

    /// Hands an SFU offer to its browser, which answers unless it holds offers or has its own
    /// offer out (the impolite side ignores a crossing offer).
    fn offer_to_browser(
        &mut self,
        participant: ParticipantId,
        offer: SdpOffer,
        tracks: Vec<OfferedTrack>,
    ) {
        let Some(browser) = self.browsers.iter_mut().find(|b| b.id == participant) else {
            return;
        };
        if browser.own_offer.is_some() {
            return;
        }
        if !browser.answers_offers {
            browser.held_offers.push((offer, tracks));
            return;
        }
        let answer = browser
            .rtc
            .sdp_api()
            .accept_offer(offer)
            .expect("the browser accepts the SFU's offer");
        browser.tracks = tracks.into_iter().map(|t| (t.mid, t.track)).collect();
        self.sfu
            .handle_answer(self.now, participant, answer)
            .expect("the SFU accepts the answer");
    }

    fn poll_browser(&mut self, index: usize) {
        let now = self.now;
        let browser = &mut self.browsers[index];
        if !browser.online {
            return;
        }
        loop {
            match browser.rtc.poll_output().expect("browser polls") {
                str0m::Output::Timeout(deadline) => {
                    browser.deadline = deadline;
                    return;
                }
                str0m::Output::Transmit(transmit) => {
                    self.net.send(
                        now,
                        transmit.source,
                        transmit.destination,
                        transmit.contents.into(),
                    );
                }
                str0m::Output::Event(event) => on_browser_event(browser, now, event),
            }
        }
    }

    /// SFU events of one kind, for assertions.
    pub fn left_events(&self) -> Vec<(ParticipantId, LeaveReason)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                SfuEvent::ParticipantLeft {
                    participant,
                    reason,
                    ..
                } => Some((*participant, *reason)),
                _ => None,
            })
            .collect()
    }

    pub fn speaking_events(&self, who: u64) -> Vec<bool> {
        self.events
            .iter()
            .filter_map(|e| match e {
                SfuEvent::SpeakingChanged {
                    participant,
                    speaking,
                    ..
                } if *participant == ParticipantId(who) => Some(*speaking),
                _ => None,
            })
            .collect()
    }
}

fn on_browser_event(browser: &mut Browser, now: Instant, event: Event) {
    match event {
        Event::Connected => browser.connected = true,
        Event::MediaData(data) => {
            let marker = FrameMarker {
                publisher: data.data[1],
                kind: data.data[2],
                layer: data.data[3],
            };
            let track = browser.tracks.get(&data.mid.to_string()).copied();
            let keyframe = data.is_keyframe();
            // Like a browser's decoder: after unrecovered loss, ask for a keyframe.
            if !data.contiguous
                && track.is_some_and(|t| !t.kind.is_audio())
                && let Some(mut writer) = browser.rtc.writer(data.mid)
            {
                let _ = writer.request_keyframe(None, KeyframeRequestKind::Pli);
            }
            browser.received.push(ReceivedFrame {
                at: now,
                track,
                marker,
                keyframe,
                time: data.time,
            });
        }
        Event::KeyframeRequest(request) => {
            browser.keyframe_requests.push((now, request.rid));
            if let Some(sending) = browser.sending.iter_mut().find(|s| s.mid == request.mid) {
                sending.keyframe_wanted.push(request.rid);
            }
        }
        _ => {}
    }
}

fn kind_byte(kind: TrackKind) -> u8 {
    match kind {
        TrackKind::Audio => b'a',
        TrackKind::Camera => b'c',
        TrackKind::Screen => b's',
    }
}

/// Writes the frames that are due: Opus every 20 ms, VP8 every 33 ms (a keyframe first and
/// whenever one is asked for).
fn send_media(browser: &mut Browser, now: Instant) {
    let publisher = browser.marker_id();
    let audio_due = browser.next_audio <= now;
    let video_due = browser.next_video <= now;
    if audio_due {
        browser.next_audio = now + AUDIO_INTERVAL;
    }
    if video_due {
        browser.next_video = now + VIDEO_INTERVAL;
    }
    let level = browser.audio_level_dbov;
    for sending in &mut browser.sending {
        let is_audio = sending.kind.is_audio();
        if (is_audio && !audio_due) || (!is_audio && !video_due) {
            continue;
        }
        let frame = sending.frames_sent;
        sending.frames_sent += 1;
        let Some(writer) = browser.rtc.writer(sending.mid) else {
            continue;
        };
        let codec = if is_audio { Codec::Opus } else { Codec::Vp8 };
        let pt = writer
            .payload_params()
            .find(|p| p.spec().codec == codec)
            .map(|p| p.pt())
            .expect("the codec is negotiated");
        for &(rid, size) in &sending.layers {
            let keyframe = frame == 0 || sending.keyframe_wanted.contains(&rid);
            let mut payload = vec![0x42; size];
            payload[0] = if keyframe {
                VP8_KEYFRAME
            } else {
                VP8_DELTA_FRAME
            };
            payload[1] = publisher;
            payload[2] = kind_byte(sending.kind);
            payload[3] = rid.map_or(b'-', |r| r.as_bytes()[0]);
            let time = if is_audio {
                MediaTime::from_millis(frame * 20).rebase(str0m::media::Frequency::FORTY_EIGHT_KHZ)
            } else {
                MediaTime::from_90khz(frame * 3_000)
            };
            let Some(mut writer) = browser.rtc.writer(sending.mid) else {
                continue;
            };
            if let Some(rid) = rid {
                writer = writer.rid(rid);
            }
            if is_audio {
                writer = writer.audio_level(level, level > -50);
            }
            writer.write(pt, now, time, payload).expect("frame written");
        }
        sending.keyframe_wanted.clear();
    }
}
