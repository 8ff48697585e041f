import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GatewayClient, type GatewayOptions, type WebSocketLike } from './GatewayClient';
import type { ClientFrame, Dispatch } from './protocol';

/** A WebSocket double: the test plays the server through `open`, `receive` and `serverClose`. */
class FakeSocket implements WebSocketLike {
  readyState = 0;
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  readonly sent: ClientFrame[] = [];
  closedWith: number | null = null;

  constructor(readonly url: string) {}

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data) as ClientFrame);
  }

  close(code?: number): void {
    this.closedWith = code ?? 1005;
    this.readyState = 3;
  }

  hello(intervalMs = 40_000): void {
    this.readyState = 1;
    this.onopen?.({});
    this.receive({ op: 'hello', d: { heartbeat_interval_ms: intervalMs } });
  }

  receive(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  dispatch(t: string, s: number | null, d: unknown = {}): void {
    this.receive({ op: 'dispatch', t, s, d });
  }

  ready(sessionId = 'session-1', s = 1): void {
    this.dispatch('READY', s, { session_id: sessionId, user: { id: '1', username: 'mina', display_name: null }, guilds: [], read_states: [] });
  }

  serverClose(code: number): void {
    this.readyState = 3;
    this.onclose?.({ code, reason: '' });
  }

  framesOf<Op extends ClientFrame['op']>(op: Op): Extract<ClientFrame, { op: Op }>[] {
    return this.sent.filter((frame): frame is Extract<ClientFrame, { op: Op }> => frame.op === op);
  }
}

const flush = () => vi.advanceTimersByTimeAsync(0);

let sockets: FakeSocket[];
let tokens: { forceRefresh: boolean }[];

function makeClient(overrides: Partial<GatewayOptions> = {}) {
  let issued = 0;
  const client = new GatewayClient({
    url: 'ws://madang.test/gateway',
    getAccessToken: async (request) => {
      tokens.push(request);
      issued += 1;
      return `token-${issued}`;
    },
    createSocket: (url) => {
      const socket = new FakeSocket(url);
      sockets.push(socket);
      return socket;
    },
    random: () => 0.5,
    ...overrides,
  });
  const dispatches: Dispatch[] = [];
  const resyncs: string[] = [];
  client.on('dispatch', (dispatch) => dispatches.push(dispatch));
  client.on('resync', (ready) => resyncs.push(ready.session_id));
  return { client, dispatches, resyncs };
}

const latest = () => sockets[sockets.length - 1]!;

/** Starts a client and brings it to a ready session `session-1` at seq 1. */
async function readyClient(overrides: Partial<GatewayOptions> = {}) {
  const made = makeClient(overrides);
  made.client.start();
  latest().hello();
  await flush();
  latest().ready();
  return made;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
  sockets = [];
  tokens = [];
});

afterEach(() => {
  vi.useRealTimers();
});

