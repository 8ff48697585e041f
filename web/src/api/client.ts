// The fetch wrapper every REST call goes through. The access token lives only in memory (never
// in storage, where injected script could read it); the refresh token is an HttpOnly cookie the
// browser sends to POST /api/auth/refresh, so a reload restores the session with one request.
import type { AuthResponse, ErrorBody } from './types';

/** The server answered with an error: `code` is its stable snake_case code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds the server asked us to wait (`Retry-After`, sent with 429). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The request never got an answer (offline, DNS, connection reset). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('network error', { cause });
    this.name = 'NetworkError';
  }
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
}

export interface ApiClientOptions {
  fetch?: typeof fetch;
  now?: () => number;
}

/** Refresh this long before the token expires, so a request never starts with a dying token. */
const expiryMarginMs = 15_000;

export class ApiClient {
  private accessToken: string | null = null;
  private expiresAt = 0;
  private refreshing: Promise<AuthResponse | null> | null = null;
  private readonly sessionListeners = new Set<(session: AuthResponse | null) => void>();
  private readonly fetch: typeof fetch;
  private readonly now: () => number;

  constructor(options: ApiClientOptions = {}) {
    this.fetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
    this.now = options.now ?? Date.now;
  }

  /**
   * Called with the new session after every login, registration or refresh, and with null when
   * the session ends (logout, or a refresh the server refused).
   */
  onSession(listener: (session: AuthResponse | null) => void): () => void {
    this.sessionListeners.add(listener);
    return () => this.sessionListeners.delete(listener);
  }

  /** Stores the session a login or registration answered with. */
  acceptSession(session: AuthResponse): void {
    this.accessToken = session.access_token;
    this.expiresAt = this.now() + session.expires_in * 1000;
    for (const listener of this.sessionListeners) listener(session);
  }

  /** Forgets the access token locally (the server side is ended by POST /api/auth/logout). */
  endSession(): void {
    this.accessToken = null;
    this.expiresAt = 0;
    for (const listener of this.sessionListeners) listener(null);
  }

  /**
   * Trades the refresh cookie for a new access token. Concurrent callers share one request,
   * because the server rotates the refresh token and treats a second use as theft.
   * Resolves to null when there is no valid session; rejects only on network failure.
   */
  refresh(): Promise<AuthResponse | null> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** An access token that is not about to expire, refreshing if needed; null when signed out. */
  async getAccessToken({ forceRefresh = false } = {}): Promise<string | null> {
    if (!forceRefresh && this.accessToken && this.expiresAt - this.now() > expiryMarginMs) return this.accessToken;
    const session = await this.refresh();
    return session?.access_token ?? null;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const authenticated = !path.startsWith('/api/auth/') || path === '/api/auth/logout';
    if (authenticated && this.accessToken && this.expiresAt - this.now() <= expiryMarginMs) await this.refresh();
    let response = await this.send(method, path, options, authenticated);
    if (response.status === 401 && authenticated) {
      const session = await this.refresh();
      if (session) response = await this.send(method, path, options, authenticated);
    }
    return parse<T>(response);
  }

  private async doRefresh(): Promise<AuthResponse | null> {
    const response = await this.send('POST', '/api/auth/refresh', {}, false);
    if (response.status === 401 || response.status === 403) {
      if (this.accessToken !== null) this.endSession();
      return null;
    }
    const session = await parse<AuthResponse>(response);
    this.acceptSession(session);
    return session;
  }

  private async send(method: string, path: string, options: RequestOptions, authenticated: boolean): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (authenticated && this.accessToken) headers.Authorization = `Bearer ${this.accessToken}`;
    try {
      return await this.fetch(withQuery(path, options.query), {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        credentials: 'same-origin',
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new NetworkError(error);
    }
  }
}

function withQuery(path: string, query: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const encoded = params.toString();
  return encoded ? `${path}?${encoded}` : path;
}

async function parse<T>(response: Response): Promise<T> {
  if (response.ok) {
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
  let body: Partial<ErrorBody> | null = null;
  try {
    body = (await response.json()) as Partial<ErrorBody>;
  } catch {
    // Not our JSON error (a proxy's HTML page, say): fall back to the status.
  }
  const code = typeof body?.error?.code === 'string' ? body.error.code : `http_${response.status}`;
  const message = typeof body?.error?.message === 'string' ? body.error.message : response.statusText;
  const retryAfter = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
  throw new ApiError(response.status, code, message, Number.isFinite(retryAfter) ? retryAfter : null);
}
