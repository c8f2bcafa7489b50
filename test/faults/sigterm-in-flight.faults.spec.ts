import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { now } from './support/clock.js';
import { faultClients } from './support/fault-clients.js';
import { Verdict } from './support/fault-table.js';
import { recoveryMs } from './support/journal-audit.js';
import { numbered, Scenario } from './support/scenario.js';

const N = 1_000;
const DRAIN_TIMEOUT_MS = 5_000;
/** Beyond the drain: closing the consumer, leaving the group, Nest's own shutdown. */
const EXIT_MARGIN_MS = 15_000;
const WORKER_ENV = { CONCURRENCY: 4, HANDLE_MS: 300, DRAIN_TIMEOUT_MS };

/** c. SIGTERM to one of two workers while up to 4 handlers per partition are in flight. */
describe.each(faultClients())('fault: sigterm-in-flight (%s)', (client) => {
  const scenario = new Scenario('sigterm-in-flight', client);

  beforeAll(async () => {
    await scenario.startBroker();
    await scenario.createTopic();
  }, 120_000);

  afterAll(() => scenario.teardown(), 60_000);

  it('drains, exits with code 0 in time, and hands over without loss or overlap', async () => {
    const messages = numbered(N);
    const expected = messages.map(({ n }) => n);
    const w1 = scenario.startWorker('w1', WORKER_ENV);
    const w2 = scenario.startWorker('w2', WORKER_ENV);
    await scenario.waitForGroup([w1, w2]);

    const production = scenario.produce({ messages, durationMs: 5_000 });
    // Handlers take 300 ms and the backlog grows: once 150 are done, w1 has some in flight.
    await scenario.journals.waitForCount(150, 30_000);
    const affected = w1.assigned;
    const handledAtSignal = scenario.journals.handled.size;
    const signalledAt = now();
    w1.sigterm();
    const exit = await w1.waitForExit(DRAIN_TIMEOUT_MS + EXIT_MARGIN_MS).catch((error: unknown) => {
      return error instanceof Error ? error : new Error(String(error));
    });
    const produced = await production;
    const done = await scenario.journals.waitForAll(expected, 90_000, scenario.noWorkerLeft);

    const { result, entries } = scenario.audit(expected);
    const inFlightAtSignal = entries.filter(
      (entry) => entry.worker === 'w1' && entry.start < signalledAt && entry.end > signalledAt,
    ).length;
    const exitMs = exit instanceof Error ? undefined : Math.round(exit.at - signalledAt);
    const verdict = new Verdict();
    verdict.check(produced.error === undefined, `producer finished (${String(produced.error)})`);
    verdict.check(
      !(exit instanceof Error) && exit.code === 0,
      `w1 exits with code 0 within ${String(DRAIN_TIMEOUT_MS + EXIT_MARGIN_MS)} ms of SIGTERM (${exit instanceof Error ? exit.message : `code ${String(exit.code)}, signal ${String(exit.signal)}, after ${String(exitMs)} ms`})`,
    );
    verdict.check(
      inFlightAtSignal > 0,
      `w1 had handlers in flight at SIGTERM that it finished (${String(inFlightAtSignal)})`,
    );
    scenario.checkNoLossNoOverlap(verdict, result);
    verdict.finish(
      scenario.row(
        N,
        result,
        {
          ms: recoveryMs(entries, signalledAt, affected),
          from: `SIGTERM to w1 -> its partitions [${affected.join(',')}] handled again`,
        },
        [
          `SIGTERM at ${String(handledAtSignal)} handled; w1 finished ${String(inFlightAtSignal)} in-flight handlers, exited after ${String(exitMs)} ms (code ${exit instanceof Error ? '-' : String(exit.code)})`,
          ...(done.ok ? [] : [done.reason]),
        ],
      ),
    );
  });
});
