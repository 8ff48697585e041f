import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Channel, Guild, Member } from '../../api/types';
import { useSession } from '../../auth/session';
import { queryKeys } from '../../chat/queryKeys';
import GuildSettings from './GuildSettings';

const json = (status: number, body?: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
const guild: Guild = { id: '1', name: 'Study Group', owner_id: '100', member_count: 4, created_at: '2025-01-01T00:00:00Z' };
const member = (id: string, role: Member['role'], username: string): Member => ({
  user: { id, username, display_name: null },
  role,
  joined_at: '2025-01-01T00:00:00Z',
});
const members = [member('100', 'owner', 'olivia'), member('200', 'admin', 'adam'), member('201', 'admin', 'ada'), member('300', 'member', 'mina')];
const channel = (id: string, kind: Channel['kind'], position: number, parent_id: string | null = null): Channel => ({
  id,
  guild_id: '1',
  kind,
  name: `chan${id}`,
  position,
  parent_id,
  topic: null,
  created_at: '2025-01-01T00:00:00Z',
});
const channels = [channel('10', 'text', 0), channel('11', 'text', 1), channel('20', 'category', 2)];

let fetchMock: ReturnType<typeof vi.fn>;
const calls = () =>
  fetchMock.mock.calls.map(([url, init]) => [init?.method ?? 'GET', String(url), init?.body ? JSON.parse(init.body as string) : undefined]);

beforeEach(() => {
  fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    if (method === 'GET' && url.startsWith('/api/guilds/1/invites')) return json(200, []);
    if (method === 'GET' && url.startsWith('/api/guilds/1/bans')) return json(200, []);
    if (method === 'PATCH' && url === '/api/guilds/1') return json(200, { ...guild, ...JSON.parse(init!.body as string) });
    if (method === 'PATCH' && url === '/api/guilds/1/channels') return json(200, channels);
    if (method === 'DELETE') return json(204);
    return json(404, { error: { code: 'not_found', message: 'unexpected in test' } });
  });
  vi.stubGlobal('fetch', fetchMock);
});

afterEach(() => {
  vi.unstubAllGlobals();
  useSession.setState({ status: 'signedOut', user: null });
});

