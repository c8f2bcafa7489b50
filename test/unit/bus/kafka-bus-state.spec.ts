import { describe, expect, it, jest } from '@jest/globals';
import type {
  CoordinatorHealth,
  OutgoingMessage,
  SubscriptionHealth,
} from '../../../src/intelligence/bus/bus-message.interface.js';
import {
  BusConnectionError,
  BusMessageTooLargeError,
  BusNotConnectedError,
  BusPublishError,
} from '../../../src/intelligence/bus/bus.errors.js';
import {
  KafkaBusState,
  type KafkaBusMember,
  type KafkaClientSession,
} from '../../../src/intelligence/bus/kafka-bus-state.js';
import type { TopicSpec } from '../../../src/intelligence/bus/kafka-topic-admin.js';
import type { PartitionState } from '../../../src/intelligence/bus/partition-watch.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';

class FakeMember implements KafkaBusMember {
  closed = 0;
  coordinator: CoordinatorHealth | undefined;
  constructor(
    readonly groupId: string,
    readonly topics: readonly string[],
    private readonly startError?: Error,
  ) {}
  start(): Promise<void> {
    return this.startError ? Promise.reject(this.startError) : Promise.resolve();
  }
  close(): Promise<void> {
    this.closed += 1;
    return Promise.resolve();
  }
  health(): SubscriptionHealth {
    return {
      groupId: this.groupId,
      topics: [...this.topics],
      state: 'running',
      assigned: {},
      lag: {},
      ...(this.coordinator ? { coordinator: this.coordinator } : {}),
    };
  }
}

/** A client session that records what the shared part asks of it. */
function fakeSession() {
  const created: TopicSpec[][] = [];
  const sent: { topic: string; messages: readonly OutgoingMessage[] }[] = [];
  const pinned: string[] = [];
  const members: FakeMember[] = [];
  let sendError: Error | undefined;
  let startError: Error | undefined;
  let closed = 0;
  let partitions: PartitionState[] = [];
  const described: string[][] = [];
  const session: KafkaClientSession<FakeMember> = {
    send: (topic, messages) => {
      sent.push({ topic, messages });
      return sendError ? Promise.reject(sendError) : Promise.resolve();
    },
    createTopics: (topics) => {
      created.push(topics);
      return Promise.resolve(topics.map(({ topic }) => topic));
    },
    pinLatestStart: (groupId) => {
      pinned.push(groupId);
      return Promise.resolve();
    },
    describePartitions: (topics) => {
      described.push([...topics]);
      return Promise.resolve(partitions);
    },
    member: (groupId, topics) => {
      const member = new FakeMember(groupId, topics, startError);
      members.push(member);
      return member;
    },
    close: () => {
      closed += 1;
      return Promise.resolve();
    },
  };
  return {
    session,
    created,
    sent,
    pinned,
    members,
    closed: () => closed,
    failSends: (error: Error | undefined) => (sendError = error),
    failStarts: (error: Error | undefined) => (startError = error),
    described,
    describeAs: (given: PartitionState[]) => (partitions = given),
  };
}

const tooLarge = new Error('too large');

function state(
  options: { createTopics?: boolean; defaultPartitions?: number; clusterWatchMs?: number } = {},
) {
  const bus: KafkaBusState<FakeMember> = new KafkaBusState(
    { brokers: ['broker-1:9092', 'broker-2:9092'], ...options },
    new LogSanitizer(),
    { summarize: (error) => error, isTooLarge: (error) => error === tooLarge },
    (topic, messages) => bus.publishBatch(topic, messages),
  );
  return bus;
}

