// Who is signed in. The ApiClient owns the tokens; this store mirrors what the UI needs to
// know (whether a session exists, and the user) and is updated by the client's session events.
import { create } from 'zustand';
import { ApiError, NetworkError } from '../api/client';
import { apiClient } from '../api/endpoints';
import type { CurrentUser } from '../api/types';

export type SessionStatus = 'restoring' | 'signedIn' | 'signedOut';

interface SessionState {
  status: SessionStatus;
  user: CurrentUser | null;
  setUser: (user: CurrentUser) => void;
}

export const useSession = create<SessionState>()((set) => ({
  status: 'restoring',
  user: null,
  setUser: (user) => set({ user }),
}));

/**
 * Set while this browser holds a session. The refresh cookie is HttpOnly, so script cannot see
 * it; this flag (no secret in it) spares a visitor who never signed in a refresh request that can
 * only fail (and count against the server's sign-in rate limit).
 */
export const sessionHintKey = 'madang.signedIn';

function setHint(signedIn: boolean): void {
  try {
    if (signedIn) localStorage.setItem(sessionHintKey, '1');
    else localStorage.removeItem(sessionHintKey);
  } catch {
    // Storage unavailable: restoring then always asks the server.
  }
}

function hasHint(): boolean {
  try {
    return localStorage.getItem(sessionHintKey) !== null;
  } catch {
    return true;
  }
}

apiClient.onSession((session) => {
  setHint(session !== null);
  useSession.setState(session ? { status: 'signedIn', user: session.user } : { status: 'signedOut', user: null });
});

/** A failure worth waiting out: no answer, rate limited, or the server briefly unwell. */
function isTransient(error: unknown): boolean {
  return error instanceof NetworkError || (error instanceof ApiError && (error.status === 429 || error.status >= 500));
}

export interface RestoreOptions {
  /** Tries in all, before giving up and showing the login screen. */
  attempts?: number;
  wait?: (ms: number) => Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * On page load: the refresh cookie, if any, brings the session back without a login. A refusal
 * (no cookie, expired, revoked) shows the login screen at once; a transient failure (offline,
 * 429, 5xx) is retried first, so a valid session is not thrown away for a hiccup.
 */
export async function restoreSession({ attempts = 4, wait = sleep }: RestoreOptions = {}): Promise<void> {
  if (!hasHint()) {
    useSession.setState({ status: 'signedOut', user: null });
    return;
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      const session = await apiClient.refresh();
      if (!session) {
        setHint(false);
        useSession.setState({ status: 'signedOut', user: null });
      }
      return;
    } catch (error) {
      if (!isTransient(error) || attempt >= attempts) {
        // Signing in by hand retries the network.
        useSession.setState({ status: 'signedOut', user: null });
        return;
      }
      const asked = error instanceof ApiError && error.retryAfter !== null ? error.retryAfter * 1000 : 0;
      await wait(Math.min(30_000, Math.max(asked, 1000 * 2 ** (attempt - 1))));
    }
  }
}
