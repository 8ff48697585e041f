//! Joining, publishing, leaving and the signalling around them.

use std::time::Duration;

use madang_sfu::{LeaveReason, ParticipantId, RoomId, SfuError, SfuEvent, TrackId, TrackKind};

use crate::harness::{Publish, World};

fn track_of(publisher: u64, kind: TrackKind) -> TrackId {
    TrackId {
        publisher: ParticipantId(publisher),
        kind,
    }
}

#[test]
fn every_peer_receives_the_audio_camera_and_screen_of_the_others() {
    let mut world = World::new();
    let everything = Publish {
        audio: true,
        camera: true,
        screen: true,
        ..Publish::default()
    };
    world.join(1, 7, everything).unwrap();
    world.join(2, 7, Publish::audio_and_camera()).unwrap();
    world.join(3, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(2));

    for receiver in [2, 3] {
        let browser = world.browser(receiver);
        for kind in [TrackKind::Audio, TrackKind::Camera, TrackKind::Screen] {
            let frames = browser.frames_from(ParticipantId(1), kind);
            assert!(
                frames.len() > 20,
                "browser {receiver} got {} {kind} frames from 1",
                frames.len()
            );
            // The SFU's track mapping agrees with what the publisher wrote into each frame.
            let expected_kind = match kind {
                TrackKind::Audio => b'a',
                TrackKind::Camera => b'c',
                TrackKind::Screen => b's',
            };
            assert!(
                frames
                    .iter()
                    .all(|f| f.marker.publisher == 1 && f.marker.kind == expected_kind)
            );
        }
    }
    // Video starts at a keyframe.
    let first_camera = world
        .browser(3)
        .frames_from(ParticipantId(1), TrackKind::Camera)[0]
        .keyframe;
    assert!(first_camera);
    // Peer 1 receives peer 2's media, peer 2 does not receive its own, and nobody receives
    // anything from the listen-only peer 3.
    assert!(
        world
            .browser(1)
            .count_from(ParticipantId(2), TrackKind::Camera)
            > 20
    );
    assert!(
        world
            .browser(1)
            .count_from(ParticipantId(2), TrackKind::Audio)
            > 20
    );
    assert_eq!(
        world
            .browser(2)
            .count_from(ParticipantId(2), TrackKind::Audio),
        0
    );
    for browser in &world.browsers {
        assert!(browser.received.iter().all(|f| f.marker.publisher != 3));
        assert!(
            browser
                .received
                .iter()
                .all(|f| f.marker.publisher != browser.id.0 as u8)
        );
    }
    let published: Vec<TrackId> = world
        .events
        .iter()
        .filter_map(|e| match e {
            SfuEvent::TrackPublished { track, .. } => Some(*track),
            _ => None,
        })
        .collect();
    assert_eq!(
        published,
        vec![
            track_of(1, TrackKind::Audio),
            track_of(1, TrackKind::Camera),
            track_of(1, TrackKind::Screen),
            track_of(2, TrackKind::Audio),
            track_of(2, TrackKind::Camera),
        ]
    );
}

#[test]
fn rooms_are_isolated() {
    let mut world = World::new();
    world.join(1, 1, Publish::audio_and_camera()).unwrap();
    world.join(2, 2, Publish::audio_and_camera()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(1));
    assert!(world.browsers.iter().all(|b| b.received.is_empty()));
    assert_eq!(world.sfu.participants(RoomId(1)), &[ParticipantId(1)]);
    assert_eq!(world.sfu.room_of(ParticipantId(2)), Some(RoomId(2)));
}

