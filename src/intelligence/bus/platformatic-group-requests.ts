import type { API, Connection, Consumer } from '@platformatic/kafka';
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

/**
 * The two group requests the adapter sends itself, straight to the group coordinator over the
 * consumer's connections, with no retry or rejoin of the client's own:
 * - `commit` with an explicit generation: offsets are committed only under the generation the
 *   partitions were assigned in (the broker refuses them once that generation is over), and a
 *   failure never makes the consumer rejoin by itself (`Consumer.commit` would, in the middle of
 *   a rebalance drain);
 * - `heartbeat`, to keep the membership alive while a drain holds the rejoin back (the client
 *   stops its own heartbeats when it sees the rebalance) or after the client's heartbeat loop
 *   stopped on an error.
 */
export class GroupRequests {
  constructor(
    private readonly kafka: PlatformaticKafkaModule,
    private readonly consumer: Consumer,
  ) {}

  /** Heartbeat of the generation the consumer holds now; rejects with the broker's error. */
  async heartbeat(): Promise<void> {
    const { groupId, generationId, memberId, groupInstanceId } = this.consumer;
    if (memberId === null) throw new Error('Not a member of the group');
    await this.send('Heartbeat', [groupId, generationId, memberId, groupInstanceId]);
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
    const api = await new Promise<AnyApi>((resolve, reject) => {
      this.consumer[this.kafka.kGetApi]<unknown[], unknown>(name, (error, found) => {
        if (error || !found) reject(error ?? new Error(`API ${name} unavailable`));
        else resolve(found);
      });
    });
    const connection = await this.coordinator();
    await api.async(connection, ...args);
  }

  private async coordinator(): Promise<Connection> {
    const id = await this.consumer.findGroupCoordinator();
    const metadata = await this.consumer.metadata({ topics: [] });
    const broker = metadata.brokers.get(id);
    if (!broker) throw new Error(`Group coordinator ${String(id)} is not in the metadata`);
    return new Promise<Connection>((resolve, reject) => {
      this.consumer[this.kafka.kGetConnection](broker, (error, connection) => {
        if (error || !connection) reject(error ?? new Error('No connection to the coordinator'));
        else resolve(connection);
      });
    });
  }
}
