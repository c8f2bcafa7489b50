// The summary of `npm run bench`: medians per measurement and contender (runs with a loss,
// an error or a timeout are left out of the median and flagged), ratios module ÷ each peer
// from the medians, the one table, the target checklist, and the report files
// bench/results/<YYYY-MM-DD>.json and .txt.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as prettier from 'prettier';
import { formatRate, formatRatio, median, renderTable } from './bench-stats.mjs';
import { PAYLOADS, REGIMES, TARGETS } from './peers-config.mjs';

const MODULES = ['module-kafkajs', 'module-platformatic'];

/**
 * One measurement's samples per contender, reduced: `median` of the clean runs, the values,
 * how many runs were lost/duplicated/failed.
 * @param {{ value?: number, lost?: number, duplicates?: number, ok: boolean, unavailable?: boolean, error?: string }[]} runs
 */
function reduce(runs) {
  const clean = runs.filter((run) => run.ok && !(run.lost > 0) && Number.isFinite(run.value));
  const lossy = runs.filter((run) => run.ok && run.lost > 0);
  const failed = runs.filter((run) => !run.ok && !run.unavailable);
  const unavailable = runs.find((run) => run.unavailable);
  const usable = clean.length > 0 ? clean : lossy.filter((run) => Number.isFinite(run.value));
  return {
    median: median(usable.map((run) => run.value)),
    values: runs.map((run) => (run.ok ? run.value : null)),
    runs: runs.length,
    cleanRuns: clean.length,
    lossyRuns: lossy.length,
    lost: runs.reduce((sum, run) => sum + (run.lost ?? 0), 0),
    duplicates: runs.reduce((sum, run) => sum + (run.duplicates ?? 0), 0),
    failedRuns: failed.length,
    errors: [...new Set(failed.map((run) => run.error))],
    ...(unavailable ? { unavailable: unavailable.error } : {}),
  };
}

/** Groups `runs` by key(run) and reduces each group's samples per contender. */
function medians(runs, key, sample) {
  /** @type {Record<string, Record<string, ReturnType<typeof reduce>>>} */
  const out = {};
  const groups = new Map();
  for (const run of runs) {
    const id = key(run);
    if (!groups.has(id)) groups.set(id, new Map());
    const byContender = groups.get(id);
    if (!byContender.has(run.contender)) byContender.set(run.contender, []);
    byContender.get(run.contender).push(sample(run));
  }
  for (const [id, byContender] of groups) {
    out[id] = {};
    for (const [contender, samples] of byContender) out[id][contender] = reduce(samples);
  }
  return out;
}

function asSample(run, value) {
  const result = run.result;
  return {
    ok: result.ok,
    unavailable: result.unavailable,
    error: result.error,
    value: result.ok ? value(result) : undefined,
    lost: result.lost,
    duplicates: result.duplicates,
  };
}

/** Medians of every part, from the run records. */
export function summarize(records) {
  const consume = records.filter((run) => run.part === 'consume');
  const produce = records.filter((run) => run.part === 'produce');
  const lifecycle = records.filter((run) => run.part === 'lifecycle');
  return {
    consume: medians(
      consume,
      (run) => `${run.regime}/${run.payload}`,
      (run) => asSample(run, (result) => result.rate),
    ),
    produce: {
      ...medians(
        produce,
        () => 'single',
        (run) => asSample(run, (result) => result.single.rate),
      ),
      ...medians(
        produce,
        () => 'batch',
        (run) => asSample(run, (result) => result.batch.rate),
      ),
    },
    lifecycle: {
      ...medians(
        lifecycle,
        () => 'ready',
        (run) => asSample(run, (result) => result.readyMs),
      ),
      ...medians(
        lifecycle,
        () => 'start',
        (run) => asSample(run, (result) => result.startMs),
      ),
      ...medians(
        lifecycle,
        () => 'close',
        (run) => asSample(run, (result) => result.closeMs),
      ),
    },
  };
}

const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN);

function showRatio(value) {
  return Number.isFinite(value) ? `${formatRatio(value)}x` : '';
}

function showValue(value, unit) {
  if (!Number.isFinite(value)) return '-';
  if (unit === 'msg/s') return formatRate(value);
  if (unit === 'ns/msg') return String(Math.round(value));
  return String(Math.round(value));
}

function compact(value, unit) {
  if (value === null || !Number.isFinite(value)) return 'x';
  if (unit === 'msg/s')
    return value >= 10_000 ? `${(value / 1000).toFixed(0)}k` : `${(value / 1000).toFixed(1)}k`;
  return String(Math.round(value));
}

/** What the row's last column says: every run clean, or what went wrong. */
function runsNote(stats) {
  if (stats.unavailable) return 'unavailable';
  const notes = [];
  if (stats.lossyRuns > 0) notes.push(`LOSS in ${stats.lossyRuns} run(s): ${stats.lost} lost`);
  if (stats.duplicates > 0) notes.push(`${stats.duplicates} dup`);
  if (stats.failedRuns > 0) notes.push(`FAILED ${stats.failedRuns}`);
  if (notes.length === 0) return `${stats.cleanRuns}/${stats.runs} ok`;
  return notes.join(', ');
}

