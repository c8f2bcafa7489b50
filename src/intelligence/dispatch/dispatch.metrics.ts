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

/** One handler's latency histogram, for one result. */
export interface LatencyHistogram {
  /** Cumulative counts per bucket of `LATENCY_BUCKETS_MS`, then +Inf. */
  buckets: number[];
  sumMs: number;
  count: number;
}

export interface DispatchMetricsSnapshot {
  outcomes: Record<string, number>;
  perTopic: Record<string, Record<string, number>>;
  perHandler: Record<string, HandlerStats>;
}

/** Called on every handler run (e.g. the demo's latency sample). */
export type LatencyListener = (handler: string, ok: boolean, latencyMs: number) => void;

/** The counters of one handler: the engine keeps one per handler and records into it directly. */
export class HandlerMeter {
  duplicatesSkipped = 0;
  /** Handler runs going on now. */
  running = 0;
  private readonly counts = { success: newCounts(), error: newCounts() };
  private readonly sums = { success: 0, error: 0 };

  constructor(readonly name: string) {}

  observe(ok: boolean, latencyMs: number): void {
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS_MS.length && latencyMs > (LATENCY_BUCKETS_MS[bucket] ?? 0)) {
      bucket += 1;
    }
    const result = ok ? 'success' : 'error';
    const counts = this.counts[result];
    counts[bucket] = (counts[bucket] ?? 0) + 1;
    this.sums[result] += latencyMs;
  }

  /** The latency histogram of the runs with `result`. */
  latency(result: 'success' | 'error'): LatencyHistogram {
    const buckets = cumulative(this.counts[result]);
    return { buckets, sumMs: this.sums[result], count: buckets.at(-1) ?? 0 };
  }

  stats(): HandlerStats {
    const success = this.latency('success');
    const error = this.latency('error');
    return {
      invoked: success.count + error.count,
      duplicatesSkipped: this.duplicatesSkipped,
      succeeded: success.count,
      failed: error.count,
      latencyBuckets: success.buckets.map((count, bucket) => count + (error.buckets[bucket] ?? 0)),
      latencySumMs: success.sumMs + error.sumMs,
    };
  }
}

/**
 * Counters and latency histograms, per topic and per handler; bounded by the route table.
 * Recording is a few increments: exporters (Prometheus) read them when scraped.
 */
export class DispatchMetrics {
  /** Called on every handler run; empty unless someone listens. */
  readonly latencyListeners = new Set<LatencyListener>();

  /** Outcome counts per topic (`(unrouted)` for topics no handler takes). */
  private readonly perTopic = new Map<string, Record<string, number>>();
  private readonly perHandler = new Map<string, HandlerMeter>();

  count(topic: string, outcome: string, known: boolean): void {
    const key = known ? topic : '(unrouted)';
    let counters = this.perTopic.get(key);
    if (!counters) {
      counters = {};
      this.perTopic.set(key, counters);
    }
    counters[outcome] = (counters[outcome] ?? 0) + 1;
  }

  /** The meter of `handler`, made on first use and kept across wirings. */
  handler(name: string): HandlerMeter {
    let meter = this.perHandler.get(name);
    if (!meter) {
      meter = new HandlerMeter(name);
      this.perHandler.set(name, meter);
    }
    return meter;
  }

  handlers(): IterableIterator<HandlerMeter> {
    return this.perHandler.values();
  }

  observe(meter: HandlerMeter, ok: boolean, latencyMs: number): void {
    meter.observe(ok, latencyMs);
    if (this.latencyListeners.size === 0) return;
    for (const listener of this.latencyListeners) listener(meter.name, ok, latencyMs);
  }

  snapshot(): DispatchMetricsSnapshot {
    const outcomes: Record<string, number> = {};
    const perTopic: Record<string, Record<string, number>> = {};
    for (const [topic, counters] of this.perTopic) {
      perTopic[topic] = { ...counters };
      for (const [outcome, count] of Object.entries(counters)) {
        outcomes[outcome] = (outcomes[outcome] ?? 0) + count;
      }
    }
    return {
      outcomes,
      perTopic,
      perHandler: Object.fromEntries(
        [...this.perHandler].map(([name, meter]) => [name, meter.stats()]),
      ),
    };
  }
}

function newCounts(): number[] {
  return new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
}

/** Per-bucket counts to cumulative counts. */
function cumulative(counts: readonly number[]): number[] {
  let sum = 0;
  return counts.map((count) => (sum += count));
}
