import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import i18n from '../i18n';
import { en } from '../i18n/en';
import { ko } from '../i18n/ko';
import { ApiClient, ApiError, NetworkError } from './client';
import { errorMessage, invalidField } from './errors';
import type { AuthResponse } from './types';

interface Call {
  method: string;
  url: string;
  authorization: string | null;
  credentials: RequestCredentials | undefined;
  body: unknown;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

const session = (token: string, expiresIn = 900): AuthResponse => ({
  user: { id: '1', username: 'mina', display_name: 'Mina', email: 'mina@example.com', system_role: 'user', created_at: '2025-01-01T00:00:00Z' },
  access_token: token,
  expires_in: expiresIn,
});

/** A fake server: `routes` answers by "METHOD path"; every call is recorded. */
function fakeServer(routes: Record<string, (call: Call) => Response | Promise<Response>>) {
  const calls: Call[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    const call: Call = {
      method: init?.method ?? 'GET',
      url: String(input),
      authorization: headers.get('Authorization'),
      credentials: init?.credentials,
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    const route = routes[`${call.method} ${call.url.split('?')[0]}`];
    if (!route) return json(404, { error: { code: 'not_found', message: 'no route' } });
    return route(call);
  });
  return { calls, fetch: fetch as unknown as typeof globalThis.fetch };
}

describe('ApiClient', () => {
  it('sends the access token as a Bearer header and JSON bodies', async () => {
    const server = fakeServer({ 'PATCH /api/users/@me': () => json(200, { id: '1' }) });
    const client = new ApiClient({ fetch: server.fetch });
    client.acceptSession(session('tok-1'));
    await client.request('PATCH', '/api/users/@me', { body: { display_name: 'M' } });
    expect(server.calls).toEqual([
      { method: 'PATCH', url: '/api/users/@me', authorization: 'Bearer tok-1', credentials: 'same-origin', body: { display_name: 'M' } },
    ]);
  });

  it('encodes query parameters and leaves out undefined ones', async () => {
    const server = fakeServer({ 'GET /api/channels/5/messages': () => json(200, []) });
    const client = new ApiClient({ fetch: server.fetch });
    await client.request('GET', '/api/channels/5/messages', { query: { before: '99', after: undefined, limit: 50 } });
    expect(server.calls[0]!.url).toBe('/api/channels/5/messages?before=99&limit=50');
  });

  it('refreshes once on 401 and retries with the new token', async () => {
    let guildCalls = 0;
    const server = fakeServer({
      'GET /api/users/@me/guilds': (call) => {
        guildCalls += 1;
        return call.authorization === 'Bearer fresh' ? json(200, [{ id: 'g' }]) : json(401, { error: { code: 'unauthorized', message: 'expired' } });
      },
      'POST /api/auth/refresh': () => json(200, session('fresh')),
    });
    const client = new ApiClient({ fetch: server.fetch });
    const sessions: (string | null)[] = [];
    client.onSession((next) => sessions.push(next?.access_token ?? null));
    client.acceptSession(session('stale'));

    await expect(client.request('GET', '/api/users/@me/guilds')).resolves.toEqual([{ id: 'g' }]);
    expect(guildCalls).toBe(2);
    const refresh = server.calls.find((call) => call.url === '/api/auth/refresh')!;
    expect(refresh).toMatchObject({ method: 'POST', authorization: null, credentials: 'same-origin' });
    expect(sessions).toEqual(['stale', 'fresh']);
  });

  it('shares one refresh between concurrent requests (the refresh token rotates)', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const server = fakeServer({
      'GET /api/a': (call) => (call.authorization === 'Bearer fresh' ? json(200, 'a') : json(401, {})),
      'GET /api/b': (call) => (call.authorization === 'Bearer fresh' ? json(200, 'b') : json(401, {})),
      'POST /api/auth/refresh': async () => {
        await gate;
        return json(200, session('fresh'));
      },
    });
    const client = new ApiClient({ fetch: server.fetch });
    client.acceptSession(session('stale'));
    const both = Promise.all([client.request('GET', '/api/a'), client.request('GET', '/api/b')]);
    await vi.waitFor(() => expect(server.calls.filter((call) => call.url === '/api/auth/refresh')).toHaveLength(1));
    release();
    await expect(both).resolves.toEqual(['a', 'b']);
    expect(server.calls.filter((call) => call.url === '/api/auth/refresh')).toHaveLength(1);
  });

  it('ends the session when the refresh is refused, and surfaces the 401', async () => {
    const server = fakeServer({
      'GET /api/users/@me': () => json(401, { error: { code: 'unauthorized', message: 'expired' } }),
      'POST /api/auth/refresh': () => json(401, { error: { code: 'unauthorized', message: 'no cookie' } }),
    });
    const client = new ApiClient({ fetch: server.fetch });
    const sessions: (string | null)[] = [];
    client.acceptSession(session('stale'));
    client.onSession((next) => sessions.push(next?.access_token ?? null));
    await expect(client.request('GET', '/api/users/@me')).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    expect(sessions).toEqual([null]);
    expect(server.calls.filter((call) => call.url === '/api/users/@me')).toHaveLength(1);
  });

  it('does not refresh on a 401 from login (wrong password is not an expired session)', async () => {
    const server = fakeServer({
      'POST /api/auth/login': () => json(401, { error: { code: 'invalid_credentials', message: 'nope' } }),
    });
    const client = new ApiClient({ fetch: server.fetch });
    await expect(client.request('POST', '/api/auth/login', { body: { login: 'a', password: 'b' } })).rejects.toMatchObject({
      code: 'invalid_credentials',
    });
    expect(server.calls.map((call) => call.url)).toEqual(['/api/auth/login']);
  });

  it('refreshes before a request when the token is about to expire', async () => {
    let now = 0;
    const server = fakeServer({
      'GET /api/users/@me': () => json(200, {}),
      'POST /api/auth/refresh': () => json(200, session('fresh')),
    });
    const client = new ApiClient({ fetch: server.fetch, now: () => now });
    client.acceptSession(session('old', 60));
    now = 50_000;
    await client.request('GET', '/api/users/@me');
    expect(server.calls.map((call) => [call.url, call.authorization])).toEqual([
      ['/api/auth/refresh', null],
      ['/api/users/@me', 'Bearer fresh'],
    ]);
  });

  it('restores a session from the refresh cookie, or reports none', async () => {
    const signedIn = new ApiClient({ fetch: fakeServer({ 'POST /api/auth/refresh': () => json(200, session('restored')) }).fetch });
    await expect(signedIn.getAccessToken()).resolves.toBe('restored');
    const signedOut = new ApiClient({ fetch: fakeServer({ 'POST /api/auth/refresh': () => json(401, {}) }).fetch });
    await expect(signedOut.getAccessToken()).resolves.toBeNull();
  });

  it('turns error bodies into ApiError and transport failures into NetworkError', async () => {
    const server = fakeServer({
      'POST /api/invites/x': () => json(410, { error: { code: 'invite_expired', message: 'expired' } }),
      'GET /api/broken': () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    });
    const client = new ApiClient({ fetch: server.fetch });
    const expired = await client.request('POST', '/api/invites/x').catch((error: unknown) => error);
    expect(expired).toBeInstanceOf(ApiError);
    expect(expired).toMatchObject({ status: 410, code: 'invite_expired' });
    await expect(client.request('GET', '/api/broken')).rejects.toMatchObject({ status: 502, code: 'http_502' });

    const offline = new ApiClient({
      fetch: (() => Promise.reject(new TypeError('Failed to fetch'))) as unknown as typeof fetch,
    });
    await expect(offline.request('GET', '/api/users/@me')).rejects.toBeInstanceOf(NetworkError);
  });

  it('answers 204 with undefined', async () => {
    const server = fakeServer({ 'DELETE /api/x': () => new Response(null, { status: 204 }) });
    await expect(new ApiClient({ fetch: server.fetch }).request('DELETE', '/api/x')).resolves.toBeUndefined();
  });
});