function open(userId: string) {
  useSession.setState({
    status: 'signedIn',
    user: { id: userId, username: 'me', display_name: null, email: 'me@example.com', system_role: 'user', created_at: '2025-01-01T00:00:00Z' },
  });
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  queryClient.setQueryData(queryKeys.members('1'), members);
  queryClient.setQueryData(queryKeys.channels('1'), channels);
  queryClient.setQueryData(queryKeys.guilds, [guild]);
  const onClose = vi.fn();
  const router = createMemoryRouter([{ path: '*', element: <GuildSettings guild={guild} onClose={onClose} /> }]);
  render(
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return { queryClient, onClose };
}

const tabNames = () => screen.getAllByRole('tab').map((tab) => tab.textContent);

describe('guild settings', () => {
  it('shows a plain member only the overview (to leave) and their invites', () => {
    open('300');
    expect(tabNames()).toEqual(['Overview', 'Invites']);
    expect((screen.getByRole('textbox', { name: 'Server name' }) as HTMLInputElement).readOnly).toBe(true);
    expect(screen.getByRole('button', { name: 'Leave server' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Delete server' })).toBeNull();
  });

  it('gives the owner every tab, renaming, and deletion only after typing the name', async () => {
    open('100');
    expect(tabNames()).toEqual(['Overview', 'Channels', 'Invites', 'Members', 'Bans']);
    expect(screen.queryByRole('button', { name: 'Leave server' })).toBeNull();
    fireEvent.change(screen.getByRole('textbox', { name: 'Server name' }), { target: { value: 'Study Club' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved');
    expect(calls()).toContainEqual(['PATCH', '/api/guilds/1', { name: 'Study Club' }]);

    fireEvent.click(screen.getByRole('button', { name: 'Delete server' }));
    const confirm = screen.getByRole('dialog', { name: 'Delete Study Group' });
    const button = within(confirm).getByRole('button', { name: 'Delete server' }) as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    fireEvent.change(within(confirm).getByRole('textbox'), { target: { value: 'Study Group' } });
    expect(button.disabled).toBe(false);
    fireEvent.click(button);
    await waitFor(() => expect(calls()).toContainEqual(['DELETE', '/api/guilds/1', undefined]));
  });

  it('moves between tabs with the arrow keys', () => {
    open('100');
    const overview = screen.getByRole('tab', { name: 'Overview' });
    fireEvent.keyDown(overview, { key: 'ArrowRight' });
    expect(screen.getByRole('tab', { name: 'Channels' }).getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(screen.getByRole('tab', { name: 'Channels' }), { key: 'End' });
    expect(screen.getByRole('tab', { name: 'Bans' }).getAttribute('aria-selected')).toBe('true');
    expect(screen.getByRole('tabpanel').getAttribute('aria-labelledby')).toBe(screen.getByRole('tab', { name: 'Bans' }).id);
  });

  it('reorders channels with the move buttons', async () => {
    open('200');
    fireEvent.click(screen.getByRole('tab', { name: 'Channels' }));
    expect((screen.getByRole('button', { name: 'Move chan10 up' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Move chan10 down' }));
    await waitFor(() =>
      expect(calls()).toContainEqual([
        'PATCH',
        '/api/guilds/1/channels',
        [
          { id: '11', position: 0, parent_id: null },
          { id: '10', position: 1, parent_id: null },
        ],
      ]),
    );
  });

  it('lets an admin kick and ban members but not other admins or the owner', async () => {
    const { queryClient } = open('200');
    fireEvent.click(screen.getByRole('tab', { name: 'Members' }));
    expect(screen.getAllByRole('group').map((group) => group.getAttribute('aria-label'))).toEqual(['Actions for mina']);
    expect(screen.queryByRole('button', { name: 'Make admin' })).toBeNull();
    fireEvent.click(within(screen.getByRole('group')).getByRole('button', { name: 'Kick' }));
    const confirm = screen.getByRole('dialog', { name: 'Kick mina' });
    fireEvent.click(within(confirm).getByRole('button', { name: 'Kick' }));
    await waitFor(() => expect(calls()).toContainEqual(['DELETE', '/api/guilds/1/members/300', undefined]));
    await waitFor(() => expect(queryClient.getQueryData<Member[]>(queryKeys.members('1'))?.map((m) => m.user.id)).toEqual(['100', '200', '201']));
  });

  it('lets the owner make admins and transfer the ownership', () => {
    open('100');
    fireEvent.click(screen.getByRole('tab', { name: 'Members' }));
    const mina = screen.getByRole('group', { name: 'Actions for mina' });
    expect(within(mina).getByRole('button', { name: 'Make admin' })).toBeTruthy();
    expect(within(screen.getByRole('group', { name: 'Actions for adam' })).getByRole('button', { name: 'Remove admin' })).toBeTruthy();
    fireEvent.click(within(mina).getByRole('button', { name: 'Transfer ownership' }));
    expect(screen.getByRole('dialog', { name: 'Transfer ownership to mina' })).toBeTruthy();
  });
});

describe('editing a channel', () => {
  it('saves the name and topic, and Escape cancels only the edit', async () => {
    open('100');
    fireEvent.click(screen.getByRole('tab', { name: 'Channels' }));
    fireEvent.click(screen.getByRole('button', { name: 'Edit chan10' }));
    const form = screen.getByRole('form', { name: 'Edit chan10' });
    fireEvent.keyDown(within(form).getByRole('textbox', { name: 'Channel name' }), { key: 'Escape' });
    expect(screen.queryByRole('form', { name: 'Edit chan10' })).toBeNull();
    expect(screen.getByRole('dialog', { name: 'Study Group settings' })).toBeTruthy();

    fetchMock.mockImplementationOnce(async (_url: string, init?: RequestInit) => json(200, { ...channels[0], ...JSON.parse(init!.body as string) }));
    fireEvent.click(screen.getByRole('button', { name: 'Edit chan10' }));
    const again = screen.getByRole('form', { name: 'Edit chan10' });
    fireEvent.change(within(again).getByRole('textbox', { name: 'Channel name' }), { target: { value: 'lobby' } });
    fireEvent.change(within(again).getByRole('textbox', { name: 'Topic' }), { target: { value: 'Say hi' } });
    fireEvent.click(within(again).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls()).toContainEqual(['PATCH', '/api/channels/10', { name: 'lobby', topic: 'Say hi' }]));
    await screen.findByText('lobby');
  });
});
