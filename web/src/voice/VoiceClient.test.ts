// The call's state machine and negotiation bookkeeping, against peer-connection and media
// doubles: the test plays the server by answering and offering through `handleFrame`. Real
// WebRTC against the real server is the browser suite's job (e2e/voice.e2e.mjs).
import { describe, expect, it, vi } from 'vitest';
import type { VoiceClientFrame } from './protocol';
import { VoiceClient, type VoiceOptions } from './VoiceClient';

class FakeTrack {
  readonly id = `track-${Math.random().toString(36).slice(2)}`;
  stopped = false;
  private readonly ended = new Set<() => void>();
  constructor(readonly kind: 'audio' | 'video') {}
  stop() {
    this.stopped = true;
  }
  addEventListener(_type: 'ended', listener: () => void) {
    this.ended.add(listener);
  }
  /** The browser's own "stop sharing" button. */
  end() {
    this.stopped = true;
    for (const listener of this.ended) listener();
  }
}

function fakeStream(kind: 'audio' | 'video') {
  const track = new FakeTrack(kind);
  return {
    track,
    stream: {
      getTracks: () => [track],
      getAudioTracks: () => (kind === 'audio' ? [track] : []),
      getVideoTracks: () => (kind === 'video' ? [track] : []),
    } as unknown as MediaStream,
  };
}

class FakeTransceiver {
  mid: string | null = null;
  readonly sender: { track: FakeTrack | null; replaceTrack: (track: FakeTrack | null) => Promise<void> };
  readonly receiver = { track: new FakeTrack('audio') };
  constructor(
    public direction: RTCRtpTransceiverDirection,
    track: FakeTrack | null,
    readonly sendEncodings?: RTCRtpEncodingParameters[],
  ) {
    const sender = {
      track,
      replaceTrack: async (next: FakeTrack | null) => {
        sender.track = next;
      },
    };
    this.sender = sender;
  }
}

/**
 * A peer connection double that keeps the signalling state the way a browser does. Its SDP is
 * just the list of mids, which is all the client reads back.
 */
class FakePeerConnection extends EventTarget {
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  iceConnectionState: RTCIceConnectionState = 'new';
  localDescription: RTCSessionDescriptionInit | null = null;
  readonly transceivers: FakeTransceiver[] = [];
  readonly offerOptions: (RTCOfferOptions | undefined)[] = [];
  dataChannels: string[] = [];
  closed = false;
  private nextMid = 0;
  constructor(readonly configuration: RTCConfiguration) {
    super();
  }
  addTransceiver(trackOrKind: FakeTrack | string, init: RTCRtpTransceiverInit) {
    const transceiver = new FakeTransceiver(init.direction!, typeof trackOrKind === 'string' ? null : trackOrKind, init.sendEncodings);
    this.transceivers.push(transceiver);
    return transceiver;
  }
  createDataChannel(label: string) {
    this.dataChannels.push(label);
  }
  getTransceivers() {
    return this.transceivers;
  }
  async createOffer(options?: RTCOfferOptions) {
    this.offerOptions.push(options);
    return { type: 'offer' as const, sdp: `offer ${this.offerOptions.length}` };
  }
  async createAnswer() {
    return { type: 'answer' as const, sdp: 'answer' };
  }
  async setLocalDescription(description: RTCSessionDescriptionInit) {
    if (description.type === 'rollback') {
      this.signalingState = 'stable';
      return;
    }
    if (description.type === 'offer') {
      for (const transceiver of this.transceivers) transceiver.mid ??= String(this.nextMid++);
      this.signalingState = 'have-local-offer';
    } else {
      this.signalingState = 'stable';
    }
    this.localDescription = description;
  }
  async setRemoteDescription(description: RTCSessionDescriptionInit) {
    if (description.type === 'answer') {
      if (this.signalingState !== 'have-local-offer') throw new Error('answer without an offer');
      this.signalingState = 'stable';
      return;
    }
    if (this.signalingState !== 'stable') throw new Error('offer in the wrong state');
    // The server's offer: "mids 5,6" adds receiving m-lines for mids it has not seen.
    for (const mid of description.sdp!.replace('mids ', '').split(',')) {
      if (!this.transceivers.some((transceiver) => transceiver.mid === mid)) {
        const transceiver = new FakeTransceiver('recvonly', null);
        transceiver.mid = mid;
        this.transceivers.push(transceiver);
      }
    }
    this.signalingState = 'have-remote-offer';
  }
  close() {
    this.closed = true;
  }
  setConnection(state: RTCPeerConnectionState) {
    this.connectionState = state;
    this.dispatchEvent(new Event('connectionstatechange'));
  }
  setIce(state: RTCIceConnectionState) {
    this.iceConnectionState = state;
    this.dispatchEvent(new Event('iceconnectionstatechange'));
  }
}

