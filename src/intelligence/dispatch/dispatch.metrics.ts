/** Upper bounds (ms) of the handler latency histogram buckets. */
export const LATENCY_BUCKETS_MS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export interface HandlerStats {
  invoked: number;
  /** Redeliveries recognised by the idempotency key and skipped. */
  duplicatesSkipped: number;
  succeeded: number;
  failed: number;
  /** Cumulative counts per bucket of `LATENCY_BUCKETS_MS`, then +Inf. */
  latencyBuckets: number[];
  latencySumMs: number;
}

export interface DispatchMetricsSnapshot {
  outcomes: Record<string, number>;
  perTopic: Record<string, Record<string, number>>;
  perHandler: Record<string, HandlerStats>;
}

/** Counters and a latency histogram, per topic and per handler; bounded by the route table. */
export type LatencyListener = (handler: string, ok: boolean, latencyMs: number) => void;

export class DispatchMetrics {
  /** Called on every handler run, e.g. to feed a Prometheus histogram. */
  readonly latencyListeners = new Set<LatencyListener>();

  private readonly outcomes = new Map<string, number>();
  private readonly perTopic = new Map<string, Map<string, number>>();
  private readonly perHandler = new Map<string, HandlerStats>();

  count(topic: string, outcome: string, known: boolean): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
    const key = known ? topic : '(unrouted)';
    let counters = this.perTopic.get(key);
    if (!counters) {
      counters = new Map();
      this.perTopic.set(key, counters);
    }
    counters.set(outcome, (counters.get(outcome) ?? 0) + 1);
  }

  duplicate(handler: string): void {
    this.stats(handler).duplicatesSkipped += 1;
  }

  observe(handler: string, ok: boolean, latencyMs: number): void {
    for (const listener of this.latencyListeners) listener(handler, ok, latencyMs);
    const stats = this.stats(handler);
    stats.invoked += 1;
    if (ok) stats.succeeded += 1;
    else stats.failed += 1;
    stats.latencySumMs += latencyMs;
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS_MS.length && latencyMs > (LATENCY_BUCKETS_MS[bucket] ?? 0)) {
      bucket += 1;
    }
    stats.latencyBuckets[bucket] = (stats.latencyBuckets[bucket] ?? 0) + 1;
  }

  private stats(handler: string): HandlerStats {
    let stats = this.perHandler.get(handler);
    if (!stats) {
      stats = {
        invoked: 0,
        duplicatesSkipped: 0,
        succeeded: 0,
        failed: 0,
        latencyBuckets: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0),
        latencySumMs: 0,
      };
      this.perHandler.set(handler, stats);
    }
    return stats;
  }

  snapshot(): DispatchMetricsSnapshot {
    return {
      outcomes: Object.fromEntries(this.outcomes),
      perTopic: Object.fromEntries(
        [...this.perTopic].map(([topic, counters]) => [topic, Object.fromEntries(counters)]),
      ),
      perHandler: Object.fromEntries(
        [...this.perHandler].map(([name, stats]) => [
          name,
          { ...stats, latencyBuckets: cumulative(stats.latencyBuckets) },
        ]),
      ),
    };
  }

  reset(): void {
    this.outcomes.clear();
    this.perTopic.clear();
    this.perHandler.clear();
  }
}

/** Per-bucket counts to the cumulative counts the snapshot shows. */
function cumulative(counts: readonly number[]): number[] {
  let sum = 0;
  return counts.map((count) => (sum += count));
}
