import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { now, sleep } from './clock.js';

/** One line of a worker's journal: one handled message. */
export interface JournalEntry {
  n: number;
  pid: number;
  worker: string;
  partition: number;
  offset: string;
  key: string | null;
  /** Epoch ms (sub-ms) when the handler began and when it finished. */
  start: number;
  end: number;
}

/** Two handlings of one partition by different processes at overlapping times. */
export interface Overlap {
  partition: number;
  a: JournalEntry;
  b: JournalEntry;
}

export interface Audit {
  /** Distinct numbers handled. */
  handled: number;
  /** Numbers produced and never journaled. */
  lost: number[];
  /** Journal lines beyond one per number. */
  duplicates: number;
  /** Of those, handlings of a partition offset already handled (redelivered by the consumer). */
  redeliveries: number;
  overlaps: Overlap[];
  /** Largest time between consecutive journal end times, per partition. */
  longestGapMs: Record<number, number>;
}

/**
 * Every journal (`*.jsonl`) of a scenario directory, read incrementally: `refresh()` picks up
 * the lines appended since the last call (a line is complete only with its newline).
 */
export class Journals {
  readonly entries: JournalEntry[] = [];
  readonly handled = new Set<number>();
  private readonly files = new Map<string, { position: number; rest: string }>();

  constructor(private readonly dir: string) {}

  refresh(): this {
    if (!existsSync(this.dir)) return this;
    for (const name of readdirSync(this.dir).filter((file) => file.endsWith('.jsonl'))) {
      const file = path.join(this.dir, name);
      const state = this.files.get(file) ?? { position: 0, rest: '' };
      this.files.set(file, state);
      const size = statSync(file).size;
      if (size <= state.position) continue;
      const buffer = Buffer.alloc(size - state.position);
      const fd = openSync(file, 'r');
      try {
        readSync(fd, buffer, 0, buffer.length, state.position);
      } finally {
        closeSync(fd);
      }
      state.position = size;
      const lines = (state.rest + buffer.toString('utf8')).split('\n');
      state.rest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() === '') continue;
        const entry = JSON.parse(line) as JournalEntry;
        this.entries.push(entry);
        this.handled.add(entry.n);
      }
    }
    return this;
  }

  /**
   * Polls until every number of `expected` is journaled. Never throws: resolves to whether it
   * happened, so the scenario still audits (and reports) what it got. Stops early when
   * `givingUp()` says no worker can handle anything any more.
   */
  async waitForAll(
    expected: readonly number[],
    timeoutMs: number,
    givingUp: () => string | undefined = () => undefined,
  ): Promise<{ ok: true } | { ok: false; reason: string }> {
    const deadline = now() + timeoutMs;
    for (;;) {
      this.refresh();
      const missing = expected.filter((n) => !this.handled.has(n)).length;
      if (missing === 0) return { ok: true };
      const gaveUp = givingUp();
      if (gaveUp !== undefined)
        return { ok: false, reason: `${gaveUp}; ${String(missing)} unhandled` };
      if (now() > deadline) {
        return {
          ok: false,
          reason: `not every number journaled within ${String(timeoutMs)} ms: ${String(missing)} of ${String(expected.length)} missing`,
        };
      }
      await sleep(100);
    }
  }

  /** Polls until at least `count` distinct numbers are journaled (throws on timeout). */
  async waitForCount(count: number, timeoutMs: number): Promise<void> {
    const deadline = now() + timeoutMs;
    while (this.refresh().handled.size < count) {
      if (now() > deadline) {
        throw new Error(
          `Timed out after ${String(timeoutMs)} ms waiting for ${String(count)} handled numbers (have ${String(this.handled.size)})`,
        );
      }
      await sleep(50);
    }
  }
}

export function audit(
  entries: readonly JournalEntry[],
  expected: readonly number[],
  partitions = 6,
): Audit {
  const handled = new Set(entries.map((entry) => entry.n));
  const longestGapMs: Record<number, number> = {};
  for (let partition = 0; partition < partitions; partition++) {
    longestGapMs[partition] = longestGap(entries, partition);
  }
  return {
    handled: handled.size,
    lost: expected.filter((n) => !handled.has(n)),
    duplicates: entries.length - handled.size,
    redeliveries:
      entries.length -
      new Set(entries.map((entry) => `${String(entry.partition)}:${entry.offset}`)).size,
    overlaps: findOverlaps(entries),
    longestGapMs,
  };
}

/**
 * For each partition, every pair of handlings by different processes whose [start, end]
 * intervals overlap strictly. One process overlapping itself is concurrency within a partition.
 */
export function findOverlaps(entries: readonly JournalEntry[]): Overlap[] {
  const overlaps: Overlap[] = [];
  for (const [partition, list] of byPartition(entries)) {
    const sorted = [...list].sort((x, y) => x.start - y.start);
    let active: JournalEntry[] = [];
    for (const entry of sorted) {
      active = active.filter((other) => other.end > entry.start);
      for (const other of active) {
        if (other.pid !== entry.pid && other.start < entry.end && entry.start < other.end) {
          overlaps.push({ partition, a: other, b: entry });
        }
      }
      active.push(entry);
    }
  }
  return overlaps;
}

/**
 * Largest time between consecutive end times of `partition`'s handlings. With a window, only
 * ends inside it count, and the time from `window.from` to the first of them counts too.
 */
export function longestGap(
  entries: readonly JournalEntry[],
  partition: number,
  window?: { from: number; to: number },
): number {
  const ends = entries
    .filter((entry) => entry.partition === partition)
    .map((entry) => entry.end)
    .filter((end) => !window || (end >= window.from && end <= window.to))
    .sort((x, y) => x - y);
  let previous = window?.from ?? ends[0];
  let longest = 0;
  for (const end of ends) {
    if (previous !== undefined) longest = Math.max(longest, end - previous);
    previous = end;
  }
  return Math.round(longest);
}

/**
 * From `at` until every one of `partitions` has a handling begun after `at` finished: the
 * slowest partition's time, `Infinity` if one never got there.
 */
export function recoveryMs(
  entries: readonly JournalEntry[],
  at: number,
  partitions: readonly number[],
): number {
  let slowest = 0;
  for (const partition of partitions) {
    const first = entries
      .filter((entry) => entry.partition === partition && entry.start >= at)
      .reduce((min, entry) => Math.min(min, entry.end), Infinity);
    slowest = Math.max(slowest, first - at);
  }
  return Math.round(slowest);
}

export function describeOverlap({ partition, a, b }: Overlap): string {
  const span = (entry: JournalEntry) =>
    `${entry.worker} n=${String(entry.n)} [+${(entry.start - a.start).toFixed(2)}, +${(entry.end - a.start).toFixed(2)}] ms`;
  return `p${String(partition)}: ${span(a)} vs ${span(b)}`;
}

function byPartition(entries: readonly JournalEntry[]): Map<number, JournalEntry[]> {
  const map = new Map<number, JournalEntry[]>();
  for (const entry of entries) {
    const list = map.get(entry.partition) ?? [];
    list.push(entry);
    map.set(entry.partition, list);
  }
  return map;
}