describe('errorMessage', () => {
  it('translates by code, then by status, then generically, in the current language', async () => {
    const t = i18n.getFixedT('en');
    expect(errorMessage(t, new ApiError(409, 'username_taken', 'taken'))).toBe('That username is taken.');
    expect(errorMessage(t, new ApiError(429, 'something_new', 'slow down'))).toBe('Too many attempts. Please wait a moment.');
    expect(errorMessage(t, new ApiError(503, 'http_503', ''))).toBe('The server had a problem. Please try again.');
    expect(errorMessage(t, new NetworkError(null))).toBe('Could not reach the server. Check your connection.');
    expect(errorMessage(t, new Error('boom'))).toBe('Something went wrong. Please try again.');
    expect(errorMessage(i18n.getFixedT('ko'), new ApiError(409, 'username_taken', 'taken'))).toBe('이미 사용 중인 사용자 이름이에요.');
  });
});

describe('error codes', () => {
  const document = JSON.parse(readFileSync(resolve(__dirname, '../../../docs/openapi.json'), 'utf8')) as {
    components: { schemas: { ErrorCode: { enum: string[] } } };
  };
  const serverCodes = document.components.schemas.ErrorCode.enum;

  it('has a Korean and an English message for every code in the OpenAPI document, and no other', () => {
    expect(serverCodes.length).toBeGreaterThan(10);
    expect(Object.keys(en.errors.codes).sort()).toEqual([...serverCodes].sort());
    expect(Object.keys(ko.errors.codes).sort()).toEqual([...serverCodes].sort());
    for (const code of serverCodes) {
      for (const language of ['en', 'ko']) {
        const message = errorMessage(i18n.getFixedT(language), new ApiError(400, code, 'English developer text'));
        expect(message, `${language} ${code}`).not.toBe('English developer text');
        expect(message, `${language} ${code}`).not.toBe(i18n.getFixedT(language)('errors.generic'));
      }
    }
  });

  it('points at the field a validation failure names', () => {
    const t = i18n.getFixedT('en');
    expect(invalidField("username: may contain only a-z, 0-9, '_' and '.'")).toBe('username');
    expect(invalidField('limit: must be 1 to 100')).toBeNull();
    expect(invalidField('no field here')).toBeNull();
    expect(errorMessage(t, new ApiError(422, 'validation_failed', 'password: must be 12 to 128 characters'))).toBe(
      'Passwords are 12–128 characters long.',
    );
    expect(errorMessage(t, new ApiError(422, 'validation_failed', 'limit: must be 1 to 100'))).toBe('Please check what you entered.');
    expect(errorMessage(i18n.getFixedT('ko'), new ApiError(422, 'validation_failed', 'email: must be an e-mail address'))).toBe(
      '이메일 주소 형식이 아니에요.',
    );
  });

  it('keeps the Retry-After of a 429', async () => {
    const server = fakeServer({
      'POST /api/auth/login': () =>
        new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'slow' } }), { status: 429, headers: { 'Retry-After': '12' } }),
    });
    await expect(new ApiClient({ fetch: server.fetch }).request('POST', '/api/auth/login', { body: {} })).rejects.toMatchObject({
      status: 429,
      retryAfter: 12,
    });
  });
});
