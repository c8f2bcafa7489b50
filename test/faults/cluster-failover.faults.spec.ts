import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { startCluster, type ClusterHandle } from '../../scripts/kafka/cluster.mjs';
import { now, sleep } from './support/clock.js';
import { faultClients, type FaultClient } from './support/fault-clients.js';
import { numbersInTopic } from './support/fault-kafka.js';
import { Verdict } from './support/fault-table.js';
import { recoveryMs } from './support/journal-audit.js';
import { ALL_PARTITIONS, numbered, Scenario } from './support/scenario.js';

const N = 6_000;
/** How long the killed node stays down before it is restarted on its data. */
const DOWN_MS = 8_000;
/** Every partition flowing again this soon after a coordinator kill (target < 5 s; bound generous). */
const COORDINATOR_RECOVERY_MS = 10_000;
/** Partition- and quorum-leader kills: a new leader needs the dead node fenced (3 s session). */
const LEADER_RECOVERY_MS = 15_000;
/** The restarted node back in every partition's ISR this soon. */
const REJOIN_BOUND_MS = 60_000;

type Role = 'partition-leader' | 'coordinator' | 'quorum-leader';
const ROLES: readonly Role[] = ['partition-leader', 'coordinator', 'quorum-leader'];
/**
 * Roles a client cannot ride out yet, and why. @platformatic/kafka 1.x keeps the coordinator's
 * node id for the consumer's lifetime (a private field, never reset), so its group requests
 * go to the dead node until that node is back: the partitions flow again only after the
 * restart, and would not while it stayed down (issue 14, open for this client).
 */
const NOT_YET: Partial<Record<FaultClient, Partial<Record<Role, string>>>> = {
  platformatic: {
    coordinator: 'the client caches the coordinator id until the node comes back',
    'quorum-leader': 'the quorum leader holds the coordinator here too often to tell apart',
  },
};

function rolesOf(client: FaultClient): { role: Role; skip: string | undefined }[] {
  return ROLES.map((role) => ({ role, skip: NOT_YET[client]?.[role] }));
}

/**
 * c. A 3-node KRaft cluster (scripts/kafka/cluster.mjs: every node broker + controller, RF 3,
 * min ISR 2): under two workers on the default 30 s session, the node holding one role is
 * killed with SIGKILL mid-stream and restarted on its data 8 s later. Roles: the leader of
 * a partition (not the coordinator), the group's coordinator, the metadata quorum's leader.
 */
describe('fault: cluster-failover', () => {
  let cluster: ClusterHandle | undefined;
  const the = (): ClusterHandle => {
    if (!cluster) throw new Error('no cluster');
    return cluster;
  };

  beforeAll(async () => {
    cluster = await startCluster();
  }, 180_000);

  afterAll(() => cluster?.cleanup(), 60_000);

  describe.each(faultClients())('%s', (client) => {
    for (const { role, skip } of rolesOf(client)) {
      if (skip !== undefined) {
        it.skip(`kill -9 of the ${role}: not yet on this client (${skip})`, () => undefined);
        continue;
      }
      it(`kill -9 of the ${role}: loses nothing, flows again soon`, async () => {
        const nodes = the();
        const scenario = new Scenario(`cluster-${role}`, client);
        try {
          scenario.useBrokers(nodes.brokers);
          await scenario.createTopic();
          await nodes.waitForIsr(scenario.topic, 3, 30_000);
          const messages = numbered(N);
          const expected = messages.map(({ n }) => n);
          const w1 = scenario.startWorker('w1');
          const w2 = scenario.startWorker('w2');
          await scenario.waitForGroup([w1, w2]);

          const production = scenario.produce({ messages, durationMs: 16_000 });
          await scenario.journals.waitForCount(N / 4, 30_000);
          const { victim, roles } = await pick(nodes, role, scenario);
          const handledAtKill = scenario.journals.handled.size;
          const killedAt = now();
          await nodes.kill9(victim);
          await sleep(DOWN_MS);
          await nodes.restart(victim);
          const restartedAt = now();
          await nodes.waitForIsr(scenario.topic, 3, REJOIN_BOUND_MS);
          const rejoinMs = Math.round(now() - restartedAt);
          const produced = await production;
          // The plain kafkajs producer can be told a write succeeded that its dead leader never
          // replicated (kafkajs#1303): the workers are audited against what the log holds.
          const inKafka = await numbersInTopic(nodes.liveBrokers(), scenario.topic);
          const stored = expected.filter((n) => inKafka.has(n));
          const notInKafka = expected.filter((n) => !inKafka.has(n));
          const done = await scenario.journals.waitForAll(stored, 90_000, scenario.noWorkerLeft);

          const { result, entries } = scenario.audit(stored);
          const recover = recoveryMs(entries, killedAt, ALL_PARTITIONS);
          const bound = role === 'coordinator' ? COORDINATOR_RECOVERY_MS : LEADER_RECOVERY_MS;
          const verdict = new Verdict();
          verdict.check(
            produced.error === undefined,
            `producer finished (${String(produced.error)})`,
          );
          scenario.checkNoLossNoOverlap(verdict, result);
          verdict.check(
            recover < bound,
            `every partition handled again < ${String(bound)} ms after the kill (actual ${String(recover)} ms)`,
          );
          verdict.finish(
            scenario.row(
              N,
              result,
              {
                ms: recover,
                from: `node ${String(victim)} killed -> every partition handled again`,
              },
              [
                `node ${String(victim)} (${roles.join(', ')}) SIGKILLed at ${String(handledAtKill)} handled, restarted ${String(DOWN_MS)} ms later; ISR back to 3 ${String(rejoinMs)} ms after the restart`,
                `producer resends ${String(produced.report?.resends ?? '-')}; acknowledged but not in the log: ${String(notInKafka.length)}${notInKafka.length > 0 ? ` (${notInKafka.slice(0, 5).join(',')}...)` : ''}`,
                ...(done.ok ? [] : [done.reason]),
              ],
            ),
          );
        } finally {
          await scenario.teardown();
        }
      });
    }
  });
});

/** The node to kill for `role`, and every role it holds (a node may hold several). */
async function pick(
  nodes: ClusterHandle,
  role: Role,
  scenario: Scenario,
): Promise<{ victim: number; roles: string[] }> {
  const coordinator = await nodes.groupCoordinator(scenario.groupId);
  const quorumLeader = await nodes.quorumLeader();
  const leaders = (await nodes.partitions(scenario.topic)).map(({ leader }) => leader);
  let victim: number;
  if (role === 'coordinator') victim = coordinator;
  else if (role === 'quorum-leader') victim = quorumLeader;
  else victim = leaders.find((leader) => leader !== coordinator) ?? (leaders[0] as number);
  const led = ALL_PARTITIONS.filter((partition) => leaders[partition] === victim);
  const roles = [
    ...(victim === coordinator ? ['coordinator'] : []),
    ...(victim === quorumLeader ? ['quorum leader'] : []),
    `leader of p${led.join(',p') || ' none'}`,
  ];
  return { victim, roles };
}
