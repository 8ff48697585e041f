// The one WebSocket connection of the app. A plain class with explicit states so that the
// protocol (hello → identify/resume → dispatches, heartbeats, reconnects) lives in one place and
// is testable without React; components only subscribe to its snapshot and its events.
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff';
import {
  ClientCloseCode,
  CloseCode,
  type ClientFrame,
  type Dispatch,
  type ReadyData,
  type ServerFrame,
} from './protocol';
import type { VoiceClientFrame, VoiceServerFrame } from '../voice/protocol';

export type GatewayStatus =
  /** Not started, or stopped by the app (logged out). */
  | 'idle'
  /** Opening a socket for a fresh session; waiting for hello. */
  | 'connecting'
  /** identify sent; waiting for READY. */
  | 'identifying'
  /** Opening a socket, or resume sent, to continue an existing session; waiting for RESUMED. */
  | 'resuming'
  | 'ready'
  /** Disconnected; a reconnect is scheduled at `retryAt`. */
  | 'offline'
  /** The app could not supply a valid access token; nothing happens until `start()`. */
  | 'unauthorized';

export interface GatewaySnapshot {
  status: GatewayStatus;
  sessionId: string | null;
  /** The `s` of the last dispatch applied; 0 before the first. */
  seq: number;
  /** Failed attempts since the last healthy session; drives the backoff. */
  reconnectAttempt: number;
  /** When the scheduled reconnect fires (ms since epoch), while `offline`. */
  retryAt: number | null;
}

/** The part of the browser WebSocket the client uses, so tests can pass a fake. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface TokenRequest {
  /** True after the server rejected the token (close 4004): the cached one must not be reused. */
  forceRefresh: boolean;
}

export interface GatewayOptions {
  url: string;
  /**
   * Resolves to an access token, or to null when the user is definitively signed out.
   * Rejects on a transient failure (network), which the client treats like a dropped socket.
   */
  getAccessToken: (request: TokenRequest) => Promise<string | null>;
  createSocket?: (url: string) => WebSocketLike;
  backoff?: BackoffPolicy;
  random?: () => number;
  now?: () => number;
  /** How long opening the socket and receiving hello may take before the attempt counts as failed. */
  connectTimeoutMs?: number;
  /** Consecutive authentication failures after which the client gives up and reports `unauthorized`. */
  maxAuthFailures?: number;
}

export interface GatewayEvents {
  /** Every dispatch, in sequence order, exactly once per session sequence number. */
  dispatch: (dispatch: Dispatch) => void;
  /**
   * A new session replaced an earlier one (invalid session, failed resume, re-authentication):
   * dispatches may have been missed, so the app refetches what it shows over REST.
   */
  resync: (ready: ReadyData) => void;
  /** The app could not provide a token the server accepts; the user has to sign in again. */
  unauthorized: () => void;
  /** A voice signalling frame for this session (never replayed; the voice client handles it). */
  voice: (frame: VoiceServerFrame) => void;
}

type Listeners = { [K in keyof GatewayEvents]: Set<GatewayEvents[K]> };

const OPEN = 1;

export class GatewayClient {
  private readonly options: Required<Omit<GatewayOptions, 'createSocket'>> & {
    createSocket: (url: string) => WebSocketLike;
  };
  private snapshot: GatewaySnapshot = {
    status: 'idle',
    sessionId: null,
    seq: 0,
    reconnectAttempt: 0,
    retryAt: null,
  };
  private readonly subscribers = new Set<() => void>();
  private readonly listeners: Listeners = { dispatch: new Set(), resync: new Set(), unauthorized: new Set(), voice: new Set() };

  private socket: WebSocketLike | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private heartbeatIntervalMs = 0;
  private awaitingHeartbeatAck = false;
  private forceTokenRefresh = false;
  private authFailures = 0;
  /** Whether this client ever had a session, so a later READY means state may have been missed. */
  private hadSession = false;

  constructor(options: GatewayOptions) {
    this.options = {
      backoff: defaultBackoff,
      random: Math.random,
      now: Date.now,
      connectTimeoutMs: 15_000,
      maxAuthFailures: 3,
      createSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
      ...options,
    };
  }

  // ---- subscription (useSyncExternalStore) -------------------------------------------------

  getSnapshot = (): GatewaySnapshot => this.snapshot;

  subscribe = (onChange: () => void): (() => void) => {
    this.subscribers.add(onChange);
    return () => this.subscribers.delete(onChange);
  };

  on<K extends keyof GatewayEvents>(event: K, listener: GatewayEvents[K]): () => void {
    const set = this.listeners[event] as Set<GatewayEvents[K]>;
    set.add(listener);
    return () => set.delete(listener);
  }

