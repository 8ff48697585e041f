import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiClient } from '../api/endpoints';
import { restoreSession, sessionHintKey, useSession } from './session';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

const session = {
  user: { id: '1', username: 'mina', display_name: null, email: 'mina@example.com', system_role: 'user', created_at: '2025-01-01T00:00:00Z' },
  access_token: 'token',
  expires_in: 900,
};

let fetchMock: ReturnType<typeof vi.fn>;

beforeEach(() => {
  fetchMock = vi.fn();
  vi.stubGlobal('fetch', fetchMock);
  useSession.setState({ status: 'restoring', user: null });
});

afterEach(() => {
  apiClient.endSession();
  localStorage.clear();
  vi.unstubAllGlobals();
});

describe('restoreSession', () => {
  it('asks nothing of the server when this browser never signed in', async () => {
    await restoreSession();
    expect(fetchMock).not.toHaveBeenCalled();
    expect(useSession.getState().status).toBe('signedOut');
  });

  it('restores the session from the refresh cookie, and remembers that one exists', async () => {
    localStorage.setItem(sessionHintKey, '1');
    fetchMock.mockResolvedValueOnce(json(200, session));
    await restoreSession();
    expect(fetchMock.mock.calls[0]![0]).toBe('/api/auth/refresh');
    expect(useSession.getState()).toMatchObject({ status: 'signedIn', user: { username: 'mina' } });
    expect(localStorage.getItem(sessionHintKey)).toBe('1');
  });

  it('signs out at once when the server refuses the cookie', async () => {
    localStorage.setItem(sessionHintKey, '1');
    fetchMock.mockResolvedValueOnce(json(401, { error: { code: 'unauthorized', message: 'no' } }));
    const wait = vi.fn(async (_ms: number) => {});
    await restoreSession({ wait });
    expect(wait).not.toHaveBeenCalled();
    expect(useSession.getState().status).toBe('signedOut');
    expect(localStorage.getItem(sessionHintKey)).toBeNull();
  });

  it('waits out a rate limit (Retry-After) instead of throwing a valid session away', async () => {
    localStorage.setItem(sessionHintKey, '1');
    fetchMock
      .mockResolvedValueOnce(json(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'Retry-After': '7' }))
      .mockRejectedValueOnce(new TypeError('Failed to fetch'))
      .mockResolvedValueOnce(json(200, session));
    const wait = vi.fn(async (_ms: number) => {});
    await restoreSession({ wait });
    expect(wait.mock.calls.map(([ms]) => ms)).toEqual([7000, 2000]);
    expect(useSession.getState().status).toBe('signedIn');
  });

  it('gives up after its attempts and shows the login screen', async () => {
    localStorage.setItem(sessionHintKey, '1');
    fetchMock.mockImplementation(async () => json(503, { error: { code: 'unavailable', message: 'down' } }));
    await restoreSession({ attempts: 3, wait: async () => {} });
    expect(fetchMock).toHaveBeenCalledTimes(3);
    expect(useSession.getState().status).toBe('signedOut');
  });
});
