import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Consumer } from 'kafkajs';
import { startCluster, type ClusterHandle } from '../../scripts/kafka/cluster.mjs';
import { uniqueGroup, uniqueTopic } from '../support/unique-names.js';
import { now } from './support/clock.js';
import { createTopic, plainKafka } from './support/fault-kafka.js';
import { FAULTS_DIR } from './support/fault-table.js';

const NODE_IDS = [1, 2, 3];
const DIR = path.join(FAULTS_DIR, 'cluster-script');
/** A new partition leader / quorum leader this soon after a kill -9 (session 3 s, raft ~2 s). */
const FAILOVER_BOUND_MS = 20_000;
/** The restarted node registered and back in every ISR this soon. */
const REJOIN_BOUND_MS = 60_000;

/**
 * scripts/kafka/cluster.mjs on its own, as groundwork for the cluster-failover faults: a 3-node
 * KRaft cluster (every node broker + controller), its role lookups, kill -9 and restart of the
 * partition leader, the quorum leader and the group coordinator. Prints (and keeps in
 * .cache/faults/cluster-script/timings.json) how long start, elections and rejoins took.
 */
describe('cluster script: 3-node KRaft cluster', () => {
  let cluster: ClusterHandle | undefined;
  let consumer: Consumer | undefined;
  const topic = uniqueTopic('faults-cluster-script');
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const started = now();
    try {
      return await fn();
    } finally {
      timings[name] = Math.round(now() - started);
    }
  };
  const the = (): ClusterHandle => {
    if (!cluster) throw new Error('no cluster');
    return cluster;
  };
  const survivorsOf = (id: number) => NODE_IDS.filter((other) => other !== id);

  beforeAll(async () => {
    cluster = await timed('startClusterMs', () => startCluster({ nodes: 3 }));
    await createTopic(cluster.brokers, topic, 3);
  }, 180_000);

  afterAll(async () => {
    await consumer?.disconnect().catch(() => undefined);
    await cluster?.cleanup();
    mkdirSync(DIR, { recursive: true });
    writeFileSync(path.join(DIR, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    const list = Object.entries(timings).map(([name, ms]) => `${name}=${String(ms)}`);
    process.stdout.write(`\ncluster-script timings (ms): ${list.join(' ')}\n`);
  }, 60_000);

  it('registers 3 brokers, all of them voters of the metadata quorum', async () => {
    const c = the();
    expect(c.nodes.map((n) => n.id)).toEqual(NODE_IDS);
    expect(c.nodes.every((n) => n.alive)).toBe(true);
    expect(c.brokers).toHaveLength(3);
    expect(await c.registeredBrokers()).toEqual(NODE_IDS);
    const quorum = await c.quorum();
    expect(quorum.voters.map((v) => v.id).sort()).toEqual(NODE_IDS);
    expect(NODE_IDS).toContain(quorum.leaderId);
  }, 30_000);

  it('keeps all 3 replicas of an RF-3 topic in sync', async () => {
    const c = the();
    const partitions = await c.waitForIsr(topic, 3, 30_000);
    expect(partitions).toHaveLength(3);
    for (const p of partitions) expect(p.replicas).toEqual(NODE_IDS);
    expect(await c.isr(topic, 0)).toEqual(NODE_IDS);
  }, 60_000);

  it('elects a new partition leader after kill -9 of the leader; acks=all writes go on; the node rejoins the ISR', async () => {
    const c = the();
    const leader = await c.partitionLeader(topic, 0);
    expect(NODE_IDS).toContain(leader);

    const killedAt = now();
    await c.kill9(leader);
    const newLeader = await c.waitForPartitionLeader(topic, 0, {
      exclude: [leader],
      timeoutMs: FAILOVER_BOUND_MS,
    });
    timings.partitionLeaderElectionMs = Math.round(now() - killedAt);
    expect(survivorsOf(leader)).toContain(newLeader);
    expect(await c.isr(topic, 0)).toEqual(survivorsOf(leader));

    const producer = plainKafka(c.liveBrokers(), 'cluster-script-producer').producer();
    await producer.connect();
    try {
      const [sent] = await timed('produceAcksAllMs', () =>
        producer.send({ topic, acks: -1, messages: [{ partition: 0, value: 'after kill -9' }] }),
      );
      expect(sent?.errorCode).toBe(0);
    } finally {
      await producer.disconnect();
    }

    await timed('partitionLeaderRestartMs', () => c.restart(leader));
    await timed('partitionLeaderIsrBackMs', () => c.waitForIsr(topic, 3, REJOIN_BOUND_MS));
    expect(await c.isr(topic, 0)).toEqual(NODE_IDS);
  }, 150_000);

  it('finds the quorum leader and elects another one after kill -9 of it', async () => {
    const c = the();
    const leader = await c.quorumLeader();
    expect(c.liveIds()).toContain(leader);

    const killedAt = now();
    await c.kill9(leader);
    const newLeader = await c.waitForQuorumLeader({
      exclude: [leader],
      timeoutMs: FAILOVER_BOUND_MS,
    });
    timings.quorumLeaderElectionMs = Math.round(now() - killedAt);
    expect(survivorsOf(leader)).toContain(newLeader);
    expect(c.liveIds()).toEqual(survivorsOf(leader));

    await timed('quorumLeaderRestartMs', () => c.restart(leader));
    await timed('quorumLeaderIsrBackMs', () => c.waitForIsr(topic, 3, REJOIN_BOUND_MS));
    const quorum = await c.quorum();
    expect(quorum.voters.map((v) => v.id).sort()).toEqual(NODE_IDS);
  }, 150_000);

  it('finds the coordinator of a joined group, and its successor after kill -9 of it', async () => {
    const c = the();
    const groupId = uniqueGroup('faults-cluster-script');
    const joiner = plainKafka(c.liveBrokers(), 'cluster-script-consumer').consumer({
      groupId,
      maxWaitTimeInMs: 100,
    });
    consumer = joiner;
    const joined = new Promise<void>((resolve) => {
      joiner.on(joiner.events.GROUP_JOIN, () => {
        resolve();
      });
    });
    await timed('groupJoinMs', async () => {
      await joiner.connect();
      await joiner.subscribe({ topics: [topic], fromBeginning: true });
      await joiner.run({ eachMessage: () => Promise.resolve() });
      await withTimeout(joined, 60_000, `${groupId} joined`);
    });

    const coordinator = await c.groupCoordinator(groupId);
    expect(c.liveIds()).toContain(coordinator);
    // The group lives on the offsets partition its id hashes to (two per node here).
    const offsetsPartition = offsetsPartitionOf(groupId, 2 * c.liveIds().length);
    expect(await c.partitionLeader('__consumer_offsets', offsetsPartition)).toBe(coordinator);

    await joiner.disconnect();
    consumer = undefined;
    const killedAt = now();
    await c.kill9(coordinator);
    await c.waitForPartitionLeader('__consumer_offsets', offsetsPartition, {
      exclude: [coordinator],
      timeoutMs: FAILOVER_BOUND_MS,
    });
    const successor = await c.groupCoordinator(groupId);
    timings.coordinatorFailoverMs = Math.round(now() - killedAt);
    expect(survivorsOf(coordinator)).toContain(successor);
  }, 150_000);
});

/** Kafka's partition of the offsets topic for a group: abs(Java hashCode of its id) % count. */
function offsetsPartitionOf(groupId: string, partitions: number): number {
  let hash = 0;
  for (let i = 0; i < groupId.length; i++) hash = (Math.imul(31, hash) + groupId.charCodeAt(i)) | 0;
  return (hash === -2147483648 ? 0 : Math.abs(hash)) % partitions;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`Timed out after ${String(ms)} ms: ${what}`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => {
    clearTimeout(timer);
  });
}