  // ---- commands from the app ---------------------------------------------------------------

  /** Connects, if not already running. */
  start(): void {
    if (this.snapshot.status !== 'idle' && this.snapshot.status !== 'unauthorized') return;
    this.authFailures = 0;
    this.forceTokenRefresh = false;
    this.setState({ reconnectAttempt: 0 });
    this.connect();
  }

  /** Disconnects and forgets the session (logout). */
  stop(): void {
    this.abandonSocket(ClientCloseCode.stopped);
    this.clearRetry();
    this.hadSession = false;
    this.setState({ status: 'idle', sessionId: null, seq: 0, reconnectAttempt: 0, retryAt: null });
  }

  /** Skips the wait of a scheduled reconnect (the browser came back online, or the user asked). */
  retryNow(): void {
    if (this.snapshot.status !== 'offline') return;
    this.clearRetry();
    this.connect();
  }

  /** Sends a best-effort client event; dropped unless the session is ready. */
  send(frame: Extract<ClientFrame, { op: 'typing' | 'presence_update' }>): boolean {
    if (this.snapshot.status !== 'ready') return false;
    return this.sendFrame(frame);
  }

  /** Sends a voice signalling frame; false (not sent) unless the session is ready. */
  sendVoice(frame: VoiceClientFrame): boolean {
    if (this.snapshot.status !== 'ready') return false;
    return this.sendFrame(frame);
  }

  // ---- connection lifecycle ------------------------------------------------------------------

  private connect(): void {
    this.setState({ status: this.snapshot.sessionId ? 'resuming' : 'connecting', retryAt: null });
    let socket: WebSocketLike;
    try {
      socket = this.options.createSocket(this.options.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onmessage = (event) => {
      if (this.socket === socket) this.handleMessage(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.handleClose(event.code);
    };
    // An error is always followed by a close event, which is where recovery happens.
    socket.onerror = null;
    socket.onopen = null;
    this.connectTimer = setTimeout(
      () => this.dropAndReconnect(ClientCloseCode.connectTimeout),
      this.options.connectTimeoutMs,
    );
  }

  private handleMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data) as ServerFrame;
    } catch {
      return;
    }
    switch (frame.op) {
      case 'hello':
        this.handleHello(frame.d.heartbeat_interval_ms);
        break;
      case 'heartbeat_ack':
        this.awaitingHeartbeatAck = false;
        break;
      case 'dispatch':
        this.handleDispatch(frame);
        break;
      case 'invalid_session':
        this.handleInvalidSession(frame.d.resumable);
        break;
      case 'reconnect':
        this.dropAndReconnect(ClientCloseCode.reconnectRequested);
        break;
      case 'voice_answer':
      case 'voice_offer':
      case 'voice_error':
        this.emit('voice', frame);
        break;
    }
  }

  private handleHello(intervalMs: number): void {
    this.clearConnectTimer();
    this.heartbeatIntervalMs = intervalMs;
    this.awaitingHeartbeatAck = false;
    // The first beat is jittered so that clients reconnecting together do not beat together.
    this.scheduleHeartbeat(intervalMs * this.options.random());
    const { sessionId, seq } = this.snapshot;
    if (sessionId) void this.authenticate((token) => ({ op: 'resume', d: { token, session_id: sessionId, seq } }), 'resuming');
    else void this.authenticate((token) => ({ op: 'identify', d: { token } }), 'identifying');
  }

  private async authenticate(frame: (token: string) => ClientFrame, status: GatewayStatus): Promise<void> {
    const socket = this.socket;
    let token: string | null;
    try {
      token = await this.options.getAccessToken({ forceRefresh: this.forceTokenRefresh });
    } catch {
      if (this.socket === socket) this.dropAndReconnect(ClientCloseCode.tokenUnavailable);
      return;
    }
    if (this.socket !== socket || socket === null) return;
    if (token === null) {
      this.giveUpUnauthorized();
      return;
    }
    this.forceTokenRefresh = false;
    this.setState({ status });
    this.sendFrame(frame(token));
  }

