import { performance } from 'node:perf_hooks';

/** Epoch milliseconds with sub-millisecond precision, comparable with the workers' journals. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