/**
 * The rows of one measurement: one per contender, the module ÷ peer ratios on the peers' rows.
 * @param {string} label
 * @param {Record<string, ReturnType<typeof reduce>>} byContender
 * @param {{ id: string, label: string }[]} contenders
 * @param {string} unit
 */
function measurementRows(label, byContender, contenders, unit) {
  const rows = [];
  for (const contender of contenders) {
    const stats = byContender?.[contender.id];
    if (!stats) continue;
    const isModule = MODULES.includes(contender.id);
    const ratios = MODULES.map((module) =>
      isModule ? '' : showRatio(ratio(byContender[module]?.median, stats.median)),
    );
    rows.push([
      rows.length === 0 ? label : '',
      contender.label,
      stats.unavailable ? 'n/a' : showValue(stats.median, unit),
      unit,
      stats.unavailable ? '' : stats.values.map((value) => compact(value, unit)).join(' '),
      ...ratios,
      runsNote(stats),
    ]);
  }
  return rows;
}

/**
 * The one table of the run.
 * @param {ReturnType<typeof summarize>} summary
 * @param {object} inProcess the in-process job's result (or undefined)
 * @param {object} settings
 */
export function renderSummaryTable(summary, inProcess, settings) {
  const rows = [];
  for (const regime of settings.regimes) {
    for (const payload of settings.payloads) {
      const label = `consume ${regime.label}, ${payload.label} (N=${regime.count})`;
      rows.push(
        ...measurementRows(
          label,
          summary.consume[`${regime.id}/${payload.id}`],
          settings.consumeContenders,
          'msg/s',
        ),
      );
    }
  }
  const producers = settings.produceContenders;
  const produceLabels = {
    single: (contender) =>
      contender.module ? `${contender.label} ctx.publish` : `${contender.label} (1 msg)`,
    batch: (contender) =>
      contender.module ? `${contender.label} publishBatch` : `${contender.label} (batch)`,
  };
  for (const [id, title] of [
    [
      'single',
      `produce 1 msg per call, ${settings.produce.inFlight} in flight (N=${settings.produce.single})`,
    ],
    ['batch', `produce ${settings.produce.batchSize} msgs per call (N=${settings.produce.batch})`],
  ]) {
    const labelled = producers.map((contender) => ({
      ...contender,
      label: produceLabels[id](contender),
    }));
    rows.push(...measurementRows(title, summary.produce[id], labelled, 'msg/s'));
  }
  for (const [id, title] of [
    ['start', 'lifecycle: start → started/wired'],
    ['ready', 'lifecycle: start → first message'],
    ['close', `lifecycle: idle close (after ${settings.lifecycle.idleMs} ms idle)`],
  ]) {
    rows.push(...measurementRows(title, summary.lifecycle[id], settings.consumeContenders, 'ms'));
  }
  if (inProcess?.ok) {
    for (const [kind, result] of Object.entries(inProcess.kinds)) {
      const label = `in-process dispatch, ${kind === 'envelope' ? 'envelopes' : 'bare JSON'} (N=${result.messages})`;
      const variants = [
        ['direct', 'direct handler call (JSON.parse + handler)'],
        ['engine', 'DispatchEngine.dispatch (memory bus)'],
        ['delivery', 'MessageDelivery.deliver (engine + retry policy)'],
      ];
      variants.forEach(([id, name], i) => {
        const overhead =
          id === 'direct' ? '' : `+${Math.round(result.overheadNs[id])} ns over direct`;
        rows.push([
          i === 0 ? label : '',
          name,
          showValue(result.nsPerMessage[id], 'ns/msg'),
          'ns/msg',
          result.samples[id].map((ns) => String(Math.round(ns))).join(' '),
          '',
          '',
          overhead || `${result.passes} passes`,
        ]);
      });
    }
  } else if (inProcess) {
    rows.push(['in-process dispatch', 'FAILED', '-', '', '', '', '', inProcess.error ?? '']);
  }
  const headers = [
    'measurement',
    'contender',
    'median',
    'unit',
    'per round',
    'module(kafkajs) ÷',
    'module(platformatic) ÷',
    'runs',
  ];
  return renderTable(headers, rows, [
    'left',
    'left',
    'right',
    'left',
    'left',
    'right',
    'right',
    'left',
  ]);
}

/**
 * The target checklist, each computed from the medians: met (true), missed (false), or not
 * measured (null, with why).
 */
