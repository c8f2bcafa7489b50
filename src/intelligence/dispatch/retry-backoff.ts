import type { BackoffRange } from '../bus/redelivery-backoff.js';

/** Capped exponential backoff with jitter: between half and all of the capped delay. */
export function retryDelay(attempt: number, range: BackoffRange, random = Math.random): number {
  const capped = Math.min(range.maxMs, range.initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(capped / 2 + random() * (capped / 2));
}
