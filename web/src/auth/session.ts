// Who is signed in. The ApiClient owns the tokens; this store mirrors what the UI needs to
// know (whether a session exists, and the user) and is updated by the client's session events.
import { create } from 'zustand';
import { apiClient } from '../api/endpoints';
import type { User } from '../api/types';

export type SessionStatus = 'restoring' | 'signedIn' | 'signedOut';

interface SessionState {
  status: SessionStatus;
  user: User | null;
  setUser: (user: User) => void;
}

export const useSession = create<SessionState>()((set) => ({
  status: 'restoring',
  user: null,
  setUser: (user) => set({ user }),
}));

apiClient.onSession((session) => {
  useSession.setState(session ? { status: 'signedIn', user: session.user } : { status: 'signedOut', user: null });
});

/** On page load: the refresh cookie, if any, brings the session back without a login. */
export async function restoreSession(): Promise<void> {
  try {
    const session = await apiClient.refresh();
    if (!session) useSession.setState({ status: 'signedOut', user: null });
  } catch {
    // Offline at start-up: show the login screen; signing in retries the network.
    useSession.setState({ status: 'signedOut', user: null });
  }
}
