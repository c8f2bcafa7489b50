// Small helpers of the benchmarks: statistics, number formatting, a plain-text table, timeouts.

/**
 * @param {number[]} values
 * @returns {number} the median (mean of the two middle values for an even count); NaN if empty
 */
export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * @param {number} count
 * @param {number} ms
 * @returns {number} per second
 */
export function perSecond(count, ms) {
  return ms > 0 ? (count * 1000) / ms : Number.POSITIVE_INFINITY;
}

/** @param {number} value e.g. 12345.6 → '12,346' */
export function formatRate(value) {
  return Math.round(value).toLocaleString('en-US');
}

/** @param {number} value e.g. 0.9731 → '0.97' */
export function formatRatio(value) {
  return value.toFixed(2);
}

/** @param {number} ms e.g. 1234.5 → '1235 ms' */
export function formatMs(ms) {
  return `${Math.round(ms)} ms`;
}

/**
 * Renders rows as an aligned plain-text table: text columns left-aligned, numbers right-aligned.
 * @param {string[]} headers
 * @param {string[][]} rows
 * @param {('left' | 'right')[]} align one per column
 * @returns {string}
 */
export function renderTable(headers, rows, align) {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => row[i].length)),
  );
  const line = (/** @type {string[]} */ cells) =>
    cells
      .map((cell, i) => (align[i] === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join(' | ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('-+-');
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/**
 * Rejects with `<label> exceeded <ms> ms` if `promise` has not settled in time. The underlying
 * work is not cancelled: the caller aborts the run and cleans up.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} label
 * @returns {Promise<T>}
 */
export function withTimeout(promise, ms, label) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} exceeded ${ms} ms`)), ms);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, timeout])).finally(() =>
    clearTimeout(timer),
  );
}

/**
 * Runs a bench's `main`, reports a failure, and exits: a phase that timed out may leave
 * kafkajs sockets and timers behind, which must not keep the process alive.
 * @param {() => Promise<void>} main
 */
export async function runBench(main) {
  try {
    await main();
  } catch (error) {
    console.error('\nBenchmark failed:', error);
    process.exitCode = 1;
  }
  process.exit();
}

/**
 * A positive integer from the environment, or `fallback` when unset.
 * @param {string} name
 * @param {number} fallback
 */
export function envInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

/**
 * The summary table of a paired bench: per metric, the median rate of each side and the
 * median of the per-round bus / baseline ratios (pairing cancels round-to-round noise).
 * @param {{ baseline: Record<string, { rate: number }>, bus: Record<string, { rate: number }> }[]} rounds
 * @param {{ id: string, label: string }[]} metrics
 */
export function pairedSummaryTable(rounds, metrics) {
  const rows = metrics.map(({ id, label }) => {
    const baseline = rounds.map((samples) => samples.baseline[id].rate);
    const bus = rounds.map((samples) => samples.bus[id].rate);
    const ratios = bus.map((rate, i) => rate / baseline[i]);
    return [
      label,
      formatRate(median(baseline)),
      formatRate(median(bus)),
      formatRatio(median(ratios)),
      ratios.map(formatRatio).join(' '),
    ];
  });
  const headers = ['measurement', 'baseline msg/s', 'bus msg/s', 'ratio', 'per-round ratios'];
  return renderTable(headers, rows, ['left', 'right', 'right', 'right', 'left']);
}
