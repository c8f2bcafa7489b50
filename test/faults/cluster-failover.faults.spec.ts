import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { startCluster, type ClusterHandle } from '../../scripts/kafka/cluster.mjs';
import { now, sleep } from './support/clock.js';
import { faultClients } from './support/fault-clients.js';
import type { ClusterReport, FaultWorker } from './support/fault-worker-process.js';
import { createTopic, numbersInTopic } from './support/fault-kafka.js';
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
/** How often each worker publishes its tick to every echo partition. */
const ECHO_TICK_MS = 200;
/** The restarted node back in every partition's ISR this soon. */
const REJOIN_BOUND_MS = 60_000;

/** How long a third worker may take to join the group through the new coordinator. */
const JOIN_BOUND_MS = 45_000;
/** Every worker's health shows the cluster healthy again this soon after the ISR is back. */
const HEALTHY_BOUND_MS = 30_000;

/**
 * What is killed. `coordinator-then-join`: the coordinator, and while it stays down a third
 * worker joins, so every member must rejoin through the new coordinator.
 */
type Role = 'partition-leader' | 'coordinator' | 'coordinator-then-join' | 'quorum-leader';
const ROLES: readonly Role[] = [
  'partition-leader',
  'coordinator',
  'coordinator-then-join',
  'quorum-leader',
];
const COORDINATOR_ROLES: readonly Role[] = ['coordinator', 'coordinator-then-join'];
/**
 * c. A 3-node KRaft cluster (scripts/kafka/cluster.mjs: every node broker + controller, RF 3,
 * min ISR 2): under two workers on the default 30 s session, the node holding one role is
 * killed with SIGKILL mid-stream and restarted on its data 8 s later (a coordinator only once
 * every worker answers to the new one). Roles: the leader of a partition (not the
 * coordinator), the group's coordinator (alone, and with a third worker joining while it is
 * down), the metadata quorum's leader.
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
    for (const role of ROLES) {
      it(`kill -9 of the ${role}: loses nothing, flows again soon`, async () => {
        const nodes = the();
        const scenario = new Scenario(`cluster-${role}`, client);
        try {
          scenario.useBrokers(nodes.brokers);
          // Leader kills: each handled number is published on through ctx.publish (the module's
          // idempotent acks=all publisher) before it is journaled, and the outputs are audited
          // too. Coordinator kills measure the consumers alone (their 5 s target): a handler
          // waiting on a publish to a dead leader would hold its partition up as well.
          const echo = COORDINATOR_ROLES.includes(role) ? undefined : `${scenario.topic}.echo`;
          // Eight handlers per partition keep up with the producer on a loaded machine; the
          // workers' own ticks keep a publish in flight to every echo partition, so a leader
          // kill stalls one whatever the handlers are doing at the time.
          const env: Record<string, string> =
            echo === undefined
              ? {}
              : { ECHO_TOPIC: echo, CONCURRENCY: '8', ECHO_TICK_MS: String(ECHO_TICK_MS) };
          if (COORDINATOR_ROLES.includes(role)) {
            scenario.useGroup(
              await groupNotCoordinatedBy(nodes, await nodes.quorumLeader(), scenario.groupId),
            );
          }
          await scenario.createTopic();
          await nodes.waitForIsr(scenario.topic, 3, 30_000);
          if (echo !== undefined) {
            await createTopic(nodes.brokers, echo, 6);
            await nodes.waitForIsr(echo, 3, 30_000);
          }
          const messages = numbered(N);
          const expected = messages.map(({ n }) => n);
          const w1 = scenario.startWorker('w1', env);
          const w2 = scenario.startWorker('w2', env);
          await scenario.waitForGroup([w1, w2]);

          const production = scenario.produce({ messages, durationMs: 16_000 });
          await scenario.journals.waitForCount(N / 4, 30_000);
          const { victim, roles, led } = await pick(nodes, role, scenario);
          const echoLed =
            echo === undefined
              ? []
              : (await nodes.partitions(echo))
                  .filter(({ leader }) => leader === victim)
                  .map(({ partition }) => partition);
          const handledAtKill = scenario.journals.handled.size;
          const killedAt = now();
          await nodes.kill9(victim);
          const whileDown = await ridesOut(role, victim, killedAt, scenario, [w1, w2]);
          const downFor = now() - killedAt;
          if (downFor < DOWN_MS) await sleep(DOWN_MS - downFor);
          const restartAt = now();
          await nodes.restart(victim);
          const restartedAt = now();
          await nodes.waitForIsr(scenario.topic, 3, REJOIN_BOUND_MS);
          const rejoinMs = Math.round(now() - restartedAt);
          const underReplicated = new RegExp(`^under-replicated .*${escape(scenario.topic)}-\\d`);
          const healthy = await Promise.allSettled(
            [w1, w2].map((worker) =>
              worker.waitForClusterRecovered(underReplicated, HEALTHY_BOUND_MS),
            ),
          );
          const produced = await production;
          // The plain kafkajs producer can be told a write succeeded that its dead leader never
          // replicated (kafkajs#1303): the workers are audited against what the log holds.
          const inKafka = await numbersInTopic(nodes.liveBrokers(), scenario.topic);
          const stored = expected.filter((n) => inKafka.has(n));
          const notInKafka = expected.filter((n) => !inKafka.has(n));
          const done = await scenario.journals.waitForAll(stored, 90_000, scenario.noWorkerLeft);

          const { result, entries } = scenario.audit(stored);
          const echoed =
            echo === undefined ? undefined : await numbersInTopic(nodes.liveBrokers(), echo);
          const outputsLost = echoed
            ? [...new Set(entries.map(({ n }) => n))].filter((n) => !echoed.has(n))
            : [];
          const reports = [w1, w2].flatMap((worker) => worker.clusterReports);
          const leaderChanges = Math.max(0, ...reports.map((report) => report.leaderChanges));
          const produceStalls = Math.max(0, ...reports.map((report) => report.produceStalls));
          const recover = recoveryMs(entries, killedAt, ALL_PARTITIONS);
          // A coordinator that is also the quorum leader needs a controller election first.
          const bound =
            COORDINATOR_ROLES.includes(role) && !roles.includes('quorum leader')
              ? COORDINATOR_RECOVERY_MS
              : LEADER_RECOVERY_MS;
          const verdict = new Verdict();
          verdict.check(
            produced.error === undefined,
            `producer finished (${String(produced.error)})`,
          );
          scenario.checkNoLossNoOverlap(verdict, result);
          verdict.check(
            outputsLost.length === 0,
            `every handled number's ctx.publish output is in the log (missing ${String(outputsLost.length)}: ${outputsLost.slice(0, 5).join(',')})`,
          );
          verdict.check(
            healthy.every(({ status }) => status === 'fulfilled'),
            `both workers' health showed ${scenario.topic} under-replicated, then healthy (${healthy.map((h) => (h.status === 'fulfilled' ? 'ok' : String(h.reason))).join('; ')})`,
          );
          const movedLeaders = led.length + echoLed.length;
          verdict.check(
            leaderChanges >= Math.min(1, movedLeaders),
            `health counted the leader moves (${String(leaderChanges)} seen, the victim led ${String(movedLeaders)} watched partitions)`,
          );
          verdict.check(
            echoLed.length === 0 || produceStalls >= 1,
            `health counted a stalled publish (${String(produceStalls)}; the victim led echo p${echoLed.join(',p') || ' none'})`,
          );
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
                `node ${String(victim)} (${roles.join(', ')}) SIGKILLed at ${String(handledAtKill)} handled, restarted ${String(Math.round(restartAt - killedAt))} ms later; ISR back to 3 ${String(rejoinMs)} ms after the restart`,
                ...whileDown,
                `producer resends ${String(produced.report?.resends ?? '-')}; acknowledged but not in the log: ${String(notInKafka.length)}${notInKafka.length > 0 ? ` (${notInKafka.slice(0, 5).join(',')}...)` : ''}`,
                `${echoed ? `module publisher: ${String(outputsLost.length)} of ${String(echoed.size)} outputs missing; ` : ''}health: ${String(leaderChanges)} leader moves, ${String(produceStalls)} stalled publishes, trouble seen: ${troubleSeen(reports)}`,
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

/**
 * While the killed coordinator stays down: every worker finds the new one (its heartbeats and
 * commits pass there), and for `coordinator-then-join` a third worker joins and the group
 * rebalances through it. Returns notes for the table; throws if a bound is missed.
 */
