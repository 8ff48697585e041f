export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 1000, maxMs: 30_000 };

/**
 * Delay before reconnect attempt `attempt` (0 for the first): the ceiling doubles per attempt
 * up to `maxMs`, and the delay is drawn from the upper half of it ("equal jitter"), so a server
 * restart does not bring every client back in the same millisecond, yet each client still
 * waits longer after every failure.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
