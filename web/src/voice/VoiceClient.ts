// One voice call: a plain class with explicit states (idle → joining → connected → leaving)
// that owns the call's RTCPeerConnection and its signalling over the gateway, so negotiation
// lives in one place and is testable without React or a browser; components only subscribe.
//
// Negotiation follows the server's rules (docs/protocol.md, "Voice"): the client offers what it
// sends (its first offer travels in `voice_join`, later ones in `voice_offer`), the SFU offers
// what the client receives. The client is the impolite side: it ignores a server offer that
// arrives while its own offer is out, and the SFU makes that offer again after the answer.
import type { Snowflake } from '../api/types';
import type { OfferedTrack, SessionDescription, TrackKind, TrackLabel, VideoQuality, VoiceClientFrame, VoiceServerFrame } from './protocol';

export type VoiceStatus =
  /** Not in a call. */
  | 'idle'
  /** Getting media, offering, and connecting until media can flow. */
  | 'joining'
  /** The peer connection is up (it may drop and recover through an ICE restart meanwhile). */
  | 'connected'
  /** Telling the server and releasing the devices. */
  | 'leaving';

/** A track someone else sends, on one of the SFU's m-lines. */
export interface RemoteTrack {
  mid: string;
  userId: Snowflake;
  kind: TrackKind;
  track: MediaStreamTrack;
}

export interface VoiceSnapshot {
  status: VoiceStatus;
  guildId: Snowflake | null;
  channelId: Snowflake | null;
  selfMute: boolean;
  selfDeaf: boolean;
  /** The own camera while it is on (for the local preview). */
  camera: MediaStream | null;
  /** The own screen share while it is on. */
  screen: MediaStream | null;
  /** Everything received, as the server's last offer mapped it. */
  remote: RemoteTrack[];
  /** The peer connection's state during a call (`disconnected` while an ICE restart runs). */
  connection: RTCPeerConnectionState | null;
  /** Why the last action failed: a server error code or one of `VoiceFailure`; null after success. */
  error: string | null;
  /** The chosen devices (`undefined` = the system default). */
  devices: DeviceChoice;
}

export interface DeviceChoice {
  microphone?: string;
  camera?: string;
  speaker?: string;
}

/** Failures the client detects itself (the server's refusals use its error codes). */
export const VoiceFailure = {
  microphoneUnavailable: 'microphone_unavailable',
  cameraUnavailable: 'camera_unavailable',
  screenUnavailable: 'screen_unavailable',
  gatewayUnavailable: 'gateway_unavailable',
  network: 'network',
  sessionLost: 'session_lost',
  negotiationFailed: 'negotiation_failed',
} as const;

/** The parts of `navigator.mediaDevices` the client uses. */
export interface MediaSource {
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  getDisplayMedia(constraints: DisplayMediaStreamOptions): Promise<MediaStream>;
}

export interface VoiceOptions {
  /** Sends a frame over the gateway; false when the gateway is not ready. */
  signal: (frame: VoiceClientFrame) => boolean;
  /** `GET /api/voice/ice-servers`, as RTCPeerConnection configuration. */
  iceServers: () => Promise<RTCIceServer[]>;
  createPeerConnection?: (configuration: RTCConfiguration) => RTCPeerConnection;
  media?: MediaSource;
  /** Camera constraints before the chosen device is added. */
  cameraConstraints?: MediaTrackConstraints;
  /** Caps of what the camera's simulcast layers (low, half, full) may send, in bits per second. */
  cameraBitrates?: [number, number, number];
  screenBitrate?: number;
  /** Remembered device choices (the app passes what it saved). */
  devices?: DeviceChoice;
}

const idle = (devices: DeviceChoice): VoiceSnapshot => ({
  status: 'idle',
  guildId: null,
  channelId: null,
  selfMute: false,
  selfDeaf: false,
  camera: null,
  screen: null,
  remote: [],
  connection: null,
  error: null,
  devices,
});

/** Simulcast layers by RID: quarter, half and full resolution. */
const layers = [
  { rid: 'q', scaleResolutionDownBy: 4 },
  { rid: 'h', scaleResolutionDownBy: 2 },
  { rid: 'f', scaleResolutionDownBy: 1 },
] as const;