#[test]
fn leaving_removes_the_tracks_from_everyone_and_from_later_joiners() {
    let mut world = World::new();
    world.join(1, 7, Publish::audio_and_camera()).unwrap();
    world.join(2, 7, Publish::audio_and_camera()).unwrap();
    world.join(3, 7, Publish::audio_and_camera()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(1));
    assert!(
        world
            .browser(1)
            .count_from(ParticipantId(3), TrackKind::Camera)
            > 0
    );

    let mids_of_3: Vec<(u64, String)> = [1u64, 2]
        .into_iter()
        .flat_map(|id| {
            let browser = world.browser(id);
            browser
                .tracks
                .iter()
                .filter(|(_, t)| t.publisher == ParticipantId(3))
                .map(move |(mid, _)| (id, mid.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(mids_of_3.len(), 4);

    world.sfu.leave(world.now, ParticipantId(3)).unwrap();
    let offers_before: Vec<usize> = [1, 2]
        .map(|id| world.offers_sent[&ParticipantId(id)])
        .to_vec();
    world.run_for(Duration::from_millis(500));

    for (index, id) in [1u64, 2].into_iter().enumerate() {
        // One renegotiation removes both tracks at once.
        assert_eq!(
            world.offers_sent[&ParticipantId(id)],
            offers_before[index] + 1
        );
        let browser = world.browser(id);
        assert!(
            browser
                .tracks
                .values()
                .all(|t| t.publisher != ParticipantId(3))
        );
    }
    // The SFU stopped its m-lines for peer 3's tracks in both browsers.
    for (id, mid) in &mids_of_3 {
        let media = world
            .browser(*id)
            .rtc
            .media(mid.as_str().into())
            .expect("the m-line");
        assert!(media.stopped(), "browser {id} m-line {mid} still open");
    }
    let frames_from_3 = world
        .browser(1)
        .count_from(ParticipantId(3), TrackKind::Audio);
    world.run_for(Duration::from_secs(1));
    assert_eq!(
        world
            .browser(1)
            .count_from(ParticipantId(3), TrackKind::Audio),
        frames_from_3
    );

    assert_eq!(
        world.left_events(),
        vec![(ParticipantId(3), LeaveReason::Left)]
    );
    let unpublished: Vec<TrackId> = world
        .events
        .iter()
        .filter_map(|e| match e {
            SfuEvent::TrackUnpublished { track, .. } => Some(*track),
            _ => None,
        })
        .collect();
    assert_eq!(
        unpublished,
        vec![
            track_of(3, TrackKind::Audio),
            track_of(3, TrackKind::Camera)
        ]
    );
    assert_eq!(
        world.sfu.participants(RoomId(7)),
        &[ParticipantId(1), ParticipantId(2)]
    );

    // A newcomer is offered only the tracks of those still present.
    world.join(4, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(1));
    let mut offered: Vec<TrackId> = world.browser(4).tracks.values().copied().collect();
    offered.sort();
    assert_eq!(
        offered,
        vec![
            track_of(1, TrackKind::Audio),
            track_of(1, TrackKind::Camera),
            track_of(2, TrackKind::Audio),
            track_of(2, TrackKind::Camera),
        ]
    );
    assert!(
        world
            .browser(4)
            .count_from(ParticipantId(1), TrackKind::Audio)
            > 0
    );
}

#[test]
fn the_room_limit_refuses_one_more_participant() {
    let mut world = World::with_config(|c| c.max_participants_per_room = 2);
    world.join(1, 7, Publish::nothing()).unwrap();
    world.join(2, 7, Publish::nothing()).unwrap();
    let refused = world.join(3, 7, Publish::nothing());
    assert!(
        matches!(
            refused,
            Err(SfuError::RoomFull {
                room: RoomId(7),
                limit: 2
            })
        ),
        "{refused:?}"
    );
    assert!(world.join(3, 8, Publish::nothing()).is_ok());
    // A place frees up when someone leaves.
    world.sfu.leave(world.now, ParticipantId(1)).unwrap();
    assert!(world.join(4, 7, Publish::nothing()).is_ok());
}

#[test]
fn a_participant_id_joins_only_once() {
    let mut world = World::new();
    world.join(1, 7, Publish::nothing()).unwrap();
    let twice = world.join(1, 8, Publish::nothing());
    assert!(matches!(
        twice,
        Err(SfuError::ParticipantExists(ParticipantId(1)))
    ));
}

#[test]
fn a_crossing_client_offer_wins_and_the_sfu_offers_again() {
    let mut world = World::new();
    world.join(1, 7, Publish::audio_and_camera()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_millis(200));

    // Peer 2 joins but holds the SFU's offer of peer 1's tracks; meanwhile it offers a
    // screen share of its own. The two offers cross.
    world.join(2, 7, Publish::nothing()).unwrap();
    world.browser_mut(2).answers_offers = false;
    world.run_until_connected();
    assert_eq!(world.browser(2).held_offers.len(), 1);
    let screen_offer = world.start_screen_share_offer(2);
    world.deliver_own_offer(2, screen_offer).unwrap();

    // The client ignores the SFU's crossed offer; the SFU rolled it back, so an answer to it
    // (here made by a throwaway peer) is refused.
    let (stale_offer, _) = world.browser_mut(2).held_offers.remove(0);
    let stale_answer = str0m::Rtc::new(world.now)
        .sdp_api()
        .accept_offer(stale_offer)
        .unwrap();
    let refused = world
        .sfu
        .handle_answer(world.now, ParticipantId(2), stale_answer);
    assert!(matches!(
        refused,
        Err(SfuError::NoPendingOffer(ParticipantId(2)))
    ));

    // On the next poll the SFU offers peer 1's tracks again, and peer 2 answers this time.
    world.browser_mut(2).answers_offers = true;
    world.run_for(Duration::from_secs(2));
    assert!(
        world
            .browser(2)
            .count_from(ParticipantId(1), TrackKind::Camera)
            > 20
    );
    assert!(
        world
            .browser(1)
            .count_from(ParticipantId(2), TrackKind::Screen)
            > 20
    );
}

#[test]
fn ending_a_screen_share_removes_only_that_track() {
    let mut world = World::new();
    let everything = Publish {
        audio: true,
        camera: true,
        screen: true,
        ..Publish::default()
    };
    world.join(1, 7, everything).unwrap();
    world.join(2, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(1));
    assert!(
        world
            .browser(2)
            .count_from(ParticipantId(1), TrackKind::Screen)
            > 0
    );

    let offer = world.stop_sending_offer(1, TrackKind::Screen);
    world.deliver_own_offer(1, offer).unwrap();
    world.run_for(Duration::from_millis(500));

    assert!(world.events.iter().any(|e| matches!(
        e,
        SfuEvent::TrackUnpublished { track, .. } if *track == track_of(1, TrackKind::Screen)
    )));
    let mut received: Vec<TrackId> = world.browser(2).tracks.values().copied().collect();
    received.sort();
    assert_eq!(
        received,
        vec![
            track_of(1, TrackKind::Audio),
            track_of(1, TrackKind::Camera)
        ]
    );
    let camera = world
        .browser(2)
        .count_from(ParticipantId(1), TrackKind::Camera);
    world.run_for(Duration::from_secs(1));
    assert!(
        world
            .browser(2)
            .count_from(ParticipantId(1), TrackKind::Camera)
            > camera + 20
    );
}

#[test]
fn a_config_without_usable_addresses_or_room_is_refused() {
    let now = std::time::Instant::now();
    let refused = |config| madang_sfu::Sfu::new(config, now).err();
    let base = madang_sfu::SfuConfig::default();
    assert!(matches!(
        refused(base.clone()),
        Some(SfuError::NoCandidateAddress)
    ));
    let port_zero = madang_sfu::SfuConfig {
        candidate_addresses: vec!["203.0.113.1:0".parse().unwrap()],
        ..base.clone()
    };
    assert!(matches!(
        refused(port_zero),
        Some(SfuError::InvalidCandidateAddress(_))
    ));
    let no_room = madang_sfu::SfuConfig {
        candidate_addresses: vec!["203.0.113.1:3478".parse().unwrap()],
        max_participants_per_room: 0,
        ..base
    };
    assert!(matches!(
        refused(no_room),
        Some(SfuError::NoRoomForParticipants)
    ));
}
