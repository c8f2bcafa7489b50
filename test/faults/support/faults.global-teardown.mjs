import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const table = fileURLToPath(new URL('../../../.cache/faults/table.json', import.meta.url));

/** The brief's order (a to g); anything else after. */
const ORDER = [
  'worker-kill',
  'broker-restart',
  'sigterm-in-flight',
  'headless-broker-down',
  'rebalance-storm',
  'slow-key',
  'poison-mix',
];
const CLIENTS = ['kafkajs', 'platformatic'];
/** @param {string} scenario */
const rank = (scenario) => (ORDER.includes(scenario) ? ORDER.indexOf(scenario) : ORDER.length);
/** @param {string | undefined} client */
const clientRank = (client) => (CLIENTS.includes(client ?? '') ? CLIENTS.indexOf(client ?? '') : 9);

/** @param {unknown} value */
const cell = (value) => (value === null || value === undefined ? '-' : String(value));

/**
 * Prints the suite's table: one row per scenario and Kafka client (see
 * test/faults/support/fault-table.ts), then the failed checks and notes of each.
 */
export default function faultsGlobalTeardown() {
  /** @type {import('./fault-table.js').FaultRow[]} */
  let rows;
  try {
    rows = JSON.parse(readFileSync(table, 'utf8'));
  } catch {
    process.stdout.write('\nFault suite: no scenario recorded a row.\n');
    return;
  }
  rows.sort(
    (a, b) => rank(a.scenario) - rank(b.scenario) || clientRank(a.client) - clientRank(b.client),
  );
  const header = [
    'scenario',
    'client',
    'N',
    'lost',
    'dup',
    'overlaps',
    'recover ms',
    'longest gap ms p0/p1/p2/p3/p4/p5',
    'secs',
    'result',
  ];
  const body = rows.map((row) => [
    row.scenario,
    cell(row.client),
    cell(row.n),
    cell(row.lost),
    cell(row.duplicates),
    cell(row.overlaps),
    cell(row.recoverMs),
    row.gapsMs.map(cell).join('/'),
    cell(row.seconds),
    row.result,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((r) => r[i].length)));
  const numeric = new Set([2, 3, 4, 5, 6, 8]);
  const line = (cells) =>
    `| ${cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const out = ['', 'Fault suite', line(header), rule, ...body.map(line), ''];
  for (const row of rows) {
    out.push(`${row.scenario} (${cell(row.client)}): recover = ${row.recoverFrom}`);
    for (const failed of row.failed) out.push(`  FAILED  ${failed}`);
    for (const note of row.notes) out.push(`  note    ${note}`);
  }
  const started = globalThis.__FAULTS_STARTED__;
  if (typeof started === 'number') {
    out.push('', `Fault suite took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
