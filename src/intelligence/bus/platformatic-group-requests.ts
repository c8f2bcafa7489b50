import type { API, Broker, Connection, Consumer } from '@platformatic/kafka';
import type { CoordinatorEvents } from './coordinator-status.js';
import { platformaticErrorTree, protocolErrorIds } from './platformatic-failure-classifier.js';
import type { PlatformaticKafkaModule } from './platformatic-loader.js';

/** The generation partitions were assigned in: commits for them carry it. */
export interface Generation {
  generationId: number;
  memberId: string;
}

export interface GroupOffset {
  topic: string;
  partition: number;
  /** The offset to commit: one past the last handled message, decimal. */
  offset: string;
}

type AnyApi = API<unknown[], unknown>;

const GROUP_KEY_TYPE = 0;
/** Protocol errors that say the coordinator moved, is not elected yet, or is still loading. */
const COORDINATOR_ERRORS = new Set([
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
]);
const NETWORK = /^(PLT_KFK_NETWORK|PLT_KFK_TIMEOUT|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)$/;

/** Whether a group request failed because its coordinator is gone (died, moved, loading). */
export function coordinatorLost(error: unknown): boolean {
  if ([...protocolErrorIds(error)].some((id) => COORDINATOR_ERRORS.has(id))) return true;
  return platformaticErrorTree(error).some(
    (e) => (typeof e.code === 'string' && NETWORK.test(e.code)) || e instanceof CoordinatorGone,
  );
}

/** The coordinator FindCoordinator named is not reachable by any broker the client knows. */
class CoordinatorGone extends Error {
  override readonly name = 'CoordinatorGone';
}

/**
 * The group requests the adapter sends itself, straight to the group coordinator over the
 * consumer's connections, with no retry or rejoin of the client's own:
 * - `commit` with an explicit generation: offsets are committed only under the generation the
 *   partitions were assigned in (the broker refuses them once that generation is over), and a
 *   failure never makes the consumer rejoin by itself (`Consumer.commit` would, in the middle of
 *   a rebalance drain);
 * - `heartbeat`, to keep the membership alive while a drain holds the rejoin back (the client
 *   stops its own heartbeats when it sees the rebalance) or after the client's heartbeat loop
 *   stopped on an error;
 * - `leave`, for a member whose client still points at a coordinator that moved.
 *
 * They find the coordinator themselves: @platformatic/kafka 1.x keeps the first coordinator's
 * node id for the consumer's lifetime (a private field, never reset), so after the coordinator
 * dies every request of the client's own goes to the dead node. These ask FindCoordinator of
 * a live broker again after a loss; `clientStale` tells when the client's own id is out of date
 * (then only a new consumer can join the group again).
 */
export class GroupRequests {
  private coordinator: Broker & { nodeId: number } = { nodeId: -1, host: '', port: 0 };
  private found = false;
  private lost = false;

  constructor(
    private readonly kafka: PlatformaticKafkaModule,
    private readonly consumer: Consumer,
    private readonly events?: CoordinatorEvents,
  ) {}

  /** Whether the client's own group requests go to a node that is no longer the coordinator. */
  get clientStale(): boolean {
    const cached = this.consumer.coordinatorId;
    return this.found && typeof cached === 'number' && cached !== this.coordinator.nodeId;
  }

  /** Whether the last request found the coordinator gone (until one passes again). */
  get coordinatorLost(): boolean {
    return this.lost;
  }

  /** Heartbeat of the generation the consumer holds now; rejects with the broker's error. */
  async heartbeat(): Promise<void> {
    const { groupId, generationId, memberId, groupInstanceId } = this.consumer;
    if (memberId === null) throw new Error('Not a member of the group');
    await this.send('Heartbeat', [groupId, generationId, memberId, groupInstanceId]);
  }

  /** Leaves the group as the consumer's member; the client's `close()` then has nothing to leave. */
  async leave(): Promise<void> {
    const { groupId, memberId } = this.consumer;
    if (memberId === null) return;
    await this.send('LeaveGroup', [groupId, [{ memberId }]]);
    this.consumer.memberId = null;
  }

  async commit(generation: Generation, offsets: readonly GroupOffset[]): Promise<void> {
    const byTopic = new Map<
      string,
      {
        partitionIndex: number;
        committedOffset: bigint;
        committedLeaderEpoch: number;
        committedMetadata: null;
      }[]
    >();
    for (const { topic, partition, offset } of offsets) {
      const partitions = byTopic.get(topic) ?? [];
      partitions.push({
        partitionIndex: partition,
        committedOffset: BigInt(offset),
        committedLeaderEpoch: -1,
        committedMetadata: null,
      });
      byTopic.set(topic, partitions);
    }
    await this.send('OffsetCommit', [
      this.consumer.groupId,
      generation.generationId,
      generation.memberId,
      this.consumer.groupInstanceId,
      [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    ]);
  }

  private async send(name: string, args: unknown[]): Promise<void> {
    const api = await this.api(name);
    try {
      const connection = await this.connection();
      await api.async(connection, ...args);
    } catch (error) {
      if (coordinatorLost(error)) {
        this.found = false;
        this.lost = true;
        this.events?.lost(error);
      }
      throw error;
    }
    if (this.lost) {
      this.lost = false;
      this.events?.found(this.coordinator.nodeId);
    }
  }

  private api(name: string): Promise<AnyApi> {
    return new Promise<AnyApi>((resolve, reject) => {
      this.consumer[this.kafka.kGetApi]<unknown[], unknown>(name, (error, found) => {
        if (error || !found) reject(error ?? new Error(`API ${name} unavailable`));
        else resolve(found);
      });
    });
  }

  private async connection(): Promise<Connection> {
    if (!this.found) await this.findCoordinator();
    return this.consumer.connections.get(this.coordinator);
  }

  /** FindCoordinator, asked of any live broker but the one that was the coordinator. */
  private async findCoordinator(): Promise<void> {
    const metadata = await this.consumer.metadata({ topics: [] });
    // The node that was the coordinator last: it is likely the one that died.
    const brokers = [...metadata.brokers]
      .sort(
        ([a], [b]) => Number(a === this.coordinator.nodeId) - Number(b === this.coordinator.nodeId),
      )
      .map(([, broker]) => broker);
    if (brokers.length === 0) throw new CoordinatorGone('No broker in the metadata');
    const connection = await this.consumer.connections.getFirstAvailable(brokers);
    const api = await this.api('FindCoordinator');
    const response = (await api.async(connection, GROUP_KEY_TYPE, [this.consumer.groupId])) as {
      coordinators: { key: string; nodeId: number; host: string; port: number }[];
    };
    const coordinator = response.coordinators.find(({ key }) => key === this.consumer.groupId);
    if (!coordinator) throw new CoordinatorGone('FindCoordinator named no coordinator');
    const first = this.coordinator.nodeId === -1;
    this.coordinator = {
      nodeId: coordinator.nodeId,
      host: coordinator.host,
      port: coordinator.port,
    };
    this.found = true;
    if (first) this.events?.found(coordinator.nodeId);
  }
}