export class VoiceClient {
  private readonly options: Required<Omit<VoiceOptions, 'devices'>>;
  private snapshot: VoiceSnapshot;
  private readonly subscribers = new Set<() => void>();

  private pc: RTCPeerConnection | null = null;
  /** The client's own sending transceivers, one per kind. */
  private own: Partial<Record<TrackKind, RTCRtpTransceiver>> = {};
  private microphone: MediaStreamTrack | null = null;
  /** Whether the microphone was muted before deafening, so undeafening restores it. */
  private mutedBeforeDeaf = false;
  /** Numbers joins, so the awaits of a replaced join notice and stop. */
  private joinAttempt = 0;
  /** `voice_join` went out: later changes are told with `voice_state` / `voice_offer`. */
  private joinSent = false;
  /** The server answered `voice_join`: a `voice_error` no longer means the join failed. */
  private joined = false;
  /** The client's offer awaits the server's answer. */
  private offerOut = false;
  /** Something changed that the server must hear about in a new client offer. */
  private negotiationWanted = false;
  private iceRestartWanted = false;
  /** The quality the app wants of each remote video, by the SFU's m-line. */
  private wantedQuality = new Map<string, VideoQuality>();
  /** The quality the server was told, by m-line; a track it was not told about gets `high`. */
  private toldQuality = new Map<string, VideoQuality>();
  /** Every SDP step runs in order on this chain, so offers, answers and changes never interleave. */
  private chain: Promise<void> = Promise.resolve();

  constructor(options: VoiceOptions) {
    this.options = {
      createPeerConnection: (configuration) => new RTCPeerConnection(configuration),
      media: typeof navigator === 'undefined' ? (undefined as unknown as MediaSource) : navigator.mediaDevices,
      cameraConstraints: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
      cameraBitrates: [150_000, 500_000, 1_500_000],
      screenBitrate: 2_500_000,
      ...options,
    };
    this.snapshot = idle(options.devices ?? {});
  }

  // ---- subscription (useSyncExternalStore) -------------------------------------------------

  getSnapshot = (): VoiceSnapshot => this.snapshot;

  subscribe = (onChange: () => void): (() => void) => {
    this.subscribers.add(onChange);
    return () => this.subscribers.delete(onChange);
  };

  /** The call's peer connection, for statistics. */
  get peerConnection(): RTCPeerConnection | null {
    return this.pc;
  }

  // ---- commands from the app ---------------------------------------------------------------

