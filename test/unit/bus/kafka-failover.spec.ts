import { describe, expect, it, jest } from '@jest/globals';
import { KafkaJSConnectionError, KafkaJSProtocolError } from 'kafkajs';
import ConsumerGroup from 'kafkajs/src/consumer/consumerGroup.js';
import OffsetManager from 'kafkajs/src/consumer/offsetManager/index.js';
import {
  followGroup,
  installFailover,
  isBrokerUnreachable,
  isCoordinatorLost,
} from '../../../src/intelligence/bus/kafka-failover.js';
import { CoordinatorStatus } from '../../../src/intelligence/bus/coordinator-status.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';

installFailover();

type Broker = {
  nodeId: number;
  connected: boolean;
  isConnected(): boolean;
  heartbeat: jest.Mock<(payload: unknown) => Promise<void>>;
  offsetCommit: jest.Mock<(payload: unknown) => Promise<void>>;
};

function broker(id: number, fail?: () => Error): Broker {
  const result = (payload: unknown) =>
    (fail ? Promise.reject(fail()) : Promise.resolve(payload)).then(() => undefined);
  return {
    nodeId: id,
    connected: true,
    isConnected() {
      return this.connected;
    },
    heartbeat: jest.fn(result),
    offsetCommit: jest.fn(result),
  };
}

const notCoordinator = () =>
  new KafkaJSProtocolError({
    message: 'This is not the correct coordinator for this group',
    type: 'NOT_COORDINATOR_FOR_GROUP',
    code: 16,
    retriable: true,
  } as unknown as Error);
const refused = () => new KafkaJSConnectionError('Connection error: connect ECONNREFUSED');