function setup(overrides: Partial<VoiceOptions> = {}) {
  const sent: VoiceClientFrame[] = [];
  const peers: FakePeerConnection[] = [];
  const microphone = fakeStream('audio');
  const camera = fakeStream('video');
  const screen = fakeStream('video');
  const order: string[] = [];
  const media = {
    getUserMedia: vi.fn(async (constraints: MediaStreamConstraints) => {
      order.push(constraints.audio ? 'microphone' : 'camera');
      return constraints.audio ? microphone.stream : camera.stream;
    }),
    getDisplayMedia: vi.fn(async () => screen.stream),
  };
  const client = new VoiceClient({
    signal: (frame) => {
      sent.push(frame);
      return true;
    },
    iceServers: async () => {
      order.push('ice-servers');
      return [{ urls: ['turn:turn.example:3478?transport=udp'], username: '1:2', credential: 'c' }];
    },
    createPeerConnection: (configuration) => {
      order.push('peer-connection');
      const pc = new FakePeerConnection(configuration);
      peers.push(pc);
      return pc as unknown as RTCPeerConnection;
    },
    media,
    ...overrides,
  });
  const pc = () => peers[peers.length - 1]!;
  const ops = () => sent.map((frame) => frame.op);
  const last = <Op extends VoiceClientFrame['op']>(op: Op) =>
    [...sent].reverse().find((frame) => frame.op === op) as Extract<VoiceClientFrame, { op: Op }>;
  const answer = async () => {
    client.handleFrame({ op: 'voice_answer', d: { answer: { type: 'answer', sdp: 'server answer' } } });
    await settled(client);
  };
  const serverOffer = async (tracks: { mid: string; user_id: string; kind: 'audio' | 'camera' | 'screen' }[]) => {
    client.handleFrame({ op: 'voice_offer', d: { offer: { type: 'offer', sdp: `mids ${tracks.map((t) => t.mid).join(',')}` }, tracks } });
    await settled(client);
  };
  const joined = async () => {
    await client.join('10', '20');
    await answer();
    pc().setConnection('connected');
  };
  return { client, sent, peers, pc, ops, last, answer, serverOffer, joined, media, microphone, camera, screen, order };
}

/** Lets the client's chain of SDP steps run to its end. */
async function settled(client: VoiceClient) {
  await (client as unknown as { chain: Promise<void> }).chain;
}