  /** Joins a voice channel; leaves the current call first. */
  async join(guildId: Snowflake, channelId: Snowflake): Promise<void> {
    if (this.snapshot.status !== 'idle') await this.leave();
    const { selfMute, selfDeaf } = this.snapshot;
    this.setState({ status: 'joining', guildId, channelId, error: null, connection: 'new' });
    const attempt = ++this.joinAttempt;

    let iceServers: RTCIceServer[];
    try {
      iceServers = await this.options.iceServers();
    } catch {
      if (this.stillJoining(attempt)) this.teardown(VoiceFailure.network);
      return;
    }
    if (!this.stillJoining(attempt)) return;
    const microphone = await this.openMicrophone();
    if (!this.stillJoining(attempt)) {
      microphone?.stop();
      return;
    }
    this.microphone = microphone;
    const muted = selfMute || selfDeaf || !microphone;
    this.setState({ selfMute: muted, error: microphone ? null : VoiceFailure.microphoneUnavailable });

    const pc = this.options.createPeerConnection({ iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.pc = pc;
    pc.addEventListener('connectionstatechange', () => this.onConnectionState(pc));
    pc.addEventListener('iceconnectionstatechange', () => {
      if (this.pc === pc && (pc.iceConnectionState === 'disconnected' || pc.iceConnectionState === 'failed')) this.restartIce();
    });
    this.own.audio = pc.addTransceiver(!muted && microphone ? microphone : 'audio', { direction: 'sendonly' });
    // A listen-only client still needs an m-line of its own to offer.
    pc.createDataChannel('madang');
    await this.enqueue(pc, () => this.offer(pc, 'join'));
  }

  /** Leaves the call (and tells the server, if it knew). */
  async leave(): Promise<void> {
    if (this.snapshot.status === 'idle' || this.snapshot.status === 'leaving') return;
    this.setState({ status: 'leaving' });
    if (this.joinSent) this.options.signal({ op: 'voice_leave' });
    this.teardown(null);
  }

  /**
   * The gateway started a new session (not a resume), which does not own this call: join the
   * same channel again, which replaces the old call on the server. No `voice_leave`: the new
   * session has no call to leave.
   */
  async rejoin(): Promise<void> {
    const { guildId, channelId } = this.snapshot;
    if (!this.inCall() || !guildId || !channelId) return;
    this.teardown(null);
    await this.join(guildId, channelId);
  }

  /** The server no longer has this call (a new gateway session, or a moderator disconnected it). */
  endedByServer(): void {
    if (this.snapshot.status === 'idle' || this.snapshot.status === 'leaving') return;
    this.teardown(VoiceFailure.sessionLost);
  }

  async setMute(muted: boolean): Promise<void> {
    if (!muted && this.snapshot.selfDeaf) {
      await this.setDeaf(false);
      if (!this.snapshot.selfMute) return;
    }
    if (!muted && !this.microphone && this.inCall()) {
      this.microphone = await this.openMicrophone();
      if (!this.microphone) {
        this.setState({ error: VoiceFailure.microphoneUnavailable });
        return;
      }
    }
    this.setState({ selfMute: muted, error: null });
    await this.applyMicrophone();
    this.sendState();
  }

  /** Deafening silences playback and mutes the microphone; undeafening restores the mute from before. */
  async setDeaf(deaf: boolean): Promise<void> {
    if (deaf === this.snapshot.selfDeaf) return;
    if (deaf) {
      this.mutedBeforeDeaf = this.snapshot.selfMute;
      this.setState({ selfDeaf: true, selfMute: true });
    } else {
      this.setState({ selfDeaf: false, selfMute: this.mutedBeforeDeaf || !this.microphone });
    }
    await this.applyMicrophone();
    this.sendState();
  }

  async setCamera(on: boolean): Promise<void> {
    const pc = this.pc;
    if (!pc || !this.inCall() || on === (this.snapshot.camera !== null)) return;
    if (!on) {
      const stream = this.snapshot.camera;
      this.setState({ camera: null });
      await this.enqueue(pc, async () => {
        await this.stopSending('camera');
        stream?.getTracks().forEach((track) => track.stop());
      });
    } else {
      let stream: MediaStream;
      try {
        stream = await this.options.media.getUserMedia({ video: this.cameraConstraints() });
      } catch {
        this.setState({ error: VoiceFailure.cameraUnavailable });
        return;
      }
      if (this.pc !== pc) {
        stream.getTracks().forEach((track) => track.stop());
        return;
      }
      const caps = this.options.cameraBitrates;
      this.setState({ camera: stream, error: null });
      await this.enqueue(pc, () =>
        this.startSending(pc, 'camera', stream.getVideoTracks()[0]!, layers.map((layer, index) => ({ ...layer, maxBitrate: caps[index] }))),
      );
    }
    this.sendState();
    await this.enqueue(pc, () => this.offerIfWanted(pc));
  }

  async setScreen(on: boolean): Promise<void> {
    const pc = this.pc;
    if (!pc || !this.inCall() || on === (this.snapshot.screen !== null)) return;
    if (!on) {
      const stream = this.snapshot.screen;
      this.setState({ screen: null });
      await this.enqueue(pc, async () => {
        await this.stopSending('screen');
        stream?.getTracks().forEach((track) => track.stop());
      });
    } else {
      let stream: MediaStream;
      try {
        stream = await this.options.media.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
      } catch {
        this.setState({ error: VoiceFailure.screenUnavailable });
        return;
      }
      if (this.pc !== pc) {
        stream.getTracks().forEach((track) => track.stop());
        return;
      }
      const track = stream.getVideoTracks()[0]!;
      // The browser's own "stop sharing" button ends the track.
      track.addEventListener('ended', () => {
        if (this.snapshot.screen === stream) void this.setScreen(false);
      });
      this.setState({ screen: stream, error: null });
      await this.enqueue(pc, () => this.startSending(pc, 'screen', track, [{ maxBitrate: this.options.screenBitrate }]));
    }
    this.sendState();
    await this.enqueue(pc, () => this.offerIfWanted(pc));
  }

  /** Switches the microphone or camera to another device (remembered for the next call). */
  async chooseDevice(kind: keyof DeviceChoice, deviceId: string | undefined): Promise<void> {
    this.setState({ devices: { ...this.snapshot.devices, [kind]: deviceId } });
    const pc = this.pc;
    if (!pc) return;
    if (kind === 'microphone' && this.microphone) {
      const next = await this.openMicrophone();
      if (!next || this.pc !== pc) {
        next?.stop();
        return;
      }
      this.microphone.stop();
      this.microphone = next;
      await this.applyMicrophone();
    } else if (kind === 'camera' && this.snapshot.camera) {
      let stream: MediaStream;
      try {
        stream = await this.options.media.getUserMedia({ video: this.cameraConstraints() });
      } catch {
        this.setState({ error: VoiceFailure.cameraUnavailable });
        return;
      }
      const old = this.snapshot.camera;
      await this.own.camera?.sender.replaceTrack(stream.getVideoTracks()[0]!);
      old.getTracks().forEach((track) => track.stop());
      this.setState({ camera: stream });
    }
  }

  /**
   * Asks for as much of the remote video on `mid` as its tile needs (`off` while it is hidden).
   * Only changes reach the server, after every SDP step before them, so never before the answer
   * that made the track's m-line usable.
   */
  setVideoQuality(mid: string, quality: VideoQuality): void {
    const pc = this.pc;
    if (!pc) return;
    this.wantedQuality.set(mid, quality);
    void this.enqueue(pc, async () => this.tellVideoQualities());
  }

  /** Restarts ICE with a new client offer (the network changed or the connection dropped). */
  restartIce(): void {
    const pc = this.pc;
    if (!pc || !this.joinSent || !this.inCall()) return;
    this.iceRestartWanted = true;
    this.negotiationWanted = true;
    void this.enqueue(pc, () => this.offerIfWanted(pc));
  }

  /**
   * The gateway session resumed on a new socket: server offers sent meanwhile are lost, and so
   * is the answer to an offer of ours that was out. Take that offer back and offer again with an
   * ICE restart; the server makes any offer of its own again after answering. Own flags are
   * sent again too.
   */
  resumed(): void {
    const pc = this.pc;
    if (!pc || !this.joinSent || !this.inCall()) return;
    this.iceRestartWanted = true;
    this.negotiationWanted = true;
    void this.enqueue(pc, async () => {
      await this.rollBackOwnOffer(pc);
      await this.offerIfWanted(pc);
    });
    // Flag changes made while the socket was down were not sent, nor were quality wishes.
    this.sendState();
    void this.enqueue(pc, async () => this.tellVideoQualities());
  }

  /** A voice frame from the gateway. */
  handleFrame(frame: VoiceServerFrame): void {
    const pc = this.pc;
    switch (frame.op) {
      case 'voice_answer':
        if (pc) void this.enqueue(pc, () => this.acceptAnswer(pc, frame.d.answer));
        break;
      case 'voice_offer':
        if (pc) void this.enqueue(pc, () => this.answerServerOffer(pc, frame.d.offer, frame.d.tracks));
        break;
      case 'voice_error':
        if (this.snapshot.status === 'joining' && !this.joined) {
          this.teardown(frame.d.code);
        } else if (frame.d.code === 'unknown_track') {
          // A quality wish for a track that just ended: the offer removing it is on its way.
        } else if (pc && this.inCall()) {
          this.setState({ error: frame.d.code });
          // A refused offer gets no answer: take it back so negotiation can go on.
          void this.enqueue(pc, () => this.rollBackOwnOffer(pc));
        }
        break;
    }
  }

  // ---- negotiation -----------------------------------------------------------------------------

  private async offer(pc: RTCPeerConnection, op: 'join' | 'offer'): Promise<void> {
    const offer = await pc.createOffer(this.iceRestartWanted ? { iceRestart: true } : undefined);
    await pc.setLocalDescription(offer);
    this.iceRestartWanted = false;
    this.negotiationWanted = false;
    const description = this.description(pc.localDescription ?? offer);
    const tracks = this.labels();
    const sent =
      op === 'join'
        ? this.options.signal({
            op: 'voice_join',
            d: { channel_id: this.snapshot.channelId!, offer: description, tracks, self_mute: this.snapshot.selfMute, self_deaf: this.snapshot.selfDeaf },
          })
        : this.options.signal({ op: 'voice_offer', d: { offer: description, tracks } });
    if (!sent) {
      if (op === 'join') {
        this.teardown(VoiceFailure.gatewayUnavailable);
        return;
      }
      // The gateway is reconnecting: offer again (with an ICE restart) once it can be sent.
      await pc.setLocalDescription({ type: 'rollback' });
      this.iceRestartWanted = true;
      this.negotiationWanted = true;
      return;
    }
    this.offerOut = true;
    if (op === 'join') this.joinSent = true;
  }

  private async acceptAnswer(pc: RTCPeerConnection, answer: SessionDescription): Promise<void> {
    // An answer with no offer out is stale (the offer was taken back): nothing to apply.
    if (!this.offerOut || pc.signalingState !== 'have-local-offer') return;
    await pc.setRemoteDescription(answer);
    this.offerOut = false;
    this.joined = true;
    await this.offerIfWanted(pc);
  }

  private async answerServerOffer(pc: RTCPeerConnection, offer: SessionDescription, tracks: OfferedTrack[]): Promise<void> {
    // Impolite: our own offer wins; the SFU rolls its offer back and makes it again after our answer.
    if (this.offerOut || pc.signalingState !== 'stable') return;
    await pc.setRemoteDescription(offer);
    this.mapRemoteTracks(pc, tracks);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.options.signal({ op: 'voice_answer', d: { answer: this.description(pc.localDescription ?? answer) } });
    await this.offerIfWanted(pc);
  }

  private async offerIfWanted(pc: RTCPeerConnection): Promise<void> {
    if (!this.negotiationWanted || !this.joinSent || this.offerOut || pc.signalingState !== 'stable') return;
    await this.offer(pc, 'offer');
  }

  private async rollBackOwnOffer(pc: RTCPeerConnection): Promise<void> {
    if (!this.offerOut || pc.signalingState !== 'have-local-offer') return;
    await pc.setLocalDescription({ type: 'rollback' });
    this.offerOut = false;
  }

  private mapRemoteTracks(pc: RTCPeerConnection, tracks: OfferedTrack[]): void {
    const byMid = new Map(pc.getTransceivers().map((transceiver) => [transceiver.mid, transceiver]));
    const remote: RemoteTrack[] = [];
    for (const offered of tracks) {
      const transceiver = byMid.get(offered.mid);
      if (transceiver) remote.push({ mid: offered.mid, userId: offered.user_id, kind: offered.kind, track: transceiver.receiver.track });
    }
    // The server forgets a wish with its track (wishes for gone m-lines are dropped when told).
    const mids = new Set(remote.map((track) => track.mid));
    for (const mid of this.toldQuality.keys()) if (!mids.has(mid)) this.toldQuality.delete(mid);
    this.setState({ remote });
  }

  /** Sends the quality wishes the server does not know yet, for the videos received now. */
  private tellVideoQualities(): void {
    if (!this.joinSent || !this.inCall()) return;
    const videos = new Set(this.snapshot.remote.filter((track) => track.kind !== 'audio').map((track) => track.mid));
    for (const [mid, quality] of this.wantedQuality) {
      if (!videos.has(mid)) {
        this.wantedQuality.delete(mid);
        continue;
      }
      if ((this.toldQuality.get(mid) ?? 'high') === quality) continue;
      if (!this.options.signal({ op: 'voice_video_quality', d: { mid, quality } })) return;
      this.toldQuality.set(mid, quality);
    }
  }

  /** The client's sending m-lines and what each carries. */
  private labels(): TrackLabel[] {
    const labels: TrackLabel[] = [];
    for (const kind of ['audio', 'camera', 'screen'] as const) {
      const transceiver = this.own[kind];
      if (transceiver?.mid != null && transceiver.direction === 'sendonly') labels.push({ mid: transceiver.mid, kind });
    }
    return labels;
  }

  private async startSending(pc: RTCPeerConnection, kind: 'camera' | 'screen', track: MediaStreamTrack, sendEncodings: RTCRtpEncodingParameters[]): Promise<void> {
    const existing = this.own[kind];
    if (existing) {
      // The m-line stays (stopping would leave a dead one behind); it only changes direction.
      // Its encodings were fixed when it was created.
      await existing.sender.replaceTrack(track);
      existing.direction = 'sendonly';
    } else {
      this.own[kind] = pc.addTransceiver(track, { direction: 'sendonly', sendEncodings });
    }
    this.negotiationWanted = true;
  }

  private async stopSending(kind: 'camera' | 'screen'): Promise<void> {
    const transceiver = this.own[kind];
    if (!transceiver) return;
    await transceiver.sender.replaceTrack(null);
    transceiver.direction = 'inactive';
    this.negotiationWanted = true;
  }

  /** Sends the microphone only while unmuted: a muted client sends no audio packets at all. */
  private async applyMicrophone(): Promise<void> {
    const sender = this.own.audio?.sender;
    if (!sender) return;
    const track = this.snapshot.selfMute ? null : this.microphone;
    if (sender.track !== track) await sender.replaceTrack(track);
  }

  private sendState(): void {
    if (!this.joinSent || !this.inCall()) return;
    const { selfMute, selfDeaf, camera, screen } = this.snapshot;
    this.options.signal({ op: 'voice_state', d: { self_mute: selfMute, self_deaf: selfDeaf, self_video: camera !== null, self_stream: screen !== null } });
  }

  // ---- plumbing --------------------------------------------------------------------------------

  /** Runs `step` after every earlier SDP step, unless the call it belongs to has ended. */
  private enqueue(pc: RTCPeerConnection, step: () => Promise<void>): Promise<void> {
    const run = this.chain.then(async () => {
      if (this.pc !== pc) return;
      try {
        await step();
      } catch (error) {
        // A step that throws leaves the peer connection in a state the server cannot follow.
        if (this.pc !== pc) return;
        console.warn('voice: negotiation failed', error);
        this.teardown(VoiceFailure.negotiationFailed);
      }
    });
    this.chain = run;
    return run;
  }

  private onConnectionState(pc: RTCPeerConnection): void {
    if (this.pc !== pc) return;
    const connection = pc.connectionState;
    if (connection === 'connected' && this.snapshot.status === 'joining') this.setState({ status: 'connected', connection });
    else this.setState({ connection });
  }

  private async openMicrophone(): Promise<MediaStreamTrack | null> {
    const deviceId = this.snapshot.devices.microphone;
    try {
      const stream = await this.options.media.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) },
      });
      return stream.getAudioTracks()[0] ?? null;
    } catch {
      return null;
    }
  }

  private cameraConstraints(): MediaTrackConstraints {
    const deviceId = this.snapshot.devices.camera;
    return { ...this.options.cameraConstraints, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) };
  }

  private description(description: RTCSessionDescriptionInit): SessionDescription {
    return { type: description.type as SessionDescription['type'], sdp: description.sdp ?? '' };
  }

  private inCall(): boolean {
    return this.snapshot.status === 'joining' || this.snapshot.status === 'connected';
  }

  /** The join numbered `attempt` is still under way (no leave or later join replaced it). */
  private stillJoining(attempt: number): boolean {
    return this.snapshot.status === 'joining' && this.joinAttempt === attempt;
  }

  /** Ends the call locally: closes the connection, releases the devices, back to idle. */
  private teardown(error: string | null): void {
    const pc = this.pc;
    this.pc = null;
    pc?.close();
    this.microphone?.stop();
    this.microphone = null;
    for (const stream of [this.snapshot.camera, this.snapshot.screen]) stream?.getTracks().forEach((track) => track.stop());
    this.own = {};
    this.joinSent = false;
    this.joined = false;
    this.offerOut = false;
    this.negotiationWanted = false;
    this.iceRestartWanted = false;
    this.wantedQuality.clear();
    this.toldQuality.clear();
    this.chain = Promise.resolve();
    this.setState({ ...idle(this.snapshot.devices), selfMute: this.snapshot.selfMute, selfDeaf: this.snapshot.selfDeaf, error });
  }

  private setState(patch: Partial<VoiceSnapshot>): void {
    const next = { ...this.snapshot, ...patch };
    const changed = (Object.keys(patch) as (keyof VoiceSnapshot)[]).some((key) => next[key] !== this.snapshot[key]);
    if (!changed) return;
    this.snapshot = next;
    for (const subscriber of this.subscribers) subscriber();
  }
}
