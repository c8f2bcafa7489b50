// One contender run of `npm run bench`, in a process of its own (fresh heap, no JIT shared
// with other contenders): forked by bench/support/peers-runner.mjs with the job as JSON in
// argv[2]; sends one result object over IPC, then exits.
// Each job type and contender imports only what it uses, so a plain kafkajs run does not load
// Nest or the library.

const JOBS = {
  consume: async () => (await import('./peers-consume.mjs')).runConsume,
  produce: async () => (await import('./peers-produce.mjs')).runProduce,
  lifecycle: async () => (await import('./peers-lifecycle.mjs')).runLifecycle,
  inprocess: async () => (await import('./peers-inprocess.mjs')).runInProcess,
};
/** Contenders that never touch Nest's Logger. */
const WITHOUT_NEST = new Set([
  'kafkajs-eachBatch',
  'kafkajs-eachMessage',
  'platformatic',
  'kafkajs',
]);

function describe(error) {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

async function main() {
  const job = JSON.parse(process.argv[2] ?? '{}');
  /** @type {object} */
  let result;
  try {
    if (!WITHOUT_NEST.has(job.contender)) {
      // The library and Nest log through Nest's Logger.
      await import('reflect-metadata');
      const { Logger } = await import('@nestjs/common');
      Logger.overrideLogger(process.env.BENCH_LOGS ? ['error'] : false);
    }
    const load = JOBS[job.type];
    if (!load) throw new Error(`unknown job type ${job.type}`);
    const run = await load();
    result = { ok: true, ...(await run(job)) };
  } catch (error) {
    const unavailable = error?.name === 'ClientUnavailableError';
    result = { ok: false, unavailable, error: describe(error) };
  }
  await new Promise((resolve) => {
    if (process.send) process.send(result, () => resolve(undefined));
    else {
      console.log(JSON.stringify(result));
      resolve(undefined);
    }
  });
  // kafkajs and Nest may leave timers and sockets behind a close that timed out.
  process.exit(0);
}

await main();
