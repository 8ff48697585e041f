// Routes. The shell needs a session; login, registration and invite previews do not.
import { QueryClient, QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation, useMatch } from 'react-router';
import { apiClient } from './api/endpoints';
import { useSession } from './auth/session';
import { applyDispatch } from './chat/applyDispatch';
import { resetChatState } from './chat/reset';
import { gateway } from './gateway/connection';
import { LoginScreen, RegisterScreen } from './screens/AuthScreens';
import { InviteScreen } from './screens/InviteScreen';
import { AppShell } from './screens/shell/AppShell';

function Splash() {
  const { t } = useTranslation();
  return (
    <div className="splash" role="status">
      <span className="brand-mark brand-mark-large" aria-hidden="true">
        마
      </span>
      <span>{t('app.loading')}</span>
    </div>
  );
}

/**
 * Feeds gateway dispatches into the caches on every screen (an update missed while the user is
 * on an invite page would otherwise leave a cache stale for good).
 */
function GatewayBridge() {
  const queryClient = useQueryClient();
  const activeChannelId = useMatch('/channels/:guildId/:channelId')?.params.channelId ?? null;
  const active = useRef(activeChannelId);
  active.current = activeChannelId;
  useEffect(() => {
    const offDispatch = gateway.on('dispatch', (dispatch) =>
      applyDispatch(queryClient, dispatch, { activeChannelId: active.current, now: Date.now() }),
    );
    // A new session may have missed anything: refetch what is cached.
    const offResync = gateway.on('resync', () => void queryClient.invalidateQueries());
    const offUnauthorized = gateway.on('unauthorized', () => apiClient.endSession());
    // Nothing of one account may remain visible after it signs out.
    const offSession = apiClient.onSession((session) => {
      if (session) return;
      queryClient.clear();
      resetChatState();
    });
    return () => {
      offDispatch();
      offResync();
      offUnauthorized();
      offSession();
    };
  }, [queryClient]);
  return <Outlet />;
}

/** Waits for the session to be restored, then shows the app or sends the visitor to log in. */
function RequireSession() {
  const status = useSession((state) => state.status);
  const location = useLocation();
  if (status === 'restoring') return <Splash />;
  if (status === 'signedOut') return <Navigate to={`/login?next=${encodeURIComponent(location.pathname)}`} replace />;
  return <Outlet />;
}

/** Public pages still wait for the restore, so they know whether the visitor is signed in. */
function AfterRestore() {
  const status = useSession((state) => state.status);
  return status === 'restoring' ? <Splash /> : <Outlet />;
}

const router = createBrowserRouter([
  {
    element: <GatewayBridge />,
    children: [
      {
        element: <AfterRestore />,
        children: [
          { path: '/login', element: <LoginScreen /> },
          { path: '/register', element: <RegisterScreen /> },
          { path: '/invite/:code', element: <InviteScreen /> },
        ],
      },
      {
        element: <RequireSession />,
        children: [{ path: '/channels/:guildId/:channelId?', element: <AppShell /> }],
      },
      { path: '*', element: <Navigate to="/channels/@me" replace /> },
    ],
  },
]);

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: 1, refetchOnWindowFocus: true },
  },
});

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