describe('GatewayClient: a fresh session', () => {
  it('waits for hello, identifies with the access token and becomes ready on READY', async () => {
    const { client, dispatches } = makeClient();
    client.start();
    expect(client.getSnapshot().status).toBe('connecting');
    expect(latest().url).toBe('ws://madang.test/gateway');
    expect(latest().sent).toEqual([]);

    latest().hello();
    await flush();
    expect(latest().sent).toEqual([{ op: 'identify', d: { token: 'token-1' } }]);
    expect(client.getSnapshot().status).toBe('identifying');

    latest().ready('abc');
    expect(client.getSnapshot()).toMatchObject({ status: 'ready', sessionId: 'abc', seq: 1, reconnectAttempt: 0 });
    expect(dispatches.map((dispatch) => dispatch.t)).toEqual(['READY']);
  });

  it('notifies subscribers on every state change and keeps the snapshot stable otherwise', async () => {
    const { client } = makeClient();
    const seen: string[] = [];
    client.subscribe(() => seen.push(client.getSnapshot().status));
    client.start();
    const before = client.getSnapshot();
    latest().receive({ op: 'heartbeat_ack' });
    expect(client.getSnapshot()).toBe(before);
    latest().hello();
    await flush();
    latest().ready();
    expect(seen).toEqual(['connecting', 'identifying', 'ready']);
  });

  it('only sends typing and presence while ready', async () => {
    const { client } = makeClient();
    client.start();
    expect(client.send({ op: 'typing', d: { channel_id: '9' } })).toBe(false);
    latest().hello();
    await flush();
    latest().ready();
    expect(client.send({ op: 'typing', d: { channel_id: '9' } })).toBe(true);
    expect(latest().framesOf('typing')).toEqual([{ op: 'typing', d: { channel_id: '9' } }]);
  });

  it('gives up and reports unauthorized when the app has no token', async () => {
    const unauthorized = vi.fn();
    const { client } = makeClient({ getAccessToken: async () => null });
    client.on('unauthorized', unauthorized);
    client.start();
    latest().hello();
    await flush();
    expect(client.getSnapshot().status).toBe('unauthorized');
    expect(unauthorized).toHaveBeenCalledOnce();
    expect(latest().closedWith).toBe(1000);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(sockets).toHaveLength(1);
  });

  it('treats a failing token lookup as a dropped connection and retries', async () => {
    let calls = 0;
    const { client } = makeClient({
      getAccessToken: async () => {
        calls += 1;
        if (calls === 1) throw new Error('network down');
        return 'token-ok';
      },
    });
    client.start();
    latest().hello();
    await flush();
    expect(client.getSnapshot().status).toBe('offline');
    expect(latest().closedWith).toBe(3004);
    await vi.advanceTimersByTimeAsync(750);
    latest().hello();
    await flush();
    expect(latest().sent).toEqual([{ op: 'identify', d: { token: 'token-ok' } }]);
  });

  it('abandons an attempt that gets no hello in time', async () => {
    const { client } = makeClient({ connectTimeoutMs: 5_000 });
    client.start();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(client.getSnapshot().status).toBe('connecting');
    await vi.advanceTimersByTimeAsync(1);
    expect(sockets[0]!.closedWith).toBe(3003);
    expect(client.getSnapshot().status).toBe('offline');
  });
});

