import { setTimeout as sleep } from 'node:timers/promises';
import ConsumerGroup from 'kafkajs/src/consumer/consumerGroup.js';
import OffsetManager from 'kafkajs/src/consumer/offsetManager/index.js';
import type { CoordinatorEvents } from './coordinator-status.js';

/** What a kafkajs broker object offers the patch: whether its socket is up. */
interface CoordinatorBroker {
  nodeId: number;
  isConnected(): boolean;
}

interface ClusterInternals {
  findGroupCoordinator(options: { groupId: string }): Promise<CoordinatorBroker>;
  refreshMetadata(): Promise<void>;
}

interface ConsumerGroupInternals {
  groupId: string;
  cluster: ClusterInternals;
  coordinator: CoordinatorBroker | null;
  offsetManager: OffsetManagerInternals | null;
  maxWaitTime: number;
  sessionTimeout: number;
  heartbeat(options: { interval: number }): Promise<void>;
  recoverFromFetch(error: unknown): Promise<void>;
}

interface OffsetManagerInternals {
  groupId: string;
  cluster: ClusterInternals;
  coordinator: CoordinatorBroker;
  getCoordinator(): Promise<CoordinatorBroker>;
  commitOffsets(offsets?: unknown): Promise<void>;
}

const PATCHED = Symbol.for('nestjs-intelligence.kafka-failover');
/**
 * The consumer groups and offset managers the patch acts for (the module's own consumers),
 * with whom to tell of losses and finds.
 */
const followed = new WeakMap<object, CoordinatorEvents | undefined>();
/** When a followed group's heartbeats first found the coordinator lost (until found again). */
const lostSince = new WeakMap<object, number>();
/** A followed group's search for its new coordinator, while one is under way. */
const searches = new WeakMap<object, Promise<void>>();
/** Errors of the broker protocol that say the group's coordinator is elsewhere or not ready. */
const MOVED_TYPES = new Set([
  'NOT_COORDINATOR_FOR_GROUP',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'GROUP_LOAD_IN_PROGRESS',
]);
/** Client errors of a request to a coordinator that died or was dropped from the metadata. */
const GONE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
]);

/** Errors of a request to a broker that died (refused, timed out) before the cluster fenced it. */
const UNREACHABLE_NAMES = new Set(['KafkaJSConnectionError', 'KafkaJSRequestTimeoutError']);

/** Whether `error` means a broker (a fetch's partition leader) cannot be reached. */
export function isBrokerUnreachable(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && UNREACHABLE_NAMES.has(name);
}

/** Whether `error` means the group's coordinator moved, died or is still loading the group. */
export function isCoordinatorLost(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { name, type } = error as { name?: unknown; type?: unknown };
  return (
    (typeof type === 'string' && MOVED_TYPES.has(type)) ||
    (typeof name === 'string' && GONE_NAMES.has(name))
  );
}

/**
 * Lets `group` (a kafkajs ConsumerGroup that just joined) and its offset manager ride out a
 * broker failure (see `installFailover`). Other kafkajs consumers are left as they are.
 */
export function followGroup(group: object, events?: CoordinatorEvents): void {
  const internals = group as ConsumerGroupInternals;
  followed.set(internals, events);
  if (internals.offsetManager) followed.set(internals.offsetManager, events);
  if (internals.coordinator) events?.found(internals.coordinator.nodeId);
}

/**
 * Two gaps of kafkajs 2.2 when a broker dies, patched here (once) for the groups passed to
 * `followGroup`, the module's own consumers:
 * - It finds the group coordinator only when it joins: heartbeats keep going to that broker,
 *   and the offset manager, once the socket is down, looks the same node id up in the
 *   metadata. When the coordinator dies, every heartbeat and commit fails ("Broker N not found
 *   in the cached metadata") until the consumer crashes. Here a heartbeat or commit that fails
 *   because the coordinator was lost asks the cluster for the group's coordinator now
 *   (FindCoordinator, beside the fetch loop) and later heartbeats go there; a commit that
 *   fails so, or whose coordinator's socket is down, asks the same way and is sent there once
 *   more. The membership (member id, generation) stays as it was. While no coordinator can
 *   be found yet, heartbeats fail quietly for up to a session timeout, so the fetch loop is
 *   neither held up nor restarted (every partition would stall) for a loss that passes.
 * - A fetch from a partition leader that died fails with a connection error, which kafkajs
 *   does not recover from: its retries restart every broker's fetch loop until the consumer
 *   crashes, so every partition stalls, not only the dead leader's. Here such a fetch returns
 *   nothing after a metadata refresh and a fetch wait: the other brokers' partitions flow on,
 *   and the dead leader's move to their new leaders as soon as the metadata names them.
 * kafkajs is no longer developed, so these internals stay put; the patch refuses to install
 * if they are not there.
 */
