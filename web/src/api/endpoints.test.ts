import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, memberPageLimit } from './endpoints';
import type { Member } from './types';

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const member = (id: number): Member => ({
  user: { id: String(id), username: `user${id}`, display_name: null },
  role: 'member',
  joined_at: '2025-01-01T00:00:00Z',
});

let fetchMock: ReturnType<typeof vi.fn>;
const urls = () => fetchMock.mock.calls.map(([url]) => String(url));

beforeEach(() => {
  fetchMock = vi.fn();
  vi.stubGlobal('fetch', fetchMock);
});

afterEach(() => vi.unstubAllGlobals());

describe('REST endpoints, as the server defines them', () => {
  it('pages through every member with ?after=<last user id>&limit=', async () => {
    const first = Array.from({ length: memberPageLimit }, (_, index) => member(index + 1));
    fetchMock.mockResolvedValueOnce(json(200, first)).mockResolvedValueOnce(json(200, [member(5000)]));
    const all = await api.allMembers('7');
    expect(all).toHaveLength(memberPageLimit + 1);
    expect(urls()).toEqual([`/api/guilds/7/members?limit=${memberPageLimit}`, `/api/guilds/7/members?after=${memberPageLimit}&limit=${memberPageLimit}`]);
  });

  it('asks for messages before, after or around an id', async () => {
    fetchMock.mockImplementation(async () => json(200, []));
    await api.messages('9', { before: '100', limit: 50 });
    await api.messages('9', { around: '100' });
    expect(urls()).toEqual(['/api/channels/9/messages?before=100&limit=50', '/api/channels/9/messages?around=100']);
  });

  it('acks with {message_id} and answers the new read state', async () => {
    const state = { channel_id: '9', last_read_message_id: '100', unread_count: 0 };
    fetchMock.mockResolvedValueOnce(json(200, state));
    await expect(api.ack('9', '100')).resolves.toEqual(state);
    const [url, init] = fetchMock.mock.calls[0]!;
    expect([url, init.method, JSON.parse(init.body)]).toEqual(['/api/channels/9/ack', 'POST', { message_id: '100' }]);
  });

  it('reads every read state of the user at once', async () => {
    fetchMock.mockResolvedValueOnce(json(200, []));
    await api.readStates();
    expect(urls()).toEqual(['/api/users/@me/read-states']);
  });

  it('creates invites with max_uses and max_age_seconds', async () => {
    fetchMock.mockResolvedValueOnce(json(201, { code: 'abc' }));
    await api.createInvite('7', { max_uses: 10, max_age_seconds: 86_400 });
    expect(JSON.parse(fetchMock.mock.calls[0]![1].body)).toEqual({ max_uses: 10, max_age_seconds: 86_400 });
  });
});