export function checkTargets(summary, inProcess, settings) {
  /** @type {{ target: string, value: string, met: boolean | null, note?: string }[]} */
  const checks = [];
  const regimeLabel = (id) => REGIMES.find((r) => r.id === id)?.label ?? id;
  const payloadLabel = (id) => PAYLOADS.find((p) => p.id === id)?.label ?? id;
  const label = (id) =>
    [...settings.consumeContenders, ...settings.produceContenders].find((c) => c.id === id)
      ?.label ?? id;
  const consumeCheck = (regime, payload, module, peer, min) => {
    const group = summary.consume[`${regime}/${payload}`];
    const target = `consume ${regimeLabel(regime)}, ${payloadLabel(payload)}: ${label(module)} ÷ ${label(peer)} ≥ ${min}`;
    checks.push(ratioCheck(target, group?.[module], group?.[peer], min));
  };
  for (const payload of ['envelope', 'bare']) {
    for (const regime of ['0us', '100us']) {
      consumeCheck(
        regime,
        payload,
        'module-kafkajs',
        'kafkajs-eachBatch',
        TARGETS.vsEachBatchKafkajs,
      );
    }
  }
  for (const payload of ['envelope', 'bare']) {
    for (const regime of ['0us', '100us']) {
      consumeCheck(
        regime,
        payload,
        'module-platformatic',
        'kafkajs-eachBatch',
        TARGETS.vsEachBatchPlatformatic,
      );
    }
  }
  for (const module of MODULES) {
    for (const payload of ['envelope', 'bare']) {
      consumeCheck('0us', payload, module, 'nest-kafka', TARGETS.vsNestAt0us);
    }
  }
  for (const module of MODULES) {
    for (const payload of ['envelope', 'bare']) {
      for (const peer of ['kafkajs-eachMessage', 'nest-kafka']) {
        consumeCheck('1ms', payload, module, peer, TARGETS.asyncVsSequential);
      }
    }
  }
  for (const kind of ['envelope', 'bare']) {
    const target = `in-process, ${payloadLabel(kind)}: DispatchEngine.dispatch − direct call < ${TARGETS.inProcessOverheadNs} ns/msg`;
    const result = inProcess?.ok ? inProcess.kinds[kind] : undefined;
    if (!result) {
      checks.push({ target, value: '-', met: null, note: inProcess?.error ?? 'not run' });
      continue;
    }
    const overhead = result.overheadNs.engine;
    checks.push({
      target,
      value: `${Math.round(overhead)} ns`,
      met: overhead < TARGETS.inProcessOverheadNs,
    });
  }
  for (const module of MODULES) {
    checks.push(
      ratioCheck(
        `produce: ${label(module)} ctx.publish ÷ kafkajs producer.send (1 msg) ≥ ${TARGETS.publishVsSend}`,
        summary.produce.single?.[module],
        summary.produce.single?.kafkajs,
        TARGETS.publishVsSend,
      ),
    );
  }
  for (const module of MODULES) {
    const stats = summary.lifecycle.close?.[module];
    const target = `lifecycle: ${label(module)} idle close < ${TARGETS.idleCloseMs} ms`;
    if (!stats || stats.unavailable || !Number.isFinite(stats.median)) {
      const note = stats?.unavailable ? 'unavailable' : 'not measured';
      checks.push({ target, value: '-', met: null, note });
      continue;
    }
    checks.push({
      target,
      value: `${Math.round(stats.median)} ms`,
      met: stats.median < TARGETS.idleCloseMs,
    });
  }
  return checks;
}

function ratioCheck(target, module, peer, min) {
  if (!module || !peer) return { target, value: '-', met: null, note: 'not run' };
  if (module.unavailable)
    return { target, value: '-', met: null, note: `unavailable: ${module.unavailable}` };
  if (peer.unavailable)
    return { target, value: '-', met: null, note: `peer unavailable: ${peer.unavailable}` };
  const value = ratio(module.median, peer.median);
  if (!Number.isFinite(value)) return { target, value: '-', met: null, note: 'no clean run' };
  const flagged = module.lossyRuns > 0 || peer.lossyRuns > 0;
  return {
    target,
    // Three decimals: a 0.998 must not read as a missed 1.00.
    value: `${value.toFixed(3)}x`,
    met: value >= min,
    ...(flagged ? { note: 'a run of one side lost messages' } : {}),
  };
}

export function renderChecklist(checks) {
  const mark = (met) => (met === true ? '[met]   ' : met === false ? '[MISSED]' : '[n/a]   ');
  return checks
    .map((check) => {
      const note = check.note ? `  (${check.note})` : '';
      return `  ${mark(check.met)} ${check.target}: ${check.value}${note}`;
    })
    .join('\n');
}

/** Writes bench/results/<date>.json (prettier-formatted) and <date>.txt (the printout). */
export async function writeReport(folder, results, text) {
  await mkdir(folder, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const jsonFile = path.join(folder, `${date}.json`);
  const txtFile = path.join(folder, `${date}.txt`);
  // Formatted as the repository's prettier config wants it, so `prettier --check` stays green.
  const options = (await prettier.resolveConfig(jsonFile)) ?? {};
  await writeFile(
    jsonFile,
    await prettier.format(JSON.stringify(results), { ...options, filepath: jsonFile }),
  );
  await writeFile(txtFile, `${text}\n`);
  return { jsonFile, txtFile };
}
