import { QueryClient } from '@tanstack/react-query';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Channel, CurrentUser, Guild, Member, Message, User } from '../api/types';
import { useSession } from '../auth/session';
import type { Dispatch, ReadyData } from '../gateway/protocol';
import { applyDispatch } from './applyDispatch';
import { useLive } from './live';
import { chronological, type MessagePages } from './messageCache';
import { usePending } from './pending';
import { queryKeys } from './queryKeys';
import { unreadCount, useReadStates } from './readStates';
import { resetChatState } from './reset';
import { retrySend, sendMessage } from './send';
import { useToasts } from './toasts';
import { applyUserUpdate } from './users';
import { occupants, useVoiceStates } from '../voice/voiceStates';

const meAccount: CurrentUser = {
  id: 'me',
  username: 'mina',
  display_name: 'Mina',
  email: 'mina@example.com',
  system_role: 'user',
  created_at: '2025-01-01T00:00:00Z',
};
const me: User = { id: 'me', username: 'mina', display_name: 'Mina' };
const other: User = { id: 'you', username: 'jun', display_name: null };

let nextId = 100;
const message = (channelId: string, author = other, extra: Partial<Message> = {}): Message => ({
  id: String(nextId++),
  channel_id: channelId,
  guild_id: 'g1',
  author,
  content: 'hello',
  created_at: '2025-03-04T10:00:00Z',
  edited_at: null,
  ...extra,
});

const dispatch = <T extends Dispatch['t']>(t: T, d: Extract<Dispatch, { t: T }>['d']) => ({ t, d, s: null }) as Dispatch;

let queryClient: QueryClient;
const context = { activeChannelId: 'c1', now: 1_000 };
const cached = (channelId: string) => chronological(queryClient.getQueryData<MessagePages>(queryKeys.messages(channelId)));
const seedHistory = (channelId: string, messages: Message[] = []) =>
  queryClient.setQueryData<MessagePages>(queryKeys.messages(channelId), { pages: [messages], pageParams: [undefined] });

