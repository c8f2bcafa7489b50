import type { DispatchMetricsSnapshot } from '../intelligence/index.js';
import type { DemoObserver } from './demo-observer.js';

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

/** Where the patterns live, and how many are there now (this run's and earlier ones'). */
export interface StoreSummary {
  /** `in memory`, or `PostgreSQL at host:port/database` (never the credentials). */
  where: string;
  total: number;
}

/** The demo's closing summary, as lines of text. */
export function summaryLines(
  metrics: DispatchMetricsSnapshot,
  observer: DemoObserver,
  latenciesMs: readonly number[],
  store?: StoreSummary,
): string[] {
  const lines = ['', 'Summary', '-------', 'Routes hit (messages by outcome):'];
  for (const [topic, outcomes] of Object.entries(metrics.perTopic).sort()) {
    const parts = Object.entries(outcomes).map(([outcome, count]) => `${outcome} ${String(count)}`);
    lines.push(`  ${topic.padEnd(62)} ${parts.join(', ')}`);
  }
  lines.push(
    '',
    `Patterns learned:      ${String(observer.patternsLearned)} in ${String(observer.learnedBatches)} batch(es)`,
    `Patterns stored:       ${String(observer.stored)} (${String(observer.created)} new, ${String(observer.stored - observer.created)} merged)`,
    ...(store
      ? [`Pattern store:         ${store.where}, ${String(store.total)} pattern(s) in it`]
      : []),
    `Lifecycle transitions: ${
      [...observer.transitions].map(([kind, count]) => `${kind} ×${String(count)}`).join(', ') ||
      'none'
    }`,
    `Dead letters:          ${String(observer.deadLetters.length)}`,
  );
  for (const letter of observer.deadLetters) {
    lines.push(
      `  - ${letter.failureClass} from ${letter.originalTopic} after ${letter.attempts} attempt(s): ${letter.reason}`,
    );
  }
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const ms = (value: number) => `${value.toFixed(2)} ms`;
  lines.push(
    '',
    `Handler latency over ${String(sorted.length)} runs: p50 ${ms(percentile(sorted, 50))}, p95 ${ms(percentile(sorted, 95))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted.at(-1) ?? 0)}`,
  );
  return lines;
}
