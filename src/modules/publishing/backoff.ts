const CAP_MS = 60 * 60 * 1000;

/**
 * Exponential backoff with ±20% jitter: the wait before attempt `attempt + 1`.
 * The same function drives the in-process executor and BullMQ's custom backoff,
 * so the table's `nextAttemptAt` mirrors what the queue does.
 */
export function backoffDelay(
  baseMs: number,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(CAP_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.8 + 0.4 * random()));
}
