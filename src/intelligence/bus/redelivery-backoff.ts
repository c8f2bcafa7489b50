import { RetryLaterError } from './bus.errors.js';

export interface BackoffRange {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_REDELIVERY: BackoffRange = { initialMs: 100, maxMs: 10_000 };

/** Delay before delivering a failed message again: the handler's wish, or capped exponential. */
export function redeliveryDelay(error: unknown, failures: number, range: BackoffRange): number {
  if (error instanceof RetryLaterError) return Math.max(0, error.delayMs);
  return Math.min(range.maxMs, range.initialMs * 2 ** Math.max(0, failures - 1));
}
