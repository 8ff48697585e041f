import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { useSession } from '../auth/session';
import { InviteScreen } from './InviteScreen';

afterEach(() => {
  vi.unstubAllGlobals();
  useSession.setState({ status: 'signedOut', user: null });
});

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

function renderInvite(answer: Response) {
  vi.stubGlobal('fetch', vi.fn(async () => answer));
  const router = createMemoryRouter([{ path: '/invite/:code', element: <InviteScreen /> }], { initialEntries: ['/invite/abc'] });
  render(
    <QueryClientProvider client={new QueryClient()}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
}

describe('InviteScreen', () => {
  it('previews the guild with who invited you and how many are in it', async () => {
    useSession.setState({ status: 'signedOut', user: null });
    renderInvite(
      json(200, {
        code: 'abc',
        guild: { id: '7', name: 'Study Group', member_count: 1 },
        inviter: { id: '1', username: 'mina', display_name: 'Mina' },
        expires_at: null,
      }),
    );
    expect((await screen.findByRole('heading')).textContent).toBe('Study Group');
    expect(screen.getByText('Mina invited you to join')).toBeTruthy();
    expect(screen.getByText('1 member')).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Register to accept' }).getAttribute('href')).toBe('/register?next=%2Finvite%2Fabc');
  });

  it('says why an invite no longer works', async () => {
    renderInvite(json(410, { error: { code: 'invite_expired', message: 'expired' } }));
    expect((await screen.findByRole('heading')).textContent).toBe('This invite has expired.');
  });

  it('calls an unknown code invalid', async () => {
    renderInvite(json(404, { error: { code: 'not_found', message: 'unknown invite' } }));
    expect((await screen.findByRole('heading')).textContent).toBe('This invite is invalid or has expired.');
  });
});
