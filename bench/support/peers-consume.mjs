// The consume job (in the worker process): one contender reads the whole input topic from the
// beginning with a fresh group, calling the regime's handler; every seq is counted by the
// bitmap tracker. The run ends when every seq came, or when nothing new came for `quietMs`
// (the rest is lost), or at `deadlineMs`. After the last seq it waits `GRACE_MS` more for late
// duplicates, then closes the contender.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { perSecond, withTimeout } from './bench-stats.mjs';
import { CONSUMERS } from './peers-contenders.mjs';
import { createHandler, createRunTracker } from './peers-handlers.mjs';

const GRACE_MS = 250;
const START_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 15_000;

/** Resolves 'done', 'quiet' or 'deadline'. */
async function waitForEnd(tracker, quietMs, deadline) {
  const done = tracker.done.then(() => 'done');
  for (;;) {
    const winner = await Promise.race([done, sleep(50).then(() => undefined)]);
    if (winner) return winner;
    const now = performance.now();
    if (now > deadline) return 'deadline';
    const since = tracker.first === 0 ? 0 : now - tracker.lastCall;
    if (since > quietMs) return 'quiet';
  }
}

/**
 * @param {{ contender: string, brokers: string[], topic: string, groupId: string, kind: 'envelope' | 'bare', work: 'none' | 'cpu' | 'io', count: number, dispatch: object, quietMs: number, deadlineMs: number }} job
 */
export async function runConsume(job) {
  const load = CONSUMERS[job.contender];
  if (!load) throw new Error(`unknown consume contender ${job.contender}`);
  const start = await load();
  const tracker = createRunTracker(job.count);
  const handle = createHandler(job.work, tracker);
  const begun = performance.now();
  const deadline = begun + job.deadlineMs;
  const running = await withTimeout(
    start({ ...job, handle }),
    START_TIMEOUT_MS,
    `${job.contender} start`,
  );
  const startedMs = performance.now() - begun;
  let end;
  let closeMs;
  let closeError;
  try {
    end = await waitForEnd(tracker, job.quietMs, deadline);
    if (end === 'done') await sleep(GRACE_MS);
  } finally {
    const closing = performance.now();
    await withTimeout(running.close(), CLOSE_TIMEOUT_MS, `${job.contender} close`).catch(
      (error) => {
        closeError = String(error);
      },
    );
    closeMs = performance.now() - closing;
  }
  const ms = tracker.last - tracker.first;
  const lost = job.count - tracker.distinct;
  return {
    end,
    count: job.count,
    distinct: tracker.distinct,
    lost,
    duplicates: tracker.duplicates,
    strays: tracker.strays,
    missingSample: lost > 0 ? tracker.missing() : [],
    ms,
    rate: perSecond(tracker.distinct, ms),
    startMs: startedMs,
    firstMessageMs: tracker.first === 0 ? undefined : tracker.first - begun,
    totalMs: (tracker.last || performance.now()) - begun,
    closeMs,
    ...(closeError ? { closeError } : {}),
    info: running.info,
  };
}
