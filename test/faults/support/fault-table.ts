import { expect } from '@jest/globals';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Gitignored home of the suite: the table, and one directory of journals and logs per scenario. */
export const FAULTS_DIR = fileURLToPath(new URL('../../../.cache/faults/', import.meta.url));
export const TABLE_FILE = path.join(FAULTS_DIR, 'table.json');

/** One row of the suite's table (printed by faults.global-teardown.mjs). */
export interface FaultRow {
  scenario: string;
  /** The Kafka client the workers ran on (`bus.client`). */
  client: string;
  n: number;
  lost: number;
  duplicates: number;
  overlaps: number;
  /** ms; 'never' when an affected partition was not handled again; null when not measured. */
  recoverMs: number | 'never' | null;
  /** What `recoverMs` measures. */
  recoverFrom: string;
  /** Longest gap between consecutive handlings, per partition (ms). */
  gapsMs: number[];
  seconds: number;
  result: 'pass' | 'FAIL';
  failed: string[];
  notes: string[];
}

export function readRows(): FaultRow[] {
  try {
    return JSON.parse(readFileSync(TABLE_FILE, 'utf8')) as FaultRow[];
  } catch {
    return [];
  }
}

/** Adds `row` to the table, replacing an earlier row of the same scenario and client. */
export function recordRow(row: FaultRow): void {
  mkdirSync(FAULTS_DIR, { recursive: true });
  const rows = readRows().filter(
    (other) => other.scenario !== row.scenario || other.client !== row.client,
  );
  rows.push(row);
  writeFileSync(TABLE_FILE, `${JSON.stringify(rows, null, 2)}\n`);
}

/** A ms figure for the table: `Infinity` (never happened) becomes 'never'. */
export function msOrNever(ms: number): number | 'never' {
  return Number.isFinite(ms) ? Math.round(ms) : 'never';
}

/**
 * The checks of one scenario. Each `check` states the expected outcome with the actual value;
 * `finish` records the table row (pass, or FAIL with the failed checks) and then asserts that
 * no check failed, so the test fails with exactly the statements that did not hold.
 */
export class Verdict {
  private readonly failures: string[] = [];

  check(ok: boolean, statement: string): this {
    if (!ok) this.failures.push(statement);
    return this;
  }

  finish(row: Omit<FaultRow, 'result' | 'failed'>): void {
    recordRow({
      ...row,
      result: this.failures.length === 0 ? 'pass' : 'FAIL',
      failed: [...this.failures],
    });
    expect(this.failures).toEqual([]);
  }
}
