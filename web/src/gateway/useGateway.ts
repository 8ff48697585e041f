import { useSyncExternalStore } from 'react';
import { gateway } from './connection';
import type { GatewaySnapshot } from './GatewayClient';

/** The gateway's current state; re-renders when it changes. */
export function useGatewayStatus(): GatewaySnapshot {
  return useSyncExternalStore(gateway.subscribe, gateway.getSnapshot);
}
