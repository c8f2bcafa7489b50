import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { now } from './support/clock.js';
import { faultClients } from './support/fault-clients.js';
import { Verdict } from './support/fault-table.js';
import { recoveryMs } from './support/journal-audit.js';
import { numbered, ScenarioSet } from './support/scenario.js';

const N = 6_000;

/** a. A worker is killed with SIGKILL a third of the way through the stream; a replacement starts. */
describe('fault: worker-kill', () => {
  // The clients run at the same time, each on its own broker: most of the scenario is waiting
  // for the killed worker's session to expire.
  const scenarios = new ScenarioSet('worker-kill', faultClients());

  beforeAll(() => scenarios.startBrokers(), 180_000);

  afterAll(() => scenarios.teardown(), 60_000);

  it.concurrent.each(scenarios.clients)(
    '%s: loses nothing and never lets two processes work one partition at once',
    async (client) => {
      const scenario = scenarios.of(client);
      const messages = numbered(N);
      const expected = messages.map(({ n }) => n);
      const w1 = scenario.startWorker('w1');
      const w2 = scenario.startWorker('w2');
      await scenario.waitForGroup([w1, w2]);

      const production = scenario.produce({ messages, durationMs: 8_000 });
      await scenario.journals.waitForCount(N / 3, 30_000);
      const affected = w1.assigned;
      const killedAt = now();
      const handledAtKill = scenario.journals.handled.size;
      await w1.kill9();
      scenario.startWorker('w3');
      const produced = await production;
      const done = await scenario.journals.waitForAll(expected, 90_000, scenario.noWorkerLeft);

      const { result, entries } = scenario.audit(expected);
      const recover = recoveryMs(entries, killedAt, affected);
      const verdict = new Verdict();
      verdict.check(produced.error === undefined, `producer finished (${String(produced.error)})`);
      scenario.checkNoLossNoOverlap(verdict, result);
      verdict.finish(
        scenario.row(
          N,
          result,
          {
            ms: recover,
            from: `w1 killed -> its partitions [${affected.join(',')}] handled again`,
          },
          [
            `w1 SIGKILLed at ${String(handledAtKill)} handled`,
            `producer resends ${String(produced.report?.resends ?? '-')}`,
            ...(done.ok ? [] : [done.reason]),
          ],
        ),
      );
    },
  );
});