async function ridesOut(
  role: Role,
  victim: number,
  killedAt: number,
  scenario: Scenario,
  workers: FaultWorker[],
): Promise<string[]> {
  if (!COORDINATOR_ROLES.includes(role)) return [];
  const found = await Promise.all(
    workers.map((worker) => worker.waitForCoordinatorOff(victim, LEADER_RECOVERY_MS)),
  );
  const notes = [
    `while node ${String(victim)} was down: new coordinator node ${workers.map((worker) => String(worker.coordinator?.nodeId)).join('/')} answering ${found.map((at) => String(Math.round(at - killedAt))).join('/')} ms after the kill`,
  ];
  if (role === 'coordinator-then-join') {
    const joinedAt = now();
    const w3 = scenario.startWorker('w3');
    await scenario.waitForGroup([...workers, w3], JOIN_BOUND_MS);
    notes.push(
      `w3 joined through the new coordinator, the old one still down: 3 members ${String(Math.round(now() - joinedAt))} ms after its start`,
    );
  }
  return notes;
}

/** The node to kill for `role`, and every role it holds (a node may hold several). */
async function pick(
  nodes: ClusterHandle,
  role: Role,
  scenario: Scenario,
): Promise<{ victim: number; roles: string[]; led: number[] }> {
  const coordinator = await nodes.groupCoordinator(scenario.groupId);
  const quorumLeader = await nodes.quorumLeader();
  const leaders = (await nodes.partitions(scenario.topic)).map(({ leader }) => leader);
  let victim: number;
  if (COORDINATOR_ROLES.includes(role)) victim = coordinator;
  else if (role === 'quorum-leader') victim = quorumLeader;
  else {
    // A partition leader alone where one is: the other roles have scenarios of their own.
    victim =
      leaders.find((leader) => leader !== coordinator && leader !== quorumLeader) ??
      leaders.find((leader) => leader !== coordinator) ??
      (leaders[0] as number);
  }
  const led = ALL_PARTITIONS.filter((partition) => leaders[partition] === victim);
  const roles = [
    ...(victim === coordinator ? ['coordinator'] : []),
    ...(victim === quorumLeader ? ['quorum leader'] : []),
    `leader of p${led.join(',p') || ' none'}`,
  ];
  return { victim, roles, led };
}

/**
 * A group id, `base` or `base-<i>`, whose coordinator is not `quorumLeader`: a coordinator kill
 * then measures the group's failover, not a controller election as well (the quorum leader's
 * kill is a scenario of its own). `base` when no candidate is (every offsets partition led by
 * the quorum leader): the scenario then holds the quorum leader's bound.
 */
async function groupNotCoordinatedBy(
  nodes: ClusterHandle,
  quorumLeader: number,
  base: string,
): Promise<string> {
  for (let i = 0; i < 30; i++) {
    const groupId = i === 0 ? base : `${base}-${String(i)}`;
    if ((await nodes.groupCoordinator(groupId)) !== quorumLeader) return groupId;
  }
  return base;
}

/** The kinds of trouble the workers' health reported (`under-replicated`, `produce stalled`...). */
function troubleSeen(reports: readonly ClusterReport[]): string {
  const kinds = new Set(
    reports.flatMap(({ trouble }) => trouble.map((entry) => entry.replace(/ \S+$/, ''))),
  );
  return [...kinds].sort().join(', ') || 'none';
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
