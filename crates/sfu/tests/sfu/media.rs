//! Forwarding: keyframes, loss, mute, speaking indicators and simulcast layers.

use std::time::Duration;

use madang_sfu::{ParticipantId, SfuError, TrackId, TrackKind, VideoLayer};

use crate::harness::{Publish, World};

fn camera_of(publisher: u64) -> TrackId {
    TrackId {
        publisher: ParticipantId(publisher),
        kind: TrackKind::Camera,
    }
}

#[test]
fn a_joining_subscriber_gets_a_keyframe_requested_from_the_publisher() {
    let mut world = World::new();
    world.join(1, 7, Publish::audio_and_camera()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(2));
    // Alone in the room, nobody needs a keyframe from peer 1 beyond its first frame.
    assert!(world.browser(1).keyframe_requests.is_empty());

    world.join(2, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    world.run_until(Duration::from_secs(2), "peer 2 sees video", |w| {
        w.browser(2).count_from(ParticipantId(1), TrackKind::Camera) > 0
    });
    assert!(!world.browser(1).keyframe_requests.is_empty());
    // The simulated publisher sends keyframes only when asked, so peer 2's picture can only
    // start from the requested keyframe: its first frame must be one.
    let first = world
        .browser(2)
        .frames_from(ParticipantId(1), TrackKind::Camera)[0]
        .keyframe;
    assert!(first);
}

#[test]
fn a_subscribers_keyframe_request_reaches_the_publisher() {
    let mut world = World::new();
    world.join(1, 7, Publish::audio_and_camera()).unwrap();
    world.join(2, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(2));
    let before = world.browser(1).keyframe_requests.len();
    let keyframes_before = world
        .browser(2)
        .frames_from(ParticipantId(1), TrackKind::Camera)
        .iter()
        .filter(|f| f.keyframe)
        .count();

    world.browser_mut(2).request_keyframe(camera_of(1));
    world.run_for(Duration::from_secs(1));

    assert_eq!(world.browser(1).keyframe_requests.len(), before + 1);
    let keyframes_after = world
        .browser(2)
        .frames_from(ParticipantId(1), TrackKind::Camera)
        .iter()
        .filter(|f| f.keyframe)
        .count();
    assert_eq!(keyframes_after, keyframes_before + 1);
}

#[test]
fn random_loss_is_repaired_by_retransmission() {
    let mut world = World::new();
    world.join(1, 7, Publish::audio_and_camera()).unwrap();
    world.join(2, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(1));
    let sent_before = world.browser(1).sent_frames(TrackKind::Camera);
    let received_before = world
        .browser(2)
        .count_from(ParticipantId(1), TrackKind::Camera);

    // 10 % loss on both links, both ways: a three-packet frame crosses both links intact
    // only 0.9^6 ≈ 53 % of the time on its own, so nearly all frames arriving means NACKs and
    // retransmissions did their work on both legs.
    world.set_loss_percent(1, 10);
    world.set_loss_percent(2, 10);
    world.run_for(Duration::from_secs(10));
    world.set_loss_percent(1, 0);
    world.set_loss_percent(2, 0);
    world.run_for(Duration::from_secs(1));

    assert!(
        world.net.dropped > 100,
        "only {} dropped",
        world.net.dropped
    );
    let sent = world.browser(1).sent_frames(TrackKind::Camera) - sent_before;
    let received = world
        .browser(2)
        .count_from(ParticipantId(1), TrackKind::Camera)
        - received_before;
    assert!(
        received * 100 >= sent as usize * 97,
        "{received} of {sent} frames arrived"
    );
}

#[test]
fn an_uplink_outage_makes_the_sfu_ask_the_publisher_for_a_keyframe() {
    let mut world = World::new();
    world.join(1, 7, Publish::audio_and_camera()).unwrap();
    world.join(2, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(2));
    let requests_before = world.browser(1).keyframe_requests.len();

    // Everything from and to peer 1 is lost for longer than retransmission can bridge.
    world.set_loss_percent(1, 100);
    world.run_for(Duration::from_secs(4));
    let outage_end = world.now;
    world.set_loss_percent(1, 0);
    world.run_for(Duration::from_secs(3));

    let requests: Vec<_> = world.browser(1).keyframe_requests[requests_before..].to_vec();
    assert!(
        requests.iter().any(|(at, _)| *at > outage_end),
        "no keyframe request after the outage: {requests:?}"
    );
    // Peer 2's picture recovers with a keyframe after the outage.
    let recovered = world
        .browser(2)
        .frames_from(ParticipantId(1), TrackKind::Camera)
        .iter()
        .any(|f| f.keyframe && f.at > outage_end);
    assert!(recovered);
}

#[test]
fn muting_stops_forwarding_audio_and_unmuting_resumes_it() {
    let mut world = World::new();
    world.join(1, 7, Publish::audio_and_camera()).unwrap();
    world.join(2, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(1));
    let audio = |w: &World| w.browser(2).count_from(ParticipantId(1), TrackKind::Audio);
    let video = |w: &World| w.browser(2).count_from(ParticipantId(1), TrackKind::Camera);
    assert!(audio(&world) > 0);

    world.sfu.set_server_muted(ParticipantId(1), true).unwrap();
    // Frames already on the wire still land.
    world.run_for(Duration::from_millis(100));
    let (audio_muted, video_muted) = (audio(&world), video(&world));
    world.run_for(Duration::from_secs(1));
    assert_eq!(audio(&world), audio_muted);
    assert!(video(&world) > video_muted + 20, "video keeps flowing");

    // The participant's own unmute does not lift a server mute.
    world.sfu.set_self_muted(ParticipantId(1), true).unwrap();
    world.sfu.set_self_muted(ParticipantId(1), false).unwrap();
    world.run_for(Duration::from_millis(500));
    assert_eq!(audio(&world), audio_muted);

    world.sfu.set_server_muted(ParticipantId(1), false).unwrap();
    world.run_for(Duration::from_secs(1));
    assert!(audio(&world) > audio_muted + 30);
}

#[test]
fn speaking_indicator_follows_the_audio_level_with_hysteresis() {
    let mut world = World::new();
    world.join(1, 7, Publish::audio_and_camera()).unwrap();
    world.join(2, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(1));
    assert_eq!(world.speaking_events(1), Vec::<bool>::new());

    world.browser_mut(1).audio_level_dbov = -20;
    world.run_for(Duration::from_millis(300));
    assert_eq!(world.speaking_events(1), vec![true]);

    // Quieter, but above the keep threshold: still speaking.
    world.browser_mut(1).audio_level_dbov = -45;
    world.run_for(Duration::from_secs(1));
    assert_eq!(world.speaking_events(1), vec![true]);

    world.browser_mut(1).audio_level_dbov = -90;
    world.run_for(Duration::from_secs(1));
    assert_eq!(world.speaking_events(1), vec![true, false]);

    // Muting a speaker ends the indicator at once.
    world.browser_mut(1).audio_level_dbov = -10;
    world.run_for(Duration::from_millis(300));
    world.sfu.set_self_muted(ParticipantId(1), true).unwrap();
    world.run_for(Duration::from_millis(50));
    assert_eq!(world.speaking_events(1), vec![true, false, true, false]);
    world.run_for(Duration::from_secs(1));
    assert_eq!(world.speaking_events(1), vec![true, false, true, false]);
}

/// A camera sent in two simulcast layers: "l" (300-byte frames) and "h" (2,500-byte frames,
/// 600 kbit/s at 30 frames a second).
fn simulcast_camera() -> Publish {
    Publish {
        camera: true,
        camera_simulcast: vec![("l", 300), ("h", 2_500)],
        ..Publish::default()
    }
}

/// Layers of the camera frames `subscriber` received from peer 1, checking that every change
/// of layer happens at a keyframe and that timestamps never go back.
fn layers_at(world: &World, subscriber: u64) -> Vec<u8> {
    let frames = world
        .browser(subscriber)
        .frames_from(ParticipantId(1), TrackKind::Camera);
    for pair in frames.windows(2) {
        if pair[1].marker.layer != pair[0].marker.layer {
            assert!(pair[1].keyframe, "a layer switch without a keyframe");
        }
        assert!(pair[1].time > pair[0].time, "time went back");
    }
    frames.iter().map(|f| f.marker.layer).collect()
}

fn received_layers(world: &World) -> Vec<u8> {
    layers_at(world, 2)
}

#[test]
fn a_simulcast_subscriber_receives_one_layer_and_follows_its_wish() {
    let mut world = World::new();
    let simulcast = Publish {
        audio: true,
        ..simulcast_camera()
    };
    world.join(1, 7, simulcast).unwrap();
    world.join(2, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    // Bandwidth estimation starts cautious and probes for room; on this clean link it soon
    // finds enough for the high layer.
    world.run_for(Duration::from_secs(8));
    let before = received_layers(&world);
    assert!(before.len() > 200);
    assert!(
        before[before.len() - 60..].iter().all(|&l| l == b'h'),
        "{before:?}"
    );

    world
        .sfu
        .set_max_video_layer(ParticipantId(2), camera_of(1), VideoLayer::Low)
        .unwrap();
    world.run_for(Duration::from_secs(2));
    let after = received_layers(&world)[before.len()..].to_vec();
    let switch = after
        .iter()
        .position(|&l| l == b'l')
        .expect("switched to the low layer");
    assert!(after[switch..].iter().all(|&l| l == b'l'), "{after:?}");
    assert!(after[switch..].len() > 40);
}

#[test]
fn the_subscriber_bitrate_cap_keeps_a_subscriber_on_the_low_layer() {
    // 2500-byte frames at 30 per second are 600 kbit/s; the cap leaves room for 300 only.
    let mut world = World::with_config(|c| c.max_subscriber_video_bitrate = 300_000);
    world.join(1, 7, simulcast_camera()).unwrap();
    world.join(2, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(2));

    let frames = world
        .browser(2)
        .frames_from(ParticipantId(1), TrackKind::Camera);
    assert!(frames.len() > 40);
    assert!(frames.iter().all(|f| f.marker.layer == b'l'));
}

#[test]
fn two_subscribers_of_one_camera_get_the_layers_they_asked_for() {
    let mut world = World::new();
    world.join(1, 7, simulcast_camera()).unwrap();
    world.join(2, 7, Publish::nothing()).unwrap();
    world.join(3, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    // Peer 2 shows peer 1 in a thumbnail; peer 3 in a large tile (the default wish).
    world
        .sfu
        .set_max_video_layer(ParticipantId(2), camera_of(1), VideoLayer::Low)
        .unwrap();
    world.run_for(Duration::from_secs(8));

    let thumbnail = layers_at(&world, 2);
    assert!(thumbnail.len() > 200, "{}", thumbnail.len());
    assert!(thumbnail.iter().all(|&l| l == b'l'), "{thumbnail:?}");
    let large = layers_at(&world, 3);
    assert!(
        large[large.len() - 60..].iter().all(|&l| l == b'h'),
        "{large:?}"
    );
}

#[test]
fn a_paused_camera_is_not_forwarded_and_resumes_on_a_keyframe() {
    let mut world = World::new();
    world.join(1, 7, simulcast_camera()).unwrap();
    world.join(2, 7, Publish::nothing()).unwrap();
    world.join(3, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    world.run_for(Duration::from_secs(2));
    assert!(layers_at(&world, 2).len() > 40);

    world
        .sfu
        .set_video_paused(ParticipantId(2), camera_of(1), true)
        .unwrap();
    // Frames already on the wire still arrive; after that, nothing.
    world.run_for(Duration::from_millis(200));
    let paused_at = layers_at(&world, 2).len();
    let others_before = layers_at(&world, 3).len();
    world.run_for(Duration::from_secs(3));
    assert_eq!(layers_at(&world, 2).len(), paused_at);
    assert!(layers_at(&world, 3).len() > others_before + 80);

    world
        .sfu
        .set_video_paused(ParticipantId(2), camera_of(1), false)
        .unwrap();
    // The publisher sends keyframes only when asked: the picture is back within moments.
    world.run_for(Duration::from_millis(500));
    let frames = world
        .browser(2)
        .frames_from(ParticipantId(1), TrackKind::Camera);
    assert!(frames.len() > paused_at + 5, "{}", frames.len());
    assert!(frames[paused_at].keyframe);
    assert!(frames[paused_at].time > frames[paused_at - 1].time);
}

#[test]
fn only_received_video_can_be_paused_and_mids_name_received_tracks() {
    let mut world = World::new();
    world.join(1, 7, Publish::audio_and_camera()).unwrap();
    world.join(2, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    let audio = TrackId {
        publisher: ParticipantId(1),
        kind: TrackKind::Audio,
    };
    assert!(matches!(
        world.sfu.set_video_paused(ParticipantId(2), audio, true),
        Err(SfuError::NotVideo(_))
    ));
    let screen = TrackId {
        publisher: ParticipantId(1),
        kind: TrackKind::Screen,
    };
    assert!(matches!(
        world.sfu.set_video_paused(ParticipantId(2), screen, true),
        Err(SfuError::NotSubscribed { .. })
    ));
    assert!(matches!(
        world
            .sfu
            .set_video_paused(ParticipantId(9), camera_of(1), true),
        Err(SfuError::UnknownParticipant(_))
    ));

    for (mid, track) in world.browser(2).tracks.clone() {
        assert_eq!(
            world.sfu.received_track(ParticipantId(2), &mid).unwrap(),
            track
        );
    }
    assert!(matches!(
        world.sfu.received_track(ParticipantId(2), "99"),
        Err(SfuError::UnknownMid { .. })
    ));
}

#[test]
fn a_large_tile_is_not_held_to_the_bandwidth_share_of_a_thumbnail() {
    // 900 kbit/s for everything peer 3 receives. Split evenly, each camera could use 450 and
    // peer 1's high layer (2500-byte frames: 600 kbit/s) would not fit; shared by what each
    // tile wants, the thumbnail of peer 2 needs 72 and leaves peer 1's camera the rest.
    let mut world = World::with_config(|c| c.max_subscriber_video_bitrate = 900_000);
    world.join(1, 7, simulcast_camera()).unwrap();
    world.join(2, 7, simulcast_camera()).unwrap();
    world.join(3, 7, Publish::nothing()).unwrap();
    world.run_until_connected();
    world
        .sfu
        .set_max_video_layer(ParticipantId(3), camera_of(2), VideoLayer::Low)
        .unwrap();
    world.run_for(Duration::from_secs(8));

    let layers_from = |publisher: u64| -> Vec<u8> {
        world
            .browser(3)
            .frames_from(ParticipantId(publisher), TrackKind::Camera)
            .iter()
            .map(|f| f.marker.layer)
            .collect()
    };
    let large = layers_from(1);
    assert!(
        large[large.len() - 60..].iter().all(|&l| l == b'h'),
        "{large:?}"
    );
    let thumbnail = layers_from(2);
    assert!(
        thumbnail[thumbnail.len() - 60..].iter().all(|&l| l == b'l'),
        "{thumbnail:?}"
    );
}
