import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { now, sleep } from './support/clock.js';
import { faultClients } from './support/fault-clients.js';
import { Verdict } from './support/fault-table.js';
import { recoveryMs } from './support/journal-audit.js';
import { ALL_PARTITIONS, numbered, Scenario } from './support/scenario.js';

const N = 6_000;
/** Every partition handled again this soon after the broker is back (the target is < 5 s). */
const RECOVERY_BOUND_MS = 20_000;

/**
 * b. The broker is killed with SIGKILL mid-stream and restarted on its data 3 s later, under two
 * workers on the default 30 s session timeout; the producer keeps sending once it is back.
 */
describe.each(faultClients())('fault: broker-restart (%s)', (client) => {
  const scenario = new Scenario('broker-restart', client);

  beforeAll(async () => {
    await scenario.startBroker();
    await scenario.createTopic();
  }, 120_000);

  afterAll(() => scenario.teardown(), 60_000);

  it('loses nothing and handles every partition again soon after the broker is back', async () => {
    const broker = scenario.broker;
    if (!broker) throw new Error('no broker');
    const messages = numbered(N);
    const expected = messages.map(({ n }) => n);
    const w1 = scenario.startWorker('w1');
    const w2 = scenario.startWorker('w2');
    await scenario.waitForGroup([w1, w2]);

    const production = scenario.produce({ messages, durationMs: 10_000 });
    await scenario.journals.waitForCount(N / 4, 30_000);
    const handledAtKill = scenario.journals.handled.size;
    const producedAtKill = scenario.produced;
    const killedAt = now();
    await broker.kill9();
    await sleep(3_000);
    await broker.restart();
    const readyAt = now();
    const producedAtReady = scenario.produced;
    const produced = await production;
    const done = await scenario.journals.waitForAll(expected, 90_000, scenario.noWorkerLeft);

    const { result, entries } = scenario.audit(expected);
    const recover = recoveryMs(entries, readyAt, ALL_PARTITIONS);
    const verdict = new Verdict();
    verdict.check(produced.error === undefined, `producer finished (${String(produced.error)})`);
    verdict.check(
      producedAtReady < N,
      `messages still produced after the broker was ready (${String(N - producedAtReady)})`,
    );
    scenario.checkNoLossNoOverlap(verdict, result);
    verdict.check(
      recover < RECOVERY_BOUND_MS,
      `every partition handled again < ${String(RECOVERY_BOUND_MS)} ms after the broker was ready (actual ${String(recover)} ms; target < 5000, a 30 s session timeout shows as ~30000)`,
    );
    verdict.finish(
      scenario.row(
        N,
        result,
        { ms: recover, from: 'broker ready -> every partition handled again' },
        [
          `broker SIGKILLed at ${String(handledAtKill)} handled / ${String(producedAtKill)} produced, down ${String(Math.round(readyAt - killedAt))} ms until ready`,
          `produced after ready: ${String(N - producedAtReady)}; producer resends ${String(produced.report?.resends ?? '-')}`,
          ...(done.ok ? [] : [done.reason]),
        ],
      ),
    );
  });
});