/** Lets the promises already settled run their callbacks. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

const logger = { namespace: () => ({ debug() {}, info() {}, warn() {}, error() {} }) };

function cluster(next: Broker) {
  return {
    findGroupCoordinator: jest.fn((_options: { groupId: string }) => Promise.resolve(next)),
    refreshMetadata: jest.fn(() => Promise.resolve()),
    committedOffsets: () => ({}),
  };
}

type Group = {
  recoverFromFetch(error: unknown): Promise<void>;
  coordinator: Broker;
  memberId: string;
  generationId: number;
  offsetManager: unknown;
  heartbeat(options: { interval: number }): Promise<void>;
};

function group(coordinator: Broker, next: Broker) {
  const kafkaCluster = cluster(next);
  const Group = ConsumerGroup as unknown as new (options: object) => Group;
  const consumerGroup = new Group({
    cluster: kafkaCluster,
    groupId: 'g',
    topics: [],
    topicConfigurations: {},
    logger,
    instrumentationEmitter: { emit() {} },
    assigners: [],
    retry: { retries: 0 },
    maxWaitTimeInMs: 5,
    sessionTimeout: 30_000,
  });
  Object.assign(consumerGroup, { coordinator, memberId: 'member-1', generationId: 7 });
  return { consumerGroup, kafkaCluster };
}

type Offsets = {
  coordinator: Broker;
  commitOffsets(offsets: object): Promise<void>;
};

function offsetManager(coordinator: Broker, next: Broker) {
  const kafkaCluster = cluster(next);
  const Manager = OffsetManager as unknown as new (options: object) => Offsets;
  const manager = new Manager({
    cluster: kafkaCluster,
    coordinator,
    memberAssignment: { t: [0] },
    topicConfigurations: {},
    instrumentationEmitter: { emit() {} },
    groupId: 'g',
    generationId: 7,
    memberId: 'member-1',
  });
  return { manager, kafkaCluster };
}

const OFFSETS = { topics: [{ topic: 't', partitions: [{ partition: 0, offset: '10' }] }] };

describe('kafkajs failover patches', () => {
  it('tells coordinator losses from other errors', () => {
    expect(isCoordinatorLost(notCoordinator())).toBe(true);
    expect(isCoordinatorLost(refused())).toBe(true);
    expect(isCoordinatorLost(new Error('boom'))).toBe(false);
    expect(
      isCoordinatorLost(
        new KafkaJSProtocolError({
          message: 'x',
          type: 'REBALANCE_IN_PROGRESS',
          code: 27,
        } as unknown as Error),
      ),
    ).toBe(false);
  });

  it('sends a heartbeat that found the coordinator gone to the new one, same membership', async () => {
    const dead = broker(1, refused);
    const next = broker(2);
    const { consumerGroup, kafkaCluster } = group(dead, next);
    const status = new CoordinatorStatus(new LogSanitizer());
    followGroup(consumerGroup, status);
    expect(status.health()).toEqual({ nodeId: 1, state: 'found', failovers: 0 });

    await consumerGroup.heartbeat({ interval: 0 });
    expect(kafkaCluster.findGroupCoordinator).toHaveBeenCalledWith({ groupId: 'g' });
    await flush();
    expect(consumerGroup.coordinator).toBe(next);
    await consumerGroup.heartbeat({ interval: 0 });
    expect(next.heartbeat).toHaveBeenCalledWith({
      groupId: 'g',
      memberId: 'member-1',
      groupGenerationId: 7,
    });
    expect(consumerGroup.memberId).toBe('member-1');
    expect(status.health()).toMatchObject({
      nodeId: 2,
      state: 'found',
      failovers: 1,
      lastFailover: { from: 1, to: 2 },
    });
  });

  it('does not hold up the fetch loop while it searches, and searches once at a time', async () => {
    const dead = broker(1, refused);
    const next = broker(2);
    const { consumerGroup, kafkaCluster } = group(dead, next);
    let answer: (coordinator: Broker) => void = () => undefined;
    kafkaCluster.findGroupCoordinator.mockImplementation(
      () => new Promise<Broker>((resolve) => (answer = resolve)),
    );
    followGroup(consumerGroup, new CoordinatorStatus(new LogSanitizer()));

    // kafkajs heartbeats between fetched batches: each returns while the search is under way.
    await consumerGroup.heartbeat({ interval: 0 });
    await consumerGroup.heartbeat({ interval: 0 });
    expect(kafkaCluster.findGroupCoordinator).toHaveBeenCalledTimes(1);
    expect(consumerGroup.coordinator).toBe(dead);

    answer(next);
    await flush();
    await consumerGroup.heartbeat({ interval: 0 });
    expect(next.heartbeat).toHaveBeenCalledTimes(1);
    expect(kafkaCluster.findGroupCoordinator).toHaveBeenCalledTimes(1);
  });

  it('leaves groups it does not follow as kafkajs made them', async () => {
    const dead = broker(1, refused);
    const { consumerGroup, kafkaCluster } = group(dead, broker(2));

    await expect(consumerGroup.heartbeat({ interval: 0 })).rejects.toThrow('ECONNREFUSED');
    expect(kafkaCluster.findGroupCoordinator).not.toHaveBeenCalled();
    expect(consumerGroup.coordinator).toBe(dead);
  });

  it('lets heartbeats fail quietly while no coordinator can be found, up to a session', async () => {
    const dead = broker(1, refused);
    const { consumerGroup, kafkaCluster } = group(dead, broker(2));
    kafkaCluster.findGroupCoordinator.mockImplementation(() => Promise.reject(refused()));
    const status = new CoordinatorStatus(new LogSanitizer());
    followGroup(consumerGroup, status);

    await expect(consumerGroup.heartbeat({ interval: 0 })).resolves.toBeUndefined();
    expect(status.health()).toMatchObject({ state: 'lost' });

    (consumerGroup as unknown as { sessionTimeout: number }).sessionTimeout = 0;
    await expect(consumerGroup.heartbeat({ interval: 0 })).rejects.toThrow('ECONNREFUSED');
  });

  it('ends a quiet loss when the old coordinator answers again', async () => {
    let down = true;
    const flaky = broker(1, () => refused());
    flaky.heartbeat.mockImplementation(() =>
      down ? Promise.reject(refused()) : Promise.resolve(),
    );
    const { consumerGroup, kafkaCluster } = group(flaky, broker(2));
    kafkaCluster.findGroupCoordinator.mockImplementation(() => Promise.reject(refused()));
    const status = new CoordinatorStatus(new LogSanitizer());
    followGroup(consumerGroup, status);

    await consumerGroup.heartbeat({ interval: 0 });
    expect(status.health()).toMatchObject({ state: 'lost' });
    down = false;
    await consumerGroup.heartbeat({ interval: 0 });
    expect(status.health()).toMatchObject({ nodeId: 1, state: 'found', failovers: 1 });
  });

  it('passes other heartbeat errors on (a rebalance is kafkajs’s to handle)', async () => {
    const rebalancing = broker(
      1,
      () =>
        new KafkaJSProtocolError({
          message: 'rebalancing',
          type: 'REBALANCE_IN_PROGRESS',
          code: 27,
        } as unknown as Error),
    );
    const { consumerGroup, kafkaCluster } = group(rebalancing, broker(2));
    followGroup(consumerGroup);

    await expect(consumerGroup.heartbeat({ interval: 0 })).rejects.toThrow('rebalancing');
    expect(kafkaCluster.findGroupCoordinator).not.toHaveBeenCalled();
  });

  it('lets a fetch from a dead leader return nothing after a metadata refresh, not crash', async () => {
    expect(isBrokerUnreachable(refused())).toBe(true);
    expect(isBrokerUnreachable(notCoordinator())).toBe(false);
    const { consumerGroup, kafkaCluster } = group(broker(1), broker(2));
    followGroup(consumerGroup);

    await expect(consumerGroup.recoverFromFetch(refused())).resolves.toBeUndefined();
    expect(kafkaCluster.refreshMetadata).toHaveBeenCalledTimes(1);
  });

  it('leaves fetch errors of groups it does not follow, and other errors, to kafkajs', async () => {
    const { consumerGroup } = group(broker(1), broker(2));
    await expect(consumerGroup.recoverFromFetch(refused())).rejects.toThrow('ECONNREFUSED');
    followGroup(consumerGroup);
    await expect(consumerGroup.recoverFromFetch(new Error('boom'))).rejects.toThrow('boom');
  });

  it('commits to the new coordinator when the old one says it is not the coordinator', async () => {
    const moved = broker(1, notCoordinator);
    const next = broker(2);
    const { manager } = offsetManager(moved, next);
    followGroup({ offsetManager: manager });

    await manager.commitOffsets(OFFSETS);

    expect(moved.offsetCommit).toHaveBeenCalledTimes(1);
    expect(next.offsetCommit).toHaveBeenCalledWith(
      expect.objectContaining({
        memberId: 'member-1',
        groupGenerationId: 7,
        topics: OFFSETS.topics,
      }),
    );
    expect(manager.coordinator).toBe(next);
  });

  it('asks for the coordinator, not the dead node id, when its socket is down', async () => {
    const dead = broker(1);
    dead.connected = false;
    const next = broker(2);
    const { manager, kafkaCluster } = offsetManager(dead, next);
    followGroup({ offsetManager: manager });

    await manager.commitOffsets(OFFSETS);

    expect(kafkaCluster.findGroupCoordinator).toHaveBeenCalledWith({ groupId: 'g' });
    expect(dead.offsetCommit).not.toHaveBeenCalled();
    expect(next.offsetCommit).toHaveBeenCalledTimes(1);
  });

  it('rejects with the first error when no coordinator can be found yet, and shows it lost', async () => {
    const moved = broker(1, notCoordinator);
    const { manager, kafkaCluster } = offsetManager(moved, broker(2));
    kafkaCluster.findGroupCoordinator.mockImplementation(() =>
      Promise.reject(new Error('GROUP_COORDINATOR_NOT_AVAILABLE')),
    );
    const status = new CoordinatorStatus(new LogSanitizer());
    followGroup({ offsetManager: manager }, status);

    await expect(manager.commitOffsets(OFFSETS)).rejects.toThrow('not the correct coordinator');
    expect(manager.coordinator).toBe(moved);
    const health = status.health();
    expect(health).toMatchObject({ state: 'lost', failovers: 0 });
    expect(health?.lastError).toContain('not the correct coordinator');
    expect(Date.parse(health?.lostSince ?? '')).not.toBeNaN();
  });
});