  private handleDispatch(frame: Extract<ServerFrame, { op: 'dispatch' }>): void {
    const s = typeof frame.s === 'number' ? frame.s : null;
    // READY starts a new session, which numbers its dispatches afresh.
    if (s !== null && frame.t !== 'READY') {
      if (s <= this.snapshot.seq) return; // already applied (an overlapping replay): exactly once
      if (s !== this.snapshot.seq + 1) {
        // A gap: something was lost. Resuming from the last applied sequence replays it.
        this.dropAndReconnect(ClientCloseCode.sequenceGap, 0);
        return;
      }
    }
    const seq = s ?? this.snapshot.seq;
    const dispatch = { t: frame.t, d: frame.d, s } as Dispatch;
    if (dispatch.t === 'READY') {
      const missedState = this.hadSession;
      this.hadSession = true;
      this.authFailures = 0;
      this.setState({ status: 'ready', sessionId: dispatch.d.session_id, seq, reconnectAttempt: 0 });
      this.emit('dispatch', dispatch);
      if (missedState) this.emit('resync', dispatch.d);
      return;
    }
    if (dispatch.t === 'RESUMED') {
      this.authFailures = 0;
      this.setState({ status: 'ready', seq, reconnectAttempt: 0 });
    } else {
      this.setState({ seq });
    }
    this.emit('dispatch', dispatch);
  }

  private handleInvalidSession(resumable: boolean): void {
    if (resumable) {
      this.dropAndReconnect(ClientCloseCode.reconnectRequested);
      return;
    }
    // The session is gone: start a new one on this same socket. The READY that follows
    // triggers `resync`, since whatever happened in between was missed.
    this.setState({ sessionId: null, seq: 0 });
    void this.authenticate((token) => ({ op: 'identify', d: { token } }), 'identifying');
  }

  private handleClose(code: number): void {
    this.socket = null;
    this.clearTimers();
    switch (code) {
      case CloseCode.authenticationFailed:
        // The token was rejected or this login was revoked: a fresh token, then a new session.
        this.authFailures += 1;
        if (this.authFailures >= this.options.maxAuthFailures) {
          this.giveUpUnauthorized();
          return;
        }
        this.forceTokenRefresh = true;
        this.setState({ sessionId: null, seq: 0 });
        break;
      case CloseCode.invalidSeq:
      case CloseCode.notIdentified:
        this.setState({ sessionId: null, seq: 0 });
        break;
    }
    this.scheduleReconnect();
  }

  /** Abandons the current socket on the client's own initiative, then reconnects (resuming if possible). */
  private dropAndReconnect(code: number, attempt?: number): void {
    this.abandonSocket(code);
    if (attempt !== undefined) this.setState({ reconnectAttempt: attempt });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const attempt = this.snapshot.reconnectAttempt;
    const delay = backoffDelay(attempt, this.options.backoff, this.options.random);
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
    this.setState({ status: 'offline', reconnectAttempt: attempt + 1, retryAt: this.options.now() + delay });
  }

  private giveUpUnauthorized(): void {
    this.abandonSocket(ClientCloseCode.stopped);
    this.clearRetry();
    this.setState({ status: 'unauthorized', sessionId: null, seq: 0, retryAt: null });
    this.emit('unauthorized');
  }

  // ---- heartbeats ------------------------------------------------------------------------------

  private scheduleHeartbeat(delayMs: number): void {
    this.heartbeatTimer = setTimeout(() => this.beat(), delayMs);
  }

  private beat(): void {
    if (this.awaitingHeartbeatAck) {
      // The previous beat was never acknowledged: the connection is dead even if the socket
      // has not noticed. Resume on a new one.
      this.dropAndReconnect(ClientCloseCode.heartbeatTimeout);
      return;
    }
    this.awaitingHeartbeatAck = true;
    this.sendFrame({ op: 'heartbeat', d: { seq: this.snapshot.seq } });
    this.scheduleHeartbeat(this.heartbeatIntervalMs);
  }

  // ---- plumbing --------------------------------------------------------------------------------

  private sendFrame(frame: ClientFrame): boolean {
    if (!this.socket || this.socket.readyState !== OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  private abandonSocket(code: number): void {
    const socket = this.socket;
    this.socket = null;
    this.clearTimers();
    if (!socket) return;
    socket.onmessage = null;
    socket.onclose = null;
    try {
      socket.close(code);
    } catch {
      // Closing a socket that never opened can throw in some browsers; it is gone either way.
    }
  }

  private clearTimers(): void {
    this.clearConnectTimer();
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.awaitingHeartbeatAck = false;
  }

  private clearConnectTimer(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private clearRetry(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private setState(patch: Partial<GatewaySnapshot>): void {
    const next = { ...this.snapshot, ...patch };
    const changed = (Object.keys(patch) as (keyof GatewaySnapshot)[]).some((key) => next[key] !== this.snapshot[key]);
    if (!changed) return;
    this.snapshot = next;
    for (const subscriber of this.subscribers) subscriber();
  }

  private emit<K extends keyof GatewayEvents>(event: K, ...args: Parameters<GatewayEvents[K]>): void {
    for (const listener of this.listeners[event]) (listener as (...a: Parameters<GatewayEvents[K]>) => void)(...args);
  }
}