describe('GatewayClient: heartbeats', () => {
  it('beats with the last sequence at the interval, the first one jittered', async () => {
    const { client } = makeClient();
    client.start();
    latest().hello(10_000);
    await flush();
    latest().ready();
    latest().dispatch('MESSAGE_CREATE', 2);

    // random() = 0.5: the first beat comes after half an interval.
    await vi.advanceTimersByTimeAsync(4_999);
    expect(latest().framesOf('heartbeat')).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(latest().framesOf('heartbeat')).toEqual([{ op: 'heartbeat', d: { seq: 2 } }]);

    latest().receive({ op: 'heartbeat_ack' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(latest().framesOf('heartbeat')).toHaveLength(2);
    expect(client.getSnapshot().status).toBe('ready');
  });

  it('treats a missing ack as a dead connection and resumes on a new socket', async () => {
    const { client } = makeClient();
    client.start();
    latest().hello(10_000);
    await flush();
    latest().ready('s-1');
    await vi.advanceTimersByTimeAsync(5_000); // first beat, never acknowledged
    const dead = latest();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(dead.closedWith).toBe(3000);
    expect(client.getSnapshot().status).toBe('offline');

    await vi.advanceTimersByTimeAsync(750);
    expect(sockets).toHaveLength(2);
    expect(client.getSnapshot().status).toBe('resuming');
    latest().hello(10_000);
    await flush();
    expect(latest().sent).toEqual([{ op: 'resume', d: { token: 'token-2', session_id: 's-1', seq: 1 } }]);
  });
});

describe('GatewayClient: resume', () => {
  it('resumes after a dropped connection and applies the replay in order without resync', async () => {
    const { client, dispatches, resyncs } = await readyClient();
    latest().dispatch('MESSAGE_CREATE', 2, { id: 'm2' });
    latest().dispatch('MESSAGE_CREATE', 3, { id: 'm3' });
    latest().serverClose(1006);
    expect(client.getSnapshot()).toMatchObject({ status: 'offline', sessionId: 'session-1', seq: 3 });

    await vi.advanceTimersByTimeAsync(750);
    expect(client.getSnapshot().status).toBe('resuming');
    latest().hello();
    await flush();
    expect(latest().sent).toEqual([{ op: 'resume', d: { token: 'token-2', session_id: 'session-1', seq: 3 } }]);
    expect(client.getSnapshot().status).toBe('resuming');

    latest().dispatch('MESSAGE_CREATE', 4, { id: 'm4' });
    latest().dispatch('MESSAGE_DELETE', 5, { id: 'm2' });
    latest().dispatch('RESUMED', 6);
    expect(client.getSnapshot()).toMatchObject({ status: 'ready', seq: 6, reconnectAttempt: 0 });
    expect(dispatches.map((dispatch) => [dispatch.t, dispatch.s])).toEqual([
      ['READY', 1],
      ['MESSAGE_CREATE', 2],
      ['MESSAGE_CREATE', 3],
      ['MESSAGE_CREATE', 4],
      ['MESSAGE_DELETE', 5],
      ['RESUMED', 6],
    ]);
    expect(resyncs).toEqual([]);
  });

  it('resumes when the server asks the client to reconnect', async () => {
    const { client } = await readyClient();
    const first = latest();
    first.receive({ op: 'reconnect' });
    expect(first.closedWith).toBe(3002);
    await vi.advanceTimersByTimeAsync(750);
    latest().hello();
    await flush();
    expect(latest().framesOf('resume')).toHaveLength(1);
    expect(client.getSnapshot().status).toBe('resuming');
  });

  it('resumes after rate limiting or a session timeout close', async () => {
    for (const code of [4008, 4009, 4000]) {
      sockets = [];
      const { client } = await readyClient();
      latest().serverClose(code);
      await vi.advanceTimersByTimeAsync(750);
      latest().hello();
      await flush();
      expect(latest().framesOf('resume')).toHaveLength(1);
      client.stop();
    }
  });

  it('ignores events from a socket it has already replaced', async () => {
    const { client } = await readyClient();
    const old = latest();
    old.receive({ op: 'reconnect' });
    await vi.advanceTimersByTimeAsync(750);
    old.serverClose(1006);
    old.dispatch('MESSAGE_CREATE', 2);
    expect(client.getSnapshot()).toMatchObject({ status: 'resuming', seq: 1 });
  });
});

describe('GatewayClient: invalid sessions and re-identification', () => {
  it('identifies again on invalid_session and asks the app to refetch over REST', async () => {
    const { client, dispatches, resyncs } = await readyClient();
    latest().serverClose(1006);
    await vi.advanceTimersByTimeAsync(750);
    latest().hello();
    await flush();
    expect(latest().framesOf('resume')).toHaveLength(1);

    latest().receive({ op: 'invalid_session', d: { resumable: false } });
    await flush();
    expect(client.getSnapshot()).toMatchObject({ status: 'identifying', sessionId: null, seq: 0 });
    expect(latest().framesOf('identify')).toEqual([{ op: 'identify', d: { token: 'token-3' } }]);
    expect(resyncs).toEqual([]);

    latest().ready('session-2');
    expect(client.getSnapshot()).toMatchObject({ status: 'ready', sessionId: 'session-2', seq: 1 });
    expect(resyncs).toEqual(['session-2']);
    expect(dispatches.filter((dispatch) => dispatch.t === 'READY')).toHaveLength(2);
  });

  it('reconnects and resumes on a resumable invalid_session', async () => {
    await readyClient();
    latest().receive({ op: 'invalid_session', d: { resumable: true } });
    await vi.advanceTimersByTimeAsync(750);
    latest().hello();
    await flush();
    expect(latest().framesOf('resume')).toHaveLength(1);
  });

  it('starts a new session after close 4007 (invalid resume sequence)', async () => {
    const { client, resyncs } = await readyClient();
    latest().serverClose(4007);
    expect(client.getSnapshot()).toMatchObject({ sessionId: null, seq: 0 });
    await vi.advanceTimersByTimeAsync(750);
    expect(client.getSnapshot().status).toBe('connecting');
    latest().hello();
    await flush();
    expect(latest().sent).toEqual([{ op: 'identify', d: { token: 'token-2' } }]);
    latest().ready('session-2');
    expect(resyncs).toEqual(['session-2']);
  });

  it('fetches a fresh token after close 4004 and identifies with it', async () => {
    const { client } = await readyClient();
    latest().serverClose(4004);
    await vi.advanceTimersByTimeAsync(750);
    latest().hello();
    await flush();
    expect(tokens).toEqual([{ forceRefresh: false }, { forceRefresh: true }]);
    expect(latest().sent).toEqual([{ op: 'identify', d: { token: 'token-2' } }]);
    latest().ready('session-2');
    expect(client.getSnapshot().status).toBe('ready');
  });

  it('reports unauthorized when 4004 keeps coming with fresh tokens', async () => {
    const unauthorized = vi.fn();
    const { client } = makeClient({ maxAuthFailures: 2 });
    client.on('unauthorized', unauthorized);
    client.start();
    latest().hello();
    await flush();
    latest().serverClose(4004);
    await vi.advanceTimersByTimeAsync(750);
    latest().hello();
    await flush();
    latest().serverClose(4004);
    expect(client.getSnapshot().status).toBe('unauthorized');
    expect(unauthorized).toHaveBeenCalledOnce();
  });

  it('reports unauthorized when the refresh after 4004 fails', async () => {
    let calls = 0;
    const { client } = makeClient({
      getAccessToken: async ({ forceRefresh }) => {
        calls += 1;
        return forceRefresh ? null : `token-${calls}`;
      },
    });
    client.start();
    latest().hello();
    await flush();
    latest().ready();
    latest().serverClose(4004);
    await vi.advanceTimersByTimeAsync(750);
    latest().hello();
    await flush();
    expect(client.getSnapshot().status).toBe('unauthorized');
  });
});

describe('GatewayClient: dispatch sequencing', () => {
  it('delivers each sequence number once, dropping replays it has already applied', async () => {
    const { client, dispatches } = await readyClient();
    latest().dispatch('MESSAGE_CREATE', 2, { id: 'a' });
    latest().dispatch('MESSAGE_CREATE', 2, { id: 'a' });
    latest().dispatch('MESSAGE_CREATE', 1, { id: 'old' });
    latest().dispatch('MESSAGE_CREATE', 3, { id: 'b' });
    expect(dispatches.map((dispatch) => dispatch.s)).toEqual([1, 2, 3]);
    expect(client.getSnapshot().seq).toBe(3);
  });

  it('treats a gap as a lost frame: drops the socket and resumes from the last applied sequence', async () => {
    const { client, dispatches } = await readyClient();
    latest().dispatch('MESSAGE_CREATE', 2);
    const gapped = latest();
    gapped.dispatch('MESSAGE_CREATE', 4);
    expect(gapped.closedWith).toBe(3001);
    expect(dispatches.map((dispatch) => dispatch.s)).toEqual([1, 2]);
    expect(client.getSnapshot()).toMatchObject({ status: 'offline', seq: 2 });

    await vi.advanceTimersByTimeAsync(750);
    latest().hello();
    await flush();
    expect(latest().framesOf('resume')).toEqual([{ op: 'resume', d: { token: 'token-2', session_id: 'session-1', seq: 2 } }]);
    latest().dispatch('MESSAGE_CREATE', 3);
    latest().dispatch('MESSAGE_CREATE', 4);
    latest().dispatch('RESUMED', 5);
    expect(dispatches.map((dispatch) => dispatch.s)).toEqual([1, 2, 3, 4, 5]);
  });

  it('passes dispatches without a sequence through untouched', async () => {
    const { client, dispatches } = await readyClient();
    latest().dispatch('TYPING_START', null, { channel_id: '1', user_id: '2' });
    expect(dispatches.map((dispatch) => dispatch.t)).toEqual(['READY', 'TYPING_START']);
    expect(client.getSnapshot().seq).toBe(1);
  });

  it('ignores frames that are not JSON', async () => {
    const { client } = await readyClient();
    latest().onmessage?.({ data: 'not json' });
    latest().onmessage?.({ data: new ArrayBuffer(2) });
    expect(client.getSnapshot().status).toBe('ready');
  });
});

describe('GatewayClient: reconnect backoff', () => {
  /** Lets the current socket fail right after opening and returns the scheduled delay. */
  async function failOnce(client: GatewayClient): Promise<number> {
    latest().serverClose(1006);
    const { retryAt } = client.getSnapshot();
    const delay = retryAt! - Date.now();
    await vi.advanceTimersByTimeAsync(delay);
    return delay;
  }

  it('doubles the delay per failed attempt up to the cap, with jitter, and resets after a healthy session', async () => {
    const { client } = makeClient({ backoff: { baseMs: 1_000, maxMs: 8_000 } });
    client.start();
    const delays: number[] = [];
    for (let attempt = 0; attempt < 6; attempt += 1) delays.push(await failOnce(client));
    // Equal jitter with random() = 0.5: three quarters of the ceiling.
    expect(delays).toEqual([750, 1_500, 3_000, 6_000, 6_000, 6_000]);
    expect(client.getSnapshot().reconnectAttempt).toBe(6);

    latest().hello();
    await flush();
    latest().ready();
    expect(client.getSnapshot().reconnectAttempt).toBe(0);
    expect(await failOnce(client)).toBe(750);
  });

  it('draws the jitter from the upper half of the ceiling', async () => {
    for (const [random, expected] of [
      [0, 2_000],
      [0.999_999, 4_000],
    ] as const) {
      sockets = [];
      const { client } = makeClient({ random: () => random });
      client.start();
      await failOnce(client);
      await failOnce(client);
      latest().serverClose(1006);
      expect(client.getSnapshot().retryAt! - Date.now()).toBe(expected);
      client.stop();
    }
  });

  it('reconnects at once on retryNow', async () => {
    const { client } = makeClient();
    client.start();
    latest().serverClose(1006);
    expect(sockets).toHaveLength(1);
    client.retryNow();
    expect(sockets).toHaveLength(2);
    expect(client.getSnapshot().status).toBe('connecting');
  });

  it('stops for good on stop(): closes normally, forgets the session and schedules nothing', async () => {
    const { client } = await readyClient();
    const socket = latest();
    client.stop();
    expect(socket.closedWith).toBe(1000);
    expect(client.getSnapshot()).toMatchObject({ status: 'idle', sessionId: null, seq: 0 });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(sockets).toHaveLength(1);
  });
});

describe('GatewayClient: voice signalling', () => {
  it('hands voice frames to the voice listener, not as dispatches, and does not count them in the sequence', async () => {
    const { client, dispatches } = await readyClient();
    const frames: unknown[] = [];
    client.on('voice', (frame) => frames.push(frame));
    latest().receive({ op: 'voice_answer', d: { answer: { type: 'answer', sdp: 'v=0' } } });
    latest().receive({ op: 'voice_offer', d: { offer: { type: 'offer', sdp: 'v=0' }, tracks: [{ mid: '1', user_id: '7', kind: 'audio' }] } });
    latest().receive({ op: 'voice_error', d: { code: 'voice_channel_full', message: 'full' } });
    expect(frames.map((frame) => (frame as { op: string }).op)).toEqual(['voice_answer', 'voice_offer', 'voice_error']);
    expect(dispatches.map((dispatch) => dispatch.t)).toEqual(['READY']);
    expect(client.getSnapshot().seq).toBe(1);
  });

  it('sends voice frames only while ready', async () => {
    const { client } = makeClient();
    client.start();
    latest().hello();
    await flush();
    expect(client.sendVoice({ op: 'voice_leave' })).toBe(false);
    latest().ready();
    expect(client.sendVoice({ op: 'voice_leave' })).toBe(true);
    expect(latest().sent.at(-1)).toEqual({ op: 'voice_leave' });
  });
});