describe('KafkaBusState', () => {
  it('refuses work before it is opened and after it is disconnected', async () => {
    const bus = state();
    await expect(bus.publish('t', { value: 'a' })).rejects.toBeInstanceOf(BusNotConnectedError);
    await expect(bus.subscribe(['t'], 'g', () => Promise.resolve(), {})).rejects.toBeInstanceOf(
      BusNotConnectedError,
    );
    await expect(bus.ensureTopics([{ topic: 't' }])).rejects.toBeInstanceOf(BusNotConnectedError);
    const fake = fakeSession();
    bus.opened(fake.session);
    await bus.disconnect();
    expect(fake.closed()).toBe(1);
    await expect(bus.publishBatch('t', [{ value: 'a' }])).rejects.toBeInstanceOf(
      BusNotConnectedError,
    );
    expect(bus.health().connected).toBe(false);
  });

  it('creates a topic once, with defaultPartitions, before its first publishes', async () => {
    const bus = state({ defaultPartitions: 5 });
    const fake = fakeSession();
    bus.opened(fake.session);
    await Promise.all([bus.publish('t', { value: 'a' }), bus.publish('t', { value: 'b' })]);
    await bus.publishBatch('t', [{ value: 'c' }]);
    expect(fake.created).toEqual([[{ topic: 't', numPartitions: 5 }]]);
    expect(await bus.ensureTopics([{ topic: 't' }, { topic: 'u', numPartitions: 2 }])).toEqual([
      'u',
    ]);
    expect(fake.created[1]).toEqual([{ topic: 'u', numPartitions: 2 }]);
  });

  it('creates no topics when createTopics is off', async () => {
    const bus = state({ createTopics: false });
    const fake = fakeSession();
    bus.opened(fake.session);
    await bus.publish('t', { value: 'a' });
    await bus.subscribe(['t'], 'g', () => Promise.resolve(), {});
    expect(fake.created).toEqual([]);
  });

  it('reports a failing publish in health until one succeeds; a too large one is only refused', async () => {
    const bus = state();
    const fake = fakeSession();
    bus.opened(fake.session);
    fake.failSends(tooLarge);
    await expect(bus.publishBatch('t', [{ value: 'a' }])).rejects.toBeInstanceOf(
      BusMessageTooLargeError,
    );
    expect(bus.health().connected).toBe(true);
    fake.failSends(new Error('broker gone'));
    await expect(bus.publishBatch('t', [{ value: 'a' }])).rejects.toBeInstanceOf(BusPublishError);
    expect(bus.health()).toMatchObject({ connected: false, lastError: 'Error: broker gone' });
    fake.failSends(undefined);
    await bus.publishBatch('t', [{ value: 'a' }]);
    const health = bus.health();
    expect(health.connected).toBe(true);
    expect(health.lastError).toBeUndefined();
    expect(health.recoveredError?.error).toBe('Error: broker gone');
  });

  it('pins a group that starts from the latest, and hands out a handle that closes its member', async () => {
    const bus = state();
    const fake = fakeSession();
    bus.opened(fake.session);
    const latest = await bus.subscribe(['t'], 'g1', () => Promise.resolve(), {});
    await bus.subscribe(['t'], 'g2', () => Promise.resolve(), { fromBeginning: true });
    expect(fake.pinned).toEqual(['g1']);
    expect(latest).toMatchObject({ groupId: 'g1', topics: ['t'] });
    expect(bus.health().subscriptions.map(({ groupId }) => groupId)).toEqual(['g1', 'g2']);
    await latest.close();
    expect(fake.members[0]?.closed).toBe(1);
    expect(bus.health().subscriptions.map(({ groupId }) => groupId)).toEqual(['g2']);
    await bus.disconnect();
    expect(fake.members[1]?.closed).toBe(1);
  });

  it('forgets a member whose start failed and says which group', async () => {
    const bus = state();
    const fake = fakeSession();
    bus.opened(fake.session);
    fake.failStarts(new Error('join refused'));
    await expect(bus.subscribe(['t'], 'g', () => Promise.resolve(), {})).rejects.toThrow(
      /Cannot start consumer group g: .*join refused/,
    );
    expect(bus.health().subscriptions).toEqual([]);
  });

  it('records a failed connect and names the brokers', () => {
    const bus = state();
    const error = bus.connectFailed(new Error('refused'), {
      kind: 'transient',
      cause: 'unreachable',
      hint: 'the broker cannot be reached',
    });
    expect(error).toBeInstanceOf(BusConnectionError);
    expect(error.message).toBe(
      'Cannot connect to Kafka at broker-1:9092,broker-2:9092: Error: refused',
    );
    expect(error.failure?.cause).toBe('unreachable');
    expect(bus.health()).toMatchObject({ connected: false, lastError: 'Error: refused' });
  });
  it('watches the partitions of the topics it publishes and subscribes to, until it disconnects', async () => {
    jest.useFakeTimers();
    try {
      const bus = state({ clusterWatchMs: 1_000 });
      const fake = fakeSession();
      bus.opened(fake.session);
      await bus.publish('out', { value: 'a' });
      await bus.subscribe(['in'], 'g', () => Promise.resolve(), {});
      fake.describeAs([
        { topic: 'in', partition: 0, leader: 2, replicas: [1, 2, 3], isr: [2, 3] },
        { topic: 'out', partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3] },
      ]);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(fake.described).toEqual([['out', 'in']]);
      const health = bus.health();
      expect(health.connected).toBe(true);
      expect(health.cluster).toMatchObject({
        state: 'degraded',
        trouble: ['under-replicated in-0'],
        underReplicated: ['in-0'],
      });
      await bus.disconnect();
      await jest.advanceTimersByTimeAsync(5_000);
      expect(fake.described).toHaveLength(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('counts a lost coordinator of a member as cluster trouble, not as a lost connection', async () => {
    const bus = state({ clusterWatchMs: 0 });
    const fake = fakeSession();
    bus.opened(fake.session);
    await bus.subscribe(['in'], 'g', () => Promise.resolve(), {});
    const [member] = fake.members;
    if (!member) throw new Error('no member');
    member.coordinator = { state: 'lost', failovers: 0 };
    const lost = bus.health();
    expect(lost.connected).toBe(true);
    expect(lost.cluster).toMatchObject({ state: 'degraded', trouble: ['coordinator lost g'] });
    member.coordinator = { state: 'found', nodeId: 2, failovers: 1 };
    const found = bus.health().cluster;
    expect(found?.state).toBe('healthy');
    expect(found?.recovered?.trouble).toEqual(['coordinator lost g']);
    expect(fake.described).toEqual([]);
  });
});
