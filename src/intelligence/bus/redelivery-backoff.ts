import { RetryLaterError } from './bus.errors.js';

export interface BackoffRange {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_REDELIVERY: BackoffRange = { initialMs: 100, maxMs: 10_000 };

/**
 * Capped exponential backoff for the `attempt`-th retry (from 1); with `jitter`, a random
 * delay between half and all of it, so retries of many messages do not line up.
 */
export function backoffDelay(attempt: number, range: BackoffRange, jitter = false): number {
  const capped = Math.min(range.maxMs, range.initialMs * 2 ** Math.max(0, attempt - 1));
  return jitter ? Math.round(capped / 2 + Math.random() * (capped / 2)) : capped;
}

/** Delay before delivering a failed message again: the handler's wish, or the backoff. */
export function redeliveryDelay(error: unknown, failures: number, range: BackoffRange): number {
  if (error instanceof RetryLaterError) return Math.max(0, error.delayMs);
  return backoffDelay(failures, range);
}
