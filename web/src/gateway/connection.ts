// The app's single gateway connection, tied to the session: it starts when someone signs in,
// stops when they sign out, and borrows its access tokens from the REST client.
import { apiClient } from '../api/endpoints';
import { GatewayClient } from './GatewayClient';

function gatewayUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/gateway`;
}

export const gateway = new GatewayClient({
  url: gatewayUrl(),
  getAccessToken: (request) => apiClient.getAccessToken(request),
});

apiClient.onSession((session) => {
  if (session) gateway.start();
  else gateway.stop();
});

// Coming back online should not wait out a long backoff.
window.addEventListener('online', () => gateway.retryNow());