describe('VoiceClient', () => {
  it('joins: ICE servers first, then the microphone, a sendonly audio m-line and a data channel in voice_join', async () => {
    const t = setup();
    const statuses: string[] = [];
    t.client.subscribe(() => statuses.push(t.client.getSnapshot().status));
    await t.client.join('10', '20');

    expect(t.order).toEqual(['ice-servers', 'microphone', 'peer-connection']);
    expect(t.pc().configuration.iceServers).toEqual([{ urls: ['turn:turn.example:3478?transport=udp'], username: '1:2', credential: 'c' }]);
    expect(t.pc().transceivers[0]).toMatchObject({ direction: 'sendonly', mid: '0' });
    expect(t.pc().transceivers[0]!.sender.track).toBe(t.microphone.track);
    expect(t.pc().dataChannels).toEqual(['madang']);
    expect(t.ops()).toEqual(['voice_join']);
    expect(t.last('voice_join').d).toEqual({
      channel_id: '20',
      offer: { type: 'offer', sdp: 'offer 1' },
      tracks: [{ mid: '0', kind: 'audio' }],
      self_mute: false,
      self_deaf: false,
    });
    expect(t.client.getSnapshot()).toMatchObject({ status: 'joining', guildId: '10', channelId: '20' });

    await t.answer();
    expect(t.pc().signalingState).toBe('stable');
    t.pc().setConnection('connected');
    expect(t.client.getSnapshot().status).toBe('connected');
    expect(statuses).toContain('joining');
  });

  it('answers the server offer and maps each incoming m-line to its user and kind', async () => {
    const t = setup();
    await t.joined();
    await t.serverOffer([
      { mid: '1', user_id: '7', kind: 'audio' },
      { mid: '2', user_id: '7', kind: 'camera' },
    ]);
    expect(t.last('voice_answer').d.answer).toEqual({ type: 'answer', sdp: 'answer' });
    const remote = t.client.getSnapshot().remote;
    expect(remote.map(({ mid, userId, kind }) => ({ mid, userId, kind }))).toEqual([
      { mid: '1', userId: '7', kind: 'audio' },
      { mid: '2', userId: '7', kind: 'camera' },
    ]);
    expect(remote[1]!.track).toBe(t.pc().transceivers.find((tr) => tr.mid === '2')!.receiver.track);

    // The user left: the next offer no longer lists their m-lines.
    await t.serverOffer([]);
    expect(t.client.getSnapshot().remote).toEqual([]);
  });

  it('is impolite: a server offer that arrives while its own offer is out is ignored, the re-offer is answered', async () => {
    const t = setup();
    await t.client.join('10', '20');
    // The server's offer crosses the client's join offer.
    await t.serverOffer([{ mid: '1', user_id: '7', kind: 'audio' }]);
    expect(t.ops()).toEqual(['voice_join']);
    expect(t.client.getSnapshot().remote).toEqual([]);

    await t.answer();
    await t.serverOffer([{ mid: '1', user_id: '7', kind: 'audio' }]);
    expect(t.ops()).toEqual(['voice_join', 'voice_answer']);
    expect(t.client.getSnapshot().remote).toHaveLength(1);
  });

  it('ignores an answer when no offer is out', async () => {
    const t = setup();
    await t.joined();
    await t.answer();
    expect(t.client.getSnapshot().status).toBe('connected');
  });

  it('mutes by sending no microphone track, deafens with mute, and undeafening restores the mute from before', async () => {
    const t = setup();
    await t.joined();
    const sender = t.pc().transceivers[0]!.sender;

    await t.client.setMute(true);
    expect(sender.track).toBeNull();
    expect(t.last('voice_state').d).toEqual({ self_mute: true, self_deaf: false, self_video: false, self_stream: false });

    await t.client.setMute(false);
    expect(sender.track).toBe(t.microphone.track);

    await t.client.setDeaf(true);
    expect(t.client.getSnapshot()).toMatchObject({ selfMute: true, selfDeaf: true });
    expect(sender.track).toBeNull();
    expect(t.last('voice_state').d).toMatchObject({ self_mute: true, self_deaf: true });

    await t.client.setDeaf(false);
    expect(t.client.getSnapshot()).toMatchObject({ selfMute: false, selfDeaf: false });
    expect(sender.track).toBe(t.microphone.track);

    // Unmuting while deafened undeafens too.
    await t.client.setDeaf(true);
    await t.client.setMute(false);
    expect(t.client.getSnapshot()).toMatchObject({ selfMute: false, selfDeaf: false });
  });

  it('joins muted with no track on the audio m-line and tells the server', async () => {
    const t = setup();
    await t.client.setMute(true);
    await t.client.join('10', '20');
    expect(t.pc().transceivers[0]!.sender.track).toBeNull();
    expect(t.last('voice_join').d).toMatchObject({ self_mute: true });
  });

  it('turns the camera on as a simulcast m-line with bitrate caps in a new offer, and off again', async () => {
    const t = setup({ cameraBitrates: [100, 200, 300] });
    await t.joined();
    await t.client.setCamera(true);

    const camera = t.pc().transceivers[1]!;
    expect(camera.sender.track).toBe(t.camera.track);
    expect(camera.sendEncodings).toEqual([
      { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 100 },
      { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 200 },
      { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 300 },
    ]);
    expect(t.last('voice_offer').d.tracks).toEqual([
      { mid: '0', kind: 'audio' },
      { mid: '1', kind: 'camera' },
    ]);
    expect(t.last('voice_state').d).toMatchObject({ self_video: true });
    expect(t.client.getSnapshot().camera).not.toBeNull();

    await t.answer();
    await t.client.setCamera(false);
    expect(camera.direction).toBe('inactive');
    expect(t.camera.track.stopped).toBe(true);
    expect(t.last('voice_offer').d.tracks).toEqual([{ mid: '0', kind: 'audio' }]);
    expect(t.last('voice_state').d).toMatchObject({ self_video: false });
    expect(t.ops().filter((op) => op === 'voice_offer')).toHaveLength(2);
  });

  it('holds a change back while its own offer is out and offers it after the answer', async () => {
    const t = setup();
    await t.joined();
    await t.client.setCamera(true);
    await t.client.setScreen(true);
    expect(t.ops().filter((op) => op === 'voice_offer')).toHaveLength(1);

    await t.answer();
    expect(t.ops().filter((op) => op === 'voice_offer')).toHaveLength(2);
    expect(t.last('voice_offer').d.tracks).toEqual([
      { mid: '0', kind: 'audio' },
      { mid: '1', kind: 'camera' },
      { mid: '2', kind: 'screen' },
    ]);
  });

  it('shares the screen with the screen label, and stops when the browser ends the track', async () => {
    const t = setup({ screenBitrate: 900 });
    await t.joined();
    await t.client.setScreen(true);
    expect(t.media.getDisplayMedia).toHaveBeenCalled();
    expect(t.pc().transceivers[1]!.sendEncodings).toEqual([{ maxBitrate: 900 }]);
    expect(t.last('voice_offer').d.tracks).toContainEqual({ mid: '1', kind: 'screen' });
    expect(t.last('voice_state').d).toMatchObject({ self_stream: true });
    await t.answer();

    t.screen.track.end();
    await vi.waitFor(() => expect(t.ops().filter((op) => op === 'voice_offer')).toHaveLength(2));
    expect(t.client.getSnapshot().screen).toBeNull();
    expect(t.pc().transceivers[1]!.direction).toBe('inactive');
    expect(t.last('voice_offer').d.tracks).toEqual([{ mid: '0', kind: 'audio' }]);
  });

  it('restarts ICE with a new offer when the connection drops, after an offer already out is answered', async () => {
    const t = setup();
    await t.joined();
    t.pc().setIce('disconnected');
    await settled(t.client);
    expect(t.pc().offerOptions.at(-1)).toEqual({ iceRestart: true });
    expect(t.ops().at(-1)).toBe('voice_offer');

    // Failing again while that offer is out: one more restart once it is answered.
    t.pc().setIce('failed');
    await settled(t.client);
    expect(t.ops().filter((op) => op === 'voice_offer')).toHaveLength(1);
    await t.answer();
    expect(t.ops().filter((op) => op === 'voice_offer')).toHaveLength(2);
    expect(t.pc().offerOptions.at(-1)).toEqual({ iceRestart: true });
  });

  it('after the gateway resumed, takes back an offer whose answer was lost and offers again with an ICE restart', async () => {
    const t = setup();
    await t.joined();
    await t.client.setCamera(true);
    expect(t.pc().signalingState).toBe('have-local-offer');
    // The socket dropped before the answer came; the session resumed on a new one.
    const states = () => t.ops().filter((op) => op === 'voice_state').length;
    const statesBefore = states();
    t.client.resumed();
    await settled(t.client);
    expect(t.ops().filter((op) => op === 'voice_offer')).toHaveLength(2);
    expect(states()).toBe(statesBefore + 1);
    expect(t.pc().offerOptions.at(-1)).toEqual({ iceRestart: true });
    expect(t.last('voice_offer').d.tracks).toContainEqual({ mid: '1', kind: 'camera' });
    await t.answer();
    expect(t.pc().signalingState).toBe('stable');
  });

  it('a refused join ends the call with the server code', async () => {
    const t = setup();
    await t.client.join('10', '20');
    t.client.handleFrame({ op: 'voice_error', d: { code: 'voice_channel_full', message: 'full' } });
    expect(t.client.getSnapshot()).toMatchObject({ status: 'idle', channelId: null, error: 'voice_channel_full' });
    expect(t.pc().closed).toBe(true);
    expect(t.microphone.track.stopped).toBe(true);
  });

  it('a refused later offer is rolled back and the call goes on', async () => {
    const t = setup();
    await t.joined();
    await t.client.setCamera(true);
    t.client.handleFrame({ op: 'voice_error', d: { code: 'validation_failed', message: 'no' } });
    await settled(t.client);
    expect(t.client.getSnapshot()).toMatchObject({ status: 'connected', error: 'validation_failed' });
    expect(t.pc().signalingState).toBe('stable');
    await t.serverOffer([{ mid: '5', user_id: '7', kind: 'audio' }]);
    expect(t.ops().at(-1)).toBe('voice_answer');
  });

  it('does not join when the gateway cannot carry the offer', async () => {
    const t = setup({ signal: () => false });
    await t.client.join('10', '20');
    expect(t.client.getSnapshot()).toMatchObject({ status: 'idle', error: 'gateway_unavailable' });
  });

  it('joins listen-only and muted when the microphone is refused', async () => {
    const t = setup();
    t.media.getUserMedia.mockRejectedValueOnce(new DOMException('denied', 'NotAllowedError'));
    await t.client.join('10', '20');
    expect(t.last('voice_join').d).toMatchObject({ self_mute: true, tracks: [{ mid: '0', kind: 'audio' }] });
    expect(t.client.getSnapshot()).toMatchObject({ status: 'joining', selfMute: true, error: 'microphone_unavailable' });
  });

  it('leaves: voice_leave, the connection closed, every device released', async () => {
    const t = setup();
    await t.joined();
    await t.client.setCamera(true);
    await t.client.leave();
    expect(t.ops().at(-1)).toBe('voice_leave');
    expect(t.pc().closed).toBe(true);
    expect(t.microphone.track.stopped).toBe(true);
    expect(t.camera.track.stopped).toBe(true);
    expect(t.client.getSnapshot()).toMatchObject({ status: 'idle', channelId: null, camera: null, remote: [] });
    // Late frames of the ended call change nothing.
    await t.answer();
    expect(t.client.getSnapshot().status).toBe('idle');
  });

  it('moves: joining another channel leaves the first call', async () => {
    const t = setup();
    await t.joined();
    await t.client.join('10', '21');
    expect(t.ops()).toEqual(['voice_join', 'voice_leave', 'voice_join']);
    expect(t.peers[0]!.closed).toBe(true);
    expect(t.last('voice_join').d.channel_id).toBe('21');
  });

  it('rejoins the same channel on a new gateway session, without a voice_leave the new session could not send', async () => {
    const t = setup();
    await t.joined();
    await t.client.setMute(true);
    await t.client.rejoin();
    expect(t.ops().filter((op) => op !== 'voice_state')).toEqual(['voice_join', 'voice_join']);
    expect(t.peers).toHaveLength(2);
    expect(t.peers[0]!.closed).toBe(true);
    expect(t.last('voice_join').d).toMatchObject({ channel_id: '20', self_mute: true });
    expect(t.client.getSnapshot()).toMatchObject({ status: 'joining', guildId: '10', channelId: '20' });
  });

  it('ends the call when the server dropped it', async () => {
    const t = setup();
    await t.joined();
    t.client.endedByServer();
    expect(t.client.getSnapshot()).toMatchObject({ status: 'idle', error: 'session_lost' });
    expect(t.ops()).not.toContain('voice_leave');
  });

  it('tells the server only changed video quality wishes, for received video only, after the answer that made the m-line usable', async () => {
    const t = setup();
    await t.joined();
    t.client.handleFrame({
      op: 'voice_offer',
      d: {
        offer: { type: 'offer', sdp: 'mids 1,2,3' },
        tracks: [
          { mid: '1', user_id: '7', kind: 'audio' },
          { mid: '2', user_id: '7', kind: 'camera' },
          { mid: '3', user_id: '8', kind: 'camera' },
        ],
      },
    });
    // Asked while the server's offer is still being answered: sent after the answer.
    t.client.setVideoQuality('2', 'low');
    await settled(t.client);
    expect(t.ops()).toEqual(['voice_join', 'voice_answer', 'voice_video_quality']);
    expect(t.last('voice_video_quality').d).toEqual({ mid: '2', quality: 'low' });

    // `high` is what the server starts with; the same wish again and audio m-lines send nothing.
    t.client.setVideoQuality('3', 'high');
    t.client.setVideoQuality('2', 'low');
    t.client.setVideoQuality('1', 'off');
    t.client.setVideoQuality('9', 'off');
    await settled(t.client);
    expect(t.ops().filter((op) => op === 'voice_video_quality')).toHaveLength(1);

    t.client.setVideoQuality('2', 'off');
    await settled(t.client);
    expect(t.last('voice_video_quality').d).toEqual({ mid: '2', quality: 'off' });

    // A refusal for a track that just ended is no failure of the call.
    t.client.handleFrame({ op: 'voice_error', d: { code: 'unknown_track', message: 'gone' } });
    await settled(t.client);
    expect(t.client.getSnapshot()).toMatchObject({ status: 'connected', error: null });
  });

  it('forgets the wishes of ended tracks, and tells unsent wishes after a resume', async () => {
    let online = true;
    const sent: VoiceClientFrame[] = [];
    const t = setup({
      signal: (frame) => {
        if (!online) return false;
        sent.push(frame);
        return true;
      },
    });
    await t.client.join('10', '20');
    t.client.handleFrame({ op: 'voice_answer', d: { answer: { type: 'answer', sdp: 'server answer' } } });
    await settled(t.client);
    t.pc().setConnection('connected');
    await t.serverOffer([{ mid: '2', user_id: '7', kind: 'camera' }]);
    t.client.setVideoQuality('2', 'low');
    await settled(t.client);
    const qualities = () => sent.filter((frame) => frame.op === 'voice_video_quality').map((frame) => frame.d);
    expect(qualities()).toEqual([{ mid: '2', quality: 'low' }]);

    // The camera went off and on again: it arrives on a new m-line, at `high` on the server.
    await t.serverOffer([{ mid: '4', user_id: '7', kind: 'camera' }]);
    t.client.setVideoQuality('4', 'low');
    await settled(t.client);
    expect(qualities()).toEqual([
      { mid: '2', quality: 'low' },
      { mid: '4', quality: 'low' },
    ]);

    // The gateway is down when the tile shrinks further: the wish goes out after the resume.
    online = false;
    t.client.setVideoQuality('4', 'off');
    await settled(t.client);
    expect(qualities()).toHaveLength(2);
    online = true;
    t.client.resumed();
    await settled(t.client);
    expect(qualities().at(-1)).toEqual({ mid: '4', quality: 'off' });
  });
});
