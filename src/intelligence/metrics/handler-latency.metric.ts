import type { Registry } from 'prom-client';
import { LATENCY_BUCKETS_MS, type HandlerMeter } from '../dispatch/dispatch.metrics.js';

const NAME = 'intelligence_handler_duration_seconds';
const HELP = 'Handler latency';
const RESULTS = ['success', 'error'] as const;

/** One sample line as prom-client's registry formats it. */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * The handler latency histogram, read from the engine's own meters when scraped: a handler
 * run records its latency once (into its meter), and exporting costs nothing between scrapes.
 * prom-client has no histogram fed from outside, so this is a metric object of the shape its
 * registry reads (`name`, `get()` → name, help, type, values).
 */
export function registerHandlerLatency(
  registry: Registry,
  meters: () => Iterable<HandlerMeter>,
): void {
  const samples = (): Sample[] => {
    const values: Sample[] = [];
    for (const meter of meters()) {
      for (const result of RESULTS) {
        const latency = meter.latency(result);
        if (latency.count === 0) continue;
        const labels = { handler: meter.name, result };
        latency.buckets.forEach((count, bucket) => {
          const bound = LATENCY_BUCKETS_MS[bucket];
          const le = bound === undefined ? '+Inf' : bound / 1000;
          values.push({ metricName: `${NAME}_bucket`, labels: { ...labels, le }, value: count });
        });
        values.push({ metricName: `${NAME}_sum`, labels, value: latency.sumMs / 1000 });
        values.push({ metricName: `${NAME}_count`, labels, value: latency.count });
      }
    }
    return values;
  };
  const metric = {
    name: NAME,
    help: HELP,
    get: () =>
      Promise.resolve({
        name: NAME,
        help: HELP,
        type: 'histogram',
        aggregator: 'sum',
        values: samples(),
      }),
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}
