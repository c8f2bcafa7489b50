import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { faultClients } from './support/fault-clients.js';
import { Verdict } from './support/fault-table.js';
import { partitionOfKey } from './support/fault-kafka.js';
import { longestGap } from './support/journal-audit.js';
import { ScenarioSet } from './support/scenario.js';

const N = 6_000;
const SLOW_KEY = 'slow-key';
const SLOW_MS = 2_000;
/**
 * Every 300th message is on the slow key: 20 of them, 40 s of work in a row (same key, in
 * order), longer than the 30 s session timeout.
 */
const isSlow = (n: number) => n % 300 === 150;
const FLOW_BOUND_MS = 5_000;
const EVICTION = 'The coordinator is not aware of this member';
const WORKER_ENV = { CONCURRENCY: 4, SLOW_KEY, SLOW_MS };

/**
 * f. One key is slow (2 s a message, 20 messages) among ~200: its partition takes 40 s, but the
 * other partitions of the worker holding it must keep flowing, and no member may be evicted.
 */
describe('fault: slow-key', () => {
  // The clients run at the same time, each on its own broker: most of the scenario is waiting
  // on the slow handlers.
  const scenarios = new ScenarioSet('slow-key', faultClients());

  beforeAll(() => scenarios.startBrokers(), 180_000);

  afterAll(() => scenarios.teardown(), 60_000);

  it.concurrent.each(scenarios.clients)(
    '%s: keeps the slow key from holding back other partitions or getting a member evicted',
    async (client) => {
      const scenario = scenarios.of(client);
      const messages = Array.from({ length: N }, (_, n) => ({
        n,
        key: isSlow(n) ? SLOW_KEY : `k${String(n % 199)}`,
      }));
      const expected = messages.map(({ n }) => n);
      const slowPartition = partitionOfKey(SLOW_KEY);
      const w1 = scenario.startWorker('w1', WORKER_ENV);
      const w2 = scenario.startWorker('w2', WORKER_ENV);
      await scenario.waitForGroup([w1, w2]);
      const owner = [w1, w2].find((worker) => worker.assigned.includes(slowPartition)) ?? w1;
      const others = owner.assigned.filter((partition) => partition !== slowPartition);

      const produced = await scenario.produce({ messages, durationMs: 12_000 });
      const done = await scenario.journals.waitForAll(expected, 110_000, scenario.noWorkerLeft);

      const { result, entries } = scenario.audit(expected);
      const slow = entries.filter((entry) => entry.key === SLOW_KEY);
      const window = {
        from: Math.min(...slow.map((entry) => entry.start)),
        to: Math.max(...slow.map((entry) => entry.end)),
      };
      const flowGaps = others.map((partition) => ({
        partition,
        gap: slow.length === 0 ? Infinity : longestGap(entries, partition, window),
      }));
      const worstFlow = Math.max(0, ...flowGaps.map(({ gap }) => gap));
      const evicted = scenario.workers.filter((worker) => worker.stderr.includes(EVICTION));
      const verdict = new Verdict();
      verdict.check(produced.error === undefined, `producer finished (${String(produced.error)})`);
      scenario.checkNoLossNoOverlap(verdict, result);
      verdict.check(
        worstFlow < FLOW_BOUND_MS,
        `the other partitions of ${owner.name} (holding slow p${String(slowPartition)}) keep flowing while the slow key is worked: longest gap < ${String(FLOW_BOUND_MS)} ms (actual ${flowGaps.map(({ partition, gap }) => `p${String(partition)} ${String(gap)}`).join(', ')} ms)`,
      );
      verdict.check(
        evicted.length === 0,
        `no worker logged "${EVICTION}" (member eviction) (logged by: ${evicted.map((worker) => worker.name).join(', ')})`,
      );
      verdict.finish(
        scenario.row(N, result, { ms: null, from: 'not measured (see the gaps)' }, [
          `slow key on p${String(slowPartition)} held by ${owner.name} [${owner.assigned.join(',')}]; ${String(slow.length)} slow handlings over ${String(Math.round((window.to - window.from) / 1000))} s; longest gap of p${others.join('/p')} then: ${String(worstFlow)} ms`,
          ...(done.ok ? [] : [done.reason]),
        ]),
      );
    },
    240_000,
  );
});