export function installFailover(): void {
  const group = ConsumerGroup.prototype as ConsumerGroupInternals & { [PATCHED]?: true };
  const offsets = OffsetManager.prototype as OffsetManagerInternals;
  if (group[PATCHED]) return;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(this) below
  const { heartbeat, recoverFromFetch } = group;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(this) below
  const { commitOffsets, getCoordinator } = offsets;
  if (
    typeof heartbeat !== 'function' ||
    typeof recoverFromFetch !== 'function' ||
    typeof commitOffsets !== 'function' ||
    typeof getCoordinator !== 'function'
  ) {
    throw new Error('Unsupported kafkajs version: consumer group internals not found');
  }
  group.heartbeat = async function (this: ConsumerGroupInternals, options) {
    try {
      await heartbeat.call(this, options);
      // Answered: a loss that passed by itself (the old coordinator came back) ends here too.
      if (lostSince.delete(this) && this.coordinator) {
        followed.get(this)?.found(this.coordinator.nodeId);
      }
    } catch (error) {
      if (!followed.has(this) || !isCoordinatorLost(error)) throw error;
      const lostAt = lostSince.get(this) ?? Date.now();
      lostSince.set(this, lostAt);
      // The search runs beside the fetch loop (kafkajs heartbeats between batches, and a
      // FindCoordinator with its retries takes seconds while the dead node is not fenced):
      // the membership lasts a session, so the partitions flow on meanwhile.
      if (!searches.has(this)) {
        const search = searchCoordinator(this, error).finally(() => searches.delete(this));
        searches.set(this, search);
      }
      if (Date.now() - lostAt < this.sessionTimeout) return;
      throw error;
    }
  };
  group.recoverFromFetch = async function (this: ConsumerGroupInternals, error) {
    if (!followed.has(this) || !isBrokerUnreachable(error)) {
      await recoverFromFetch.call(this, error);
      return;
    }
    await this.cluster.refreshMetadata().catch(() => undefined);
    await sleep(this.maxWaitTime);
  };
  offsets.getCoordinator = async function (this: OffsetManagerInternals) {
    if (followed.has(this) && !this.coordinator.isConnected()) {
      this.coordinator = await this.cluster.findGroupCoordinator({ groupId: this.groupId });
    }
    return getCoordinator.call(this);
  };
  offsets.commitOffsets = async function (this: OffsetManagerInternals, given?: unknown) {
    try {
      await commitOffsets.call(this, given);
    } catch (error) {
      if (!followed.has(this) || !isCoordinatorLost(error)) throw error;
      this.coordinator = await findCoordinator(this, error);
      await commitOffsets.call(this, given);
    }
  };
  group[PATCHED] = true;
}

/**
 * Looks for `group`'s coordinator once and, if found, sends its heartbeats and commits there
 * from now on (its next heartbeat ends the loss). Never rejects: not found yet, the next
 * failing heartbeat searches again.
 */
async function searchCoordinator(group: ConsumerGroupInternals, cause: unknown): Promise<void> {
  try {
    const coordinator = await findCoordinator(group, cause);
    group.coordinator = coordinator;
    if (group.offsetManager) group.offsetManager.coordinator = coordinator;
  } catch {
    // Told to the events as lost; the loss stays until a heartbeat is answered.
  }
}

/**
 * The group's coordinator now, told to the follower's events (lost, then found); if there is
 * none yet, the error that led here.
 */
async function findCoordinator(
  follower: { cluster: ClusterInternals; groupId: string },
  cause: unknown,
): Promise<CoordinatorBroker> {
  const events = followed.get(follower);
  events?.lost(cause);
  let coordinator: CoordinatorBroker;
  try {
    coordinator = await follower.cluster.findGroupCoordinator({ groupId: follower.groupId });
  } catch {
    throw cause;
  }
  events?.found(coordinator.nodeId);
  return coordinator;
}