beforeEach(() => {
  queryClient = new QueryClient();
  useSession.setState({ status: 'signedIn', user: meAccount });
  resetChatState();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('applyDispatch', () => {
  const ready: ReadyData = {
    session_id: 's',
    user: meAccount,
    guilds: [
      {
        id: 'g1',
        name: 'Study',
        owner_id: 'me',
        member_count: 2,
        created_at: '2025-01-01T00:00:00Z',
        channels: [{ id: 'c1', guild_id: 'g1', name: 'general', kind: 'text', parent_id: null, position: 0, created_at: '2025-01-01T00:00:00Z' }],
        role: 'owner',
        voice_states: [],
        presences: [{ user_id: 'you', status: 'online' }],
      },
    ],
    read_states: [{ channel_id: 'c2', last_read_message_id: '5', unread_count: 3 }],
  };

  it('seeds guilds, channels, presence and read states from READY', () => {
    applyDispatch(queryClient, dispatch('READY', ready), context);
    expect(queryClient.getQueryData<Guild[]>(queryKeys.guilds)).toEqual([{ id: 'g1', name: 'Study', owner_id: 'me', member_count: 2, created_at: '2025-01-01T00:00:00Z' }]);
    expect(queryClient.getQueryData<Channel[]>(queryKeys.channels('g1'))?.map((c) => c.name)).toEqual(['general']);
    expect(useLive.getState().presence).toEqual({ you: 'online' });
    expect(unreadCount(useReadStates.getState().byChannel.c2)).toBe(3);
  });

  it('adds messages from others: read in the open channel, unread with a toast elsewhere', () => {
    seedHistory('c1');
    seedHistory('c2');
    const here = message('c1');
    const there = message('c2');
    applyDispatch(queryClient, dispatch('MESSAGE_CREATE', here), context);
    applyDispatch(queryClient, dispatch('MESSAGE_CREATE', there), context);
    expect(cached('c1')).toEqual([here]);
    expect(cached('c2')).toEqual([there]);
    expect(unreadCount(useReadStates.getState().byChannel.c1)).toBe(0);
    expect(unreadCount(useReadStates.getState().byChannel.c2)).toBe(1);
    expect(useToasts.getState().toasts).toEqual([there]);
  });

  it('applies edits and deletes to the cached history', () => {
    const original = message('c1');
    seedHistory('c1', [original]);
    applyDispatch(queryClient, dispatch('MESSAGE_UPDATE', { ...original, content: 'edited', edited_at: '2025-03-04T10:01:00Z' }), context);
    expect(cached('c1')[0]!.content).toBe('edited');
    applyDispatch(queryClient, dispatch('MESSAGE_DELETE', { id: original.id, channel_id: 'c1', guild_id: 'g1' }), context);
    expect(cached('c1')).toEqual([]);
  });

  it('drops a guild the user left or was removed from', () => {
    applyDispatch(queryClient, dispatch('READY', ready), context);
    applyDispatch(queryClient, dispatch('GUILD_DELETE', { id: 'g1' }), context);
    expect(queryClient.getQueryData<Guild[]>(queryKeys.guilds)).toEqual([]);
    expect(queryClient.getQueryData(queryKeys.channels('g1'))).toBeUndefined();
  });

  it("shows typing until the author's message arrives, and never for the user themself", () => {
    seedHistory('c1');
    applyDispatch(queryClient, dispatch('TYPING_START', { channel_id: 'c1', guild_id: 'g1', user_id: 'you', timestamp: '2025-03-04T10:00:00Z' }), context);
    applyDispatch(queryClient, dispatch('TYPING_START', { channel_id: 'c1', guild_id: 'g1', user_id: 'me', timestamp: '2025-03-04T10:00:00Z' }), context);
    expect(Object.keys(useLive.getState().typing.c1 ?? {})).toEqual(['you']);
    applyDispatch(queryClient, dispatch('MESSAGE_CREATE', message('c1')), context);
    expect(useLive.getState().typing.c1).toEqual({});
  });

  it("follows read states acknowledged by the user's other sessions", () => {
    applyDispatch(queryClient, dispatch('READ_STATE_UPDATE', { channel_id: 'c2', last_read_message_id: '9', unread_count: 0 }), context);
    expect(useReadStates.getState().byChannel.c2).toMatchObject({ lastReadId: '9', unreadCount: 0 });
  });
});

describe('optimistic send', () => {
  /** A fake POST /messages that records bodies and answers from `respond`. */
  function stubSend(respond: (body: { content: string; nonce: string }) => Response | Promise<Response>) {
    const bodies: { content: string; nonce: string }[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (_url: string, init: RequestInit) => {
        const body = JSON.parse(String(init.body)) as { content: string; nonce: string };
        bodies.push(body);
        return respond(body);
      }),
    );
    return bodies;
  }

  const created = (body: { content: string; nonce: string }, id = '500') =>
    new Response(JSON.stringify(message('c1', me, { id, content: body.content, nonce: body.nonce })), { status: 201 });

  it('shows the message as sending, then replaces it with the server copy', async () => {
    seedHistory('c1');
    let answer: (response: Response) => void = () => {};
    const bodies = stubSend(() => new Promise((resolve) => (answer = resolve)));
    const sent = sendMessage(queryClient, 'c1', 'hi **there**', null);
    expect(usePending.getState().byChannel.c1).toMatchObject([{ content: 'hi **there**', status: 'sending' }]);
    await vi.waitFor(() => expect(bodies).toHaveLength(1));
    answer(created(bodies[0]!));
    await sent;
    expect(usePending.getState().byChannel.c1).toEqual([]);
    expect(cached('c1').map((m) => [m.id, m.content])).toEqual([['500', 'hi **there**']]);
  });

  it('marks a failed send and retries it with the same nonce', async () => {
    seedHistory('c1');
    let fail = true;
    const bodies = stubSend((body) =>
      fail ? new Response(JSON.stringify({ error: { code: 'internal', message: 'x' } }), { status: 503 }) : created(body),
    );
    await sendMessage(queryClient, 'c1', 'again', null);
    const [failed] = usePending.getState().byChannel.c1!;
    expect(failed).toMatchObject({ status: 'failed' });
    fail = false;
    await retrySend(queryClient, failed!);
    expect(bodies.map((body) => body.nonce)).toEqual([failed!.nonce, failed!.nonce]);
    expect(usePending.getState().byChannel.c1).toEqual([]);
    expect(cached('c1')).toHaveLength(1);
  });

  it('settles on MESSAGE_CREATE when the gateway is faster than the POST, without duplicating', async () => {
    seedHistory('c1');
    let answer: (response: Response) => void = () => {};
    const bodies = stubSend(() => new Promise((resolve) => (answer = resolve)));
    const sent = sendMessage(queryClient, 'c1', 'race', null);
    await vi.waitFor(() => expect(bodies).toHaveLength(1));
    const echoed = message('c1', me, { id: '777', content: 'race', nonce: bodies[0]!.nonce });
    applyDispatch(queryClient, dispatch('MESSAGE_CREATE', echoed), context);
    expect(usePending.getState().byChannel.c1).toEqual([]);
    answer(new Response(JSON.stringify(echoed), { status: 201 }));
    await sent;
    expect(cached('c1').map((m) => m.id)).toEqual(['777']);
  });
});

describe('read states from REST', () => {
  it('are unknown until loaded, then replace the store', () => {
    expect(useReadStates.getState().loaded).toBe(false);
    useReadStates.getState().replaceAll([
      { channel_id: 'c1', last_read_message_id: '10', unread_count: 0 },
      { channel_id: 'c2', last_read_message_id: '10', unread_count: 4 },
    ]);
    expect(useReadStates.getState().loaded).toBe(true);
    expect(unreadCount(useReadStates.getState().byChannel.c1)).toBe(0);
    expect(unreadCount(useReadStates.getState().byChannel.c2)).toBe(4);
  });

  it('keep a newer message seen live, unless the server has read past it', () => {
    useReadStates.getState().noteMessage('c1', '20', false);
    useReadStates.getState().noteMessage('c2', '20', false);
    useReadStates.getState().replaceAll([
      { channel_id: 'c1', last_read_message_id: '10', unread_count: 0 },
      { channel_id: 'c2', last_read_message_id: '25', unread_count: 0 },
    ]);
    expect(unreadCount(useReadStates.getState().byChannel.c1)).toBe(1);
    expect(unreadCount(useReadStates.getState().byChannel.c2)).toBe(0);
  });

  it('are forgotten with the account', () => {
    useReadStates.getState().replaceAll([]);
    resetChatState();
    expect(useReadStates.getState()).toMatchObject({ loaded: false, byChannel: {} });
  });
});

describe('profile changes', () => {
  it('rename the author of cached messages, the member lists and the session', () => {
    seedHistory('c1', [message('c1', me), message('c1', other)]);
    queryClient.setQueryData(queryKeys.members('g1'), [
      { user: me, role: 'owner', joined_at: '2025-01-01T00:00:00Z' },
      { user: other, role: 'member', joined_at: '2025-01-01T00:00:00Z' },
    ]);
    queryClient.setQueryData(queryKeys.guilds, [{ id: 'g1', name: 'Study', owner_id: 'me', member_count: 2, created_at: '2025-01-01T00:00:00Z' }]);
    applyUserUpdate(queryClient, { ...meAccount, display_name: '미나' });
    expect(cached('c1').map((m) => m.author.display_name)).toEqual([null, '미나']);
    expect(queryClient.getQueryData<Member[]>(queryKeys.members('g1'))?.map((m) => m.user.display_name)).toEqual(['미나', null]);
    expect(queryClient.getQueryData<Guild[]>(queryKeys.guilds)?.[0]?.name).toBe('Study');
    expect(useSession.getState().user).toMatchObject({ display_name: '미나', email: 'mina@example.com' });
  });

  it("arrive as GUILD_MEMBER_UPDATE for other people's names", () => {
    seedHistory('c1', [message('c1', other)]);
    applyDispatch(queryClient, dispatch('GUILD_MEMBER_UPDATE', { guild_id: 'g1', member: { user: { ...other, display_name: 'Jun' }, role: 'member', joined_at: '2025-01-01T00:00:00Z' } }), context);
    expect(cached('c1')[0]!.author.display_name).toBe('Jun');
    expect(useSession.getState().user?.display_name).toBe('Mina');
  });
});

describe('membership, ban and invite dispatches', () => {
  const member = (user: User, role: Member['role'] = 'member'): Member => ({ user, role, joined_at: '2025-01-01T00:00:00Z' });

  it('adds, updates and removes members ({guild_id, member} and {guild_id, user})', () => {
    queryClient.setQueryData(queryKeys.members('g1'), [member(me, 'owner')]);
    applyDispatch(queryClient, dispatch('GUILD_MEMBER_ADD', { guild_id: 'g1', member: member(other) }), context);
    applyDispatch(queryClient, dispatch('GUILD_MEMBER_UPDATE', { guild_id: 'g1', member: member(other, 'admin') }), context);
    expect(queryClient.getQueryData<Member[]>(queryKeys.members('g1'))?.map((m) => [m.user.id, m.role])).toEqual([
      ['me', 'owner'],
      ['you', 'admin'],
    ]);
    applyDispatch(queryClient, dispatch('GUILD_MEMBER_REMOVE', { guild_id: 'g1', user: other }), context);
    expect(queryClient.getQueryData<Member[]>(queryKeys.members('g1'))?.map((m) => m.user.id)).toEqual(['me']);
  });

  it('keeps the ban and invite lists of the guild settings current', () => {
    queryClient.setQueryData(queryKeys.bans('g1'), []);
    queryClient.setQueryData(queryKeys.invites('g1'), []);
    applyDispatch(queryClient, dispatch('GUILD_BAN_ADD', { guild_id: 'g1', ban: { user: other, reason: 'spam', created_at: '2025-01-01T00:00:00Z' } }), context);
    const invite = { code: 'abc', guild_id: 'g1', inviter_id: 'me', uses: 0, max_uses: null, expires_at: null, created_at: '2025-01-01T00:00:00Z' };
    applyDispatch(queryClient, dispatch('INVITE_CREATE', invite), context);
    expect(queryClient.getQueryData<unknown[]>(queryKeys.bans('g1'))).toHaveLength(1);
    expect(queryClient.getQueryData<unknown[]>(queryKeys.invites('g1'))).toEqual([invite]);
    applyDispatch(queryClient, dispatch('GUILD_BAN_REMOVE', { guild_id: 'g1', user_id: 'you' }), context);
    applyDispatch(queryClient, dispatch('INVITE_DELETE', { guild_id: 'g1', code: 'abc' }), context);
    expect(queryClient.getQueryData<unknown[]>(queryKeys.bans('g1'))).toEqual([]);
    expect(queryClient.getQueryData<unknown[]>(queryKeys.invites('g1'))).toEqual([]);
  });
});

describe('voice dispatches', () => {
  const voiceState = (userId: string, channelId: string | null, flags: { self_mute?: boolean } = {}) => ({
    guild_id: 'g1',
    channel_id: channelId,
    user_id: userId,
    self_mute: false,
    self_deaf: false,
    self_video: false,
    self_stream: false,
    server_mute: false,
    speaking: false,
    ...flags,
  });
  const inChannel = (channelId: string) => occupants(useVoiceStates.getState().byGuild, 'g1', channelId).map((s) => [s.user_id, s.self_mute]);

  it('seeds who is in voice from GUILD_CREATE, follows VOICE_STATE_UPDATE and VOICE_SPEAKING, forgets a deleted guild', () => {
    const guild = {
      id: 'g1',
      name: 'Study',
      owner_id: 'me',
      member_count: 2,
      created_at: '2025-01-01T00:00:00Z',
      channels: [],
      role: 'owner' as const,
      presences: [],
      voice_states: [voiceState('you', 'v1')],
    };
    applyDispatch(queryClient, dispatch('GUILD_CREATE', guild), context);
    expect(inChannel('v1')).toEqual([['you', false]]);
    expect(queryClient.getQueryData<Guild[]>(queryKeys.guilds)?.[0]).not.toHaveProperty('voice_states');

    applyDispatch(queryClient, dispatch('VOICE_STATE_UPDATE', voiceState('me', 'v1', { self_mute: true })), context);
    applyDispatch(queryClient, dispatch('VOICE_SPEAKING', { channel_id: 'v1', user_id: 'you', speaking: true }), context);
    expect(inChannel('v1')).toEqual([
      ['me', true],
      ['you', false],
    ]);
    expect(useVoiceStates.getState().speaking).toEqual({ you: true });

    applyDispatch(queryClient, dispatch('VOICE_STATE_UPDATE', voiceState('you', null)), context);
    expect(inChannel('v1')).toEqual([['me', true]]);
    applyDispatch(queryClient, dispatch('GUILD_DELETE', { id: 'g1' }), context);
    expect(inChannel('v1')).toEqual([]);
  });
});
