import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { faultClients } from './support/fault-clients.js';
import { Verdict } from './support/fault-table.js';
import { readDeadLetters } from './support/fault-kafka.js';
import type { MessageKind, NumberedMessage } from './support/fault-producer.js';
import { Scenario } from './support/scenario.js';

const N = 6_000;
/** 3% poison, one kind in three each: 60 not UTF-8, 60 not JSON, 60 `kind: 'fail'`. */
function kindOf(n: number): MessageKind {
  if (n % 100 === 10) return 'bad-bytes';
  if (n % 100 === 50) return 'not-json';
  if (n % 100 === 90) return 'fail';
  return 'ok';
}

/** g. Poison among good messages: every good one handled, every poison one dead-lettered. */
describe.each(faultClients())('fault: poison-mix (%s)', (client) => {
  const scenario = new Scenario('poison-mix', client);

  beforeAll(async () => {
    await scenario.startBroker();
    await scenario.createTopic();
  }, 120_000);

  afterAll(() => scenario.teardown(), 60_000);

  it('handles every good message and dead-letters every poison one', async () => {
    const messages: NumberedMessage[] = Array.from({ length: N }, (_, n) => ({
      n,
      key: `k${String(n % 200)}`,
      kind: kindOf(n),
    }));
    const good = messages.filter(({ kind }) => kind === 'ok').map(({ n }) => n);
    const poison = messages.filter(({ kind }) => kind !== 'ok');
    const w1 = scenario.startWorker('w1');
    const w2 = scenario.startWorker('w2');
    await scenario.waitForGroup([w1, w2]);

    const produced = await scenario.produce({ messages, durationMs: 8_000 });
    const done = await scenario.journals.waitForAll(good, 90_000, scenario.noWorkerLeft);
    const letters = await readDeadLetters(scenario.brokers, scenario.topic, poison.length);

    const { result } = scenario.audit(good);
    const lettered = new Set(letters.map(({ n }) => n).filter((n) => n !== undefined));
    const letteredAt = new Set(
      letters.map(({ partition, offset }) => `${String(partition)}:${offset}`),
    );
    const missing = (kind: MessageKind) =>
      poison
        .filter((message) => message.kind === kind)
        .filter((message) => {
          if (kind !== 'bad-bytes') return !lettered.has(message.n);
          const at = produced.report?.placed.get(message.n);
          return !at || !letteredAt.has(`${String(at.partition)}:${at.offset}`);
        })
        .map(({ n }) => n);
    const goodLettered = good.filter((n) => lettered.has(n));
    const journaledPoison = poison
      .filter(({ n }) => scenario.journals.handled.has(n))
      .map(({ n }) => n);
    const verdict = new Verdict();
    verdict.check(produced.error === undefined, `producer finished (${String(produced.error)})`);
    scenario.checkNoLossNoOverlap(verdict, result);
    for (const kind of ['bad-bytes', 'not-json', 'fail'] as const) {
      const gone = missing(kind);
      verdict.check(
        gone.length === 0,
        `every '${kind}' message is on the dead-letter topic (missing ${String(gone.length)}: n ${gone.slice(0, 10).join(',')})`,
      );
    }
    verdict.check(
      goodLettered.length === 0,
      `no good message dead-lettered (${goodLettered.slice(0, 10).join(',')})`,
    );
    verdict.check(
      journaledPoison.length === 0,
      `no poison message journaled as handled (${journaledPoison.slice(0, 10).join(',')})`,
    );
    const classes = [...new Set(letters.map(({ failureClass }) => failureClass))].join(', ');
    verdict.finish(
      scenario.row(N, result, { ms: null, from: 'not measured' }, [
        `${String(good.length)} good, ${String(poison.length)} poison; ${String(letters.length)} dead letters (${classes})`,
        ...(done.ok ? [] : [done.reason]),
      ]),
    );
  });
});
