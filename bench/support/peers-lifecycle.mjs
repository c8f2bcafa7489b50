// The lifecycle job (in the worker process): one contender started on a topic primed with a
// few envelopes, fresh group. Measured from the job's start: `startMs` until the contender's
// own start resolved (the module: NestFactory.createApplicationContext with init, runtime
// status 'wired'; kafkajs: consumer.run(); Nest: app.listen(); platformatic: consume()), and
// `readyMs` until the first message was handled. Then, once every primed message came, it
// idles `idleMs` and times the close (the module: app.close(), drain and cleanup included).
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { withTimeout } from './bench-stats.mjs';
import { CONSUMERS } from './peers-contenders.mjs';
import { createRunTracker, seqOf } from './peers-handlers.mjs';

const STEP_TIMEOUT_MS = 60_000;

/**
 * @param {{ contender: string, brokers: string[], topic: string, groupId: string, primed: number, idleMs: number }} job
 */
export async function runLifecycle(job) {
  const load = CONSUMERS[job.contender];
  if (!load) throw new Error(`unknown contender ${job.contender}`);
  const start = await load();
  const tracker = createRunTracker(job.primed);
  const handle = async (payload) => {
    tracker.started();
    tracker.see(seqOf(payload));
  };
  const begun = performance.now();
  const running = await withTimeout(
    start({ ...job, kind: 'envelope', dispatch: {}, handle }),
    STEP_TIMEOUT_MS,
    `${job.contender} start`,
  );
  const startMs = performance.now() - begun;
  let closeMs;
  try {
    await withTimeout(tracker.done, STEP_TIMEOUT_MS, `${job.contender} primed messages`);
    await sleep(job.idleMs);
  } finally {
    const closing = performance.now();
    await withTimeout(running.close(), STEP_TIMEOUT_MS, `${job.contender} close`);
    closeMs = performance.now() - closing;
  }
  return {
    startMs,
    readyMs: tracker.first - begun,
    closeMs,
    primed: job.primed,
    duplicates: tracker.duplicates,
    info: running.info,
  };
}
