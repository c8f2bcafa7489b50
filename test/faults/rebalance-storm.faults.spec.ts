import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { sleep } from './support/clock.js';
import { faultClients } from './support/fault-clients.js';
import { Verdict } from './support/fault-table.js';
import type { FaultWorker, WorkerExit } from './support/fault-worker-process.js';
import { numbered, Scenario } from './support/scenario.js';

const N = 8_000;
const PRODUCE_MS = 16_000;
const STEP_MS = 2_000;
const STEPS = 7;
const EXIT_BOUND_MS = 30_000;

/**
 * e. Three workers; every 2 s while 8000 messages stream in over 16 s, one worker gets SIGTERM
 * or a new one starts (2 to 3 stay alive): a rebalance every 2 s.
 */
describe.each(faultClients())('fault: rebalance-storm (%s)', (client) => {
  const scenario = new Scenario('rebalance-storm', client);

  beforeAll(async () => {
    await scenario.startBroker();
    await scenario.createTopic();
  }, 120_000);

  afterAll(() => scenario.teardown(), 60_000);

  it('loses nothing and never overlaps while members come and go every 2 s', async () => {
    const messages = numbered(N);
    const expected = messages.map(({ n }) => n);
    const first = ['w1', 'w2', 'w3'].map((name) => scenario.startWorker(name));
    await scenario.waitForGroup(first);

    const production = scenario.produce({ messages, durationMs: PRODUCE_MS });
    const stopped: { worker: FaultWorker; exit: Promise<WorkerExit | Error> }[] = [];
    const actions: string[] = [];
    let next = 4;
    for (let step = 0; step < STEPS; step++) {
      await sleep(STEP_MS);
      const alive = scenario.alive().filter((worker) => !stopped.some((s) => s.worker === worker));
      if (alive.length >= 3) {
        const oldest = alive[0];
        if (!oldest) continue;
        oldest.sigterm();
        stopped.push({
          worker: oldest,
          exit: oldest.waitForExit(EXIT_BOUND_MS).catch((error: unknown) => error as Error),
        });
        actions.push(`-${oldest.name}`);
      } else {
        const name = `w${String(next++)}`;
        scenario.startWorker(name);
        actions.push(`+${name}`);
      }
    }
    const produced = await production;
    const exits = await Promise.all(
      stopped.map(async (s) => ({ name: s.worker.name, exit: await s.exit })),
    );
    const done = await scenario.journals.waitForAll(expected, 90_000, scenario.noWorkerLeft);

    const { result } = scenario.audit(expected);
    const badExits = exits.filter(({ exit }) => exit instanceof Error || exit.code !== 0);
    const verdict = new Verdict();
    verdict.check(produced.error === undefined, `producer finished (${String(produced.error)})`);
    scenario.checkNoLossNoOverlap(verdict, result);
    verdict.check(
      badExits.length === 0,
      `every SIGTERMed worker exits with code 0 within ${String(EXIT_BOUND_MS)} ms (${badExits
        .map(({ name, exit }) =>
          exit instanceof Error
            ? exit.message
            : `${name}: code ${String(exit.code)}, signal ${String(exit.signal)}`,
        )
        .join('; ')})`,
    );
    verdict.finish(
      scenario.row(N, result, { ms: null, from: 'not measured (see the gaps)' }, [
        `actions every ${String(STEP_MS)} ms: ${actions.join(' ')}`,
        ...(done.ok ? [] : [done.reason]),
      ]),
    );
  });
});
