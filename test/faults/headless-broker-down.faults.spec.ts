import { afterAll, describe, it } from '@jest/globals';
import { now, sleep } from './support/clock.js';
import { faultClients } from './support/fault-clients.js';
import { Verdict } from './support/fault-table.js';
import { numbered, reservePort, Scenario } from './support/scenario.js';

const N = 1_000;
const ALONE_MS = 10_000;
const WIRED_BOUND_MS = 30_000;

/**
 * d. One headless worker starts while no broker runs on its port: it must stay up, then wire by
 * itself once a broker starts there, and handle everything.
 */
describe.each(faultClients())('fault: headless-broker-down (%s)', (client) => {
  const scenario = new Scenario('headless-broker-down', client);

  afterAll(() => scenario.teardown(), 60_000);

  it('stays up without a broker, then wires by itself and handles every message', async () => {
    const port = await reservePort();
    scenario.useBrokers([`127.0.0.1:${String(port)}`]);
    const messages = numbered(N);
    const expected = messages.map(({ n }) => n);
    const w1 = scenario.startWorker('w1');
    await sleep(ALONE_MS);
    const aliveAlone = w1.alive;
    const stateAlone = w1.state;
    const exitAlone = w1.exit;

    await scenario.startBroker({ port });
    const readyAt = now();
    await scenario.createTopic();
    const wiredAt = await w1.waitForState('wired', WIRED_BOUND_MS).then(
      (at) => at,
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    );
    let done: { ok: boolean; reason?: string } = { ok: false, reason: 'never wired' };
    let producedError: Error | undefined;
    if (typeof wiredAt === 'number') {
      await w1.waitForAssignment((partitions) => partitions.length === 6, 30_000);
      const produced = await scenario.produce({ messages, durationMs: 2_000 });
      producedError = produced.error;
      done = await scenario.journals.waitForAll(expected, 60_000, scenario.noWorkerLeft);
    }

    const { result } = scenario.audit(expected);
    const wiredMs = typeof wiredAt === 'number' ? wiredAt - readyAt : Infinity;
    const verdict = new Verdict();
    verdict.check(
      aliveAlone,
      `the worker is still running ${String(ALONE_MS)} ms after starting with no broker (it exited: code ${String(exitAlone?.code)}, signal ${String(exitAlone?.signal)}, last state ${String(stateAlone)})`,
    );
    verdict.check(
      typeof wiredAt === 'number',
      `the worker wires by itself within ${String(WIRED_BOUND_MS)} ms of the broker being ready (${wiredAt instanceof Error ? (wiredAt.message.split('\n')[0] ?? '') : 'ok'})`,
    );
    verdict.check(producedError === undefined, `producer finished (${String(producedError)})`);
    scenario.checkNoLossNoOverlap(verdict, result);
    verdict.finish(
      scenario.row(N, result, { ms: wiredMs, from: 'broker ready -> worker wired' }, [
        `alone for ${String(ALONE_MS)} ms: ${aliveAlone ? `alive, state ${String(stateAlone)}` : `exited with code ${String(exitAlone?.code)}`}`,
        ...(done.ok ? [] : [String(done.reason)]),
      ]),
    );
  });
});
