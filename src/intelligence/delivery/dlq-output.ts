import type { DeadLetterEntry } from './dead-letter-entry.js';
import type { PurgeReport } from './dead-letter-purge.js';
import type { ReplayReport } from './replay-report.js';

/** Longest failure reason a table row shows (`--json` has it whole). */
const REASON_CHARS = 80;

/** `rows` under `headers`, in columns as wide as their widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** The table of `intelligence-dlq list`, then each entry's key and value when it has them. */
export function formatEntries(entries: readonly DeadLetterEntry[]): string[] {
  if (entries.length === 0) return ['No dead letters match.'];
  const rows = entries.map((entry) => [
    entry.id,
    `${entry.original.topic}/${String(entry.original.partition)}/${entry.original.offset}`,
    entry.consumerGroup ?? '-',
    entry.failureClass ?? '-',
    entry.attempts === undefined ? '-' : String(entry.attempts),
    entry.failedAt,
    String(entry.retryHistory?.length ?? 0),
    entry.replayed?.at ?? '-',
    shorten(entry.failureReason ?? '-'),
  ]);
  const lines = table(
    [
      'DEAD LETTER',
      'ORIGINAL',
      'GROUP',
      'CLASS',
      'ATTEMPTS',
      'FAILED AT',
      'RETRIES',
      'REPLAYED',
      'REASON',
    ],
    rows,
  );
  for (const entry of entries) {
    if (!entry.payload) continue;
    const { key, value } = entry.payload;
    lines.push('', entry.id);
    lines.push(`  key    ${key ? `(${key.encoding}) ${key.data}` : '(none)'}`);
    lines.push(`  value  ${value ? `(${value.encoding}) ${value.data}` : '(tombstone)'}`);
  }
  const replayed = entries.filter((entry) => entry.replayed).length;
  lines.push('', `${plural(entries.length, 'dead letter')}, ${String(replayed)} replayed already.`);
  return lines;
}

/** What `intelligence-dlq replay` sent and skipped. */
export function formatReplay(report: ReplayReport): string[] {
  const count = plural(report.sent.length, 'dead letter');
  const lines = [
    report.dryRun
      ? `Dry run: would replay ${count}; nothing sent.`
      : `Replayed ${count} (run ${report.runId}).`,
  ];
  if (report.sent.length > 0) {
    lines.push(
      ...table(
        ['DEAD LETTER', 'TO', 'ORIGINAL'],
        report.sent.map(({ id, to, original }) => [id, to, original]),
      ),
    );
  }
  if (report.skipped.length > 0) {
    lines.push('', `Skipped ${plural(report.skipped.length, 'dead letter')}, replayed already:`);
    lines.push(
      ...table(
        ['DEAD LETTER', 'REPLAYED AT', 'RUN'],
        report.skipped.map(({ id, replayedAt, runId }) => [id, replayedAt, runId]),
      ),
    );
  }
  return lines;
}

/** The table of `intelligence-dlq purge-report`. */
export function formatPurge(report: PurgeReport): string[] {
  if (report.partitions.length === 0) return ['The dead-letter topics hold no messages.'];
  return [
    ...table(
      ['TOPIC', 'PARTITION', 'ENTRIES', 'REPLAYED', 'SAFE TO DELETE BELOW', 'OLDEST'],
      report.partitions.map((p) => [
        p.topic,
        String(p.partition),
        String(p.entries),
        String(p.replayed),
        p.safeDeleteBefore,
        p.oldestAt,
      ]),
    ),
    '',
    'Nothing was deleted. Records below SAFE TO DELETE BELOW were all replayed (kafka-delete-records).',
  ];
}

function shorten(text: string): string {
  return text.length > REASON_CHARS ? `${text.slice(0, REASON_CHARS - 1)}…` : text;
}

function plural(count: number, noun: string): string {
  return `${String(count)} ${noun}${count === 1 ? '' : 's'}`;
}
