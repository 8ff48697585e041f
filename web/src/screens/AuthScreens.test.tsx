import { fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { useSession } from '../auth/session';
import { LoginScreen, safeNext } from './AuthScreens';
import { inviteCodeFrom } from './shell/GuildDialogs';

afterEach(() => {
  vi.unstubAllGlobals();
  useSession.setState({ status: 'signedOut', user: null });
});

function renderLogin(path = '/login?next=%2Finvite%2Fabc') {
  const router = createMemoryRouter(
    [
      { path: '/login', element: <LoginScreen /> },
      { path: '/invite/:code', element: <p>invite page</p> },
    ],
    { initialEntries: [path] },
  );
  render(<RouterProvider router={router} />);
  return router;
}

describe('LoginScreen', () => {
  it('logs in with the labelled fields and returns to where the visitor came from', async () => {
    useSession.setState({ status: 'signedOut', user: null });
    const fetch = vi.fn(async () =>
      new Response(JSON.stringify({ user: { id: '1', username: 'mina', display_name: null }, access_token: 't', expires_in: 900 }), { status: 200 }),
    );
    vi.stubGlobal('fetch', fetch);
    const router = renderLogin();
    fireEvent.change(screen.getByLabelText(/Email or username/), { target: { value: ' mina ' } });
    fireEvent.change(screen.getByLabelText(/Password/), { target: { value: 'correct horse battery' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await screen.findByText('invite page');
    expect(router.state.location.pathname).toBe('/invite/abc');
    expect(fetch).toHaveBeenCalledWith('/api/auth/login', expect.objectContaining({ method: 'POST', body: JSON.stringify({ login: 'mina', password: 'correct horse battery' }) }));
    expect(useSession.getState()).toMatchObject({ status: 'signedIn', user: { username: 'mina' } });
  });

  it("shows the translated error for the server's error code", async () => {
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ error: { code: 'invalid_credentials', message: 'bad' } }), { status: 401 }));
    renderLogin();
    fireEvent.change(screen.getByLabelText(/Email or username/), { target: { value: 'mina' } });
    fireEvent.change(screen.getByLabelText(/Password/), { target: { value: 'wrong password!' } });
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('The login or password is incorrect.');
  });
});

describe('redirect targets', () => {
  it('only follows paths inside the app', () => {
    expect(safeNext('/invite/abc')).toBe('/invite/abc');
    expect(safeNext('https://evil.example')).toBe('/channels/@me');
    expect(safeNext('//evil.example')).toBe('/channels/@me');
    expect(safeNext('/\\evil.example')).toBe('/channels/@me');
    expect(safeNext(null)).toBe('/channels/@me');
  });
});

describe('inviteCodeFrom', () => {
  it('accepts links and bare codes', () => {
    expect(inviteCodeFrom('https://chat.example/invite/Ab_9-x')).toBe('Ab_9-x');
    expect(inviteCodeFrom('  Ab_9-x ')).toBe('Ab_9-x');
    expect(inviteCodeFrom('not a code!')).toBeNull();
  });
});
