//! Connections that vanish, move or restart.

use std::time::Duration;

use madang_sfu::{LeaveReason, ParticipantId, SfuError, TrackKind};

use crate::harness::{Publish, World};

#[test]
fn a_vanished_peer_is_dropped_after_its_ice_timeout() {
    let mut world = World::with_config(|c| c.reconnect_grace = Duration::from_secs(5));
    world.join(1, 7, Publish::audio_and_camera()).unwrap();
    world.join(2, 7, Publish::audio_and_camera()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(1));

    world.browser_mut(2).online = false;
    let vanished = world.now;
    world.run_until(Duration::from_secs(90), "peer 2 dropped", |w| {
        !w.left_events().is_empty()
    });
    assert_eq!(
        world.left_events(),
        vec![(ParticipantId(2), LeaveReason::IceTimeout)]
    );
    // Not before ICE noticed and the grace period passed.
    assert!(world.now - vanished >= Duration::from_secs(5));
    world.run_for(Duration::from_millis(500));
    assert!(
        world
            .browser(1)
            .tracks
            .values()
            .all(|t| t.publisher != ParticipantId(2))
    );
    assert!(matches!(
        world.sfu.leave(world.now, ParticipantId(2)),
        Err(SfuError::UnknownParticipant(ParticipantId(2)))
    ));
}

#[test]
fn a_client_ice_restart_from_a_new_address_keeps_media_flowing() {
    let mut world = World::new();
    world.join(1, 7, Publish::audio_and_camera()).unwrap();
    world.join(2, 7, Publish::audio_and_camera()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(1));

    world
        .move_and_restart_ice(2, "198.51.100.2:6000".parse().unwrap())
        .unwrap();
    world.run_for(Duration::from_secs(3));
    let before = world
        .browser(2)
        .count_from(ParticipantId(1), TrackKind::Audio);
    let sent_before = world
        .browser(1)
        .count_from(ParticipantId(2), TrackKind::Audio);
    world.run_for(Duration::from_secs(2));
    assert!(
        world
            .browser(2)
            .count_from(ParticipantId(1), TrackKind::Audio)
            > before + 50
    );
    assert!(
        world
            .browser(1)
            .count_from(ParticipantId(2), TrackKind::Audio)
            > sent_before + 50
    );
    assert!(world.left_events().is_empty());
}

#[test]
fn a_server_ice_restart_is_offered_and_the_connection_survives() {
    let mut world = World::new();
    world.join(1, 7, Publish::audio_and_camera()).unwrap();
    world.join(2, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(1));
    let offers = world.offers_sent[&ParticipantId(2)];

    world.sfu.restart_ice(ParticipantId(2)).unwrap();
    world.run_for(Duration::from_secs(3));
    assert_eq!(world.offers_sent[&ParticipantId(2)], offers + 1);
    let before = world
        .browser(2)
        .count_from(ParticipantId(1), TrackKind::Audio);
    world.run_for(Duration::from_secs(1));
    assert!(
        world
            .browser(2)
            .count_from(ParticipantId(1), TrackKind::Audio)
            > before + 30
    );
    assert!(world.left_events().is_empty());
}
