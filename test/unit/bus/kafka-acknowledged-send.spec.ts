import { describe, expect, it } from '@jest/globals';
import type { Message, PartitionMetadata, RecordMetadata } from 'kafkajs';
import {
  pinningPartitioner,
  sendAcknowledged,
  UnacknowledgedSendError,
} from '../../../src/intelligence/bus/kafka-acknowledged-send.js';

const partitionMetadata: PartitionMetadata[] = [0, 1, 2].map((partitionId) => ({
  partitionErrorCode: 0,
  partitionId,
  leader: partitionId + 1,
  replicas: [1, 2, 3],
  isr: [1, 2, 3],
}));

/** A kafkajs send as `sendMessages` does it: partitions each message, answers per partition. */
function fakeSend(acknowledges: (round: number, partition: number) => boolean) {
  const partitioner = pinningPartitioner();
  const rounds: { partition: number; value: string }[][] = [];
  const send = (messages: Message[]): Promise<RecordMetadata[]> => {
    const round = rounds.length + 1;
    const sent = messages.map((message) => ({
      partition: partitioner({ topic: 't', partitionMetadata, message }),
      value: String(message.value),
    }));
    rounds.push(sent);
    const answered = [...new Set(sent.map(({ partition }) => partition))].filter((partition) =>
      acknowledges(round, partition),
    );
    return Promise.resolve(
      answered.map((partition) => ({ topicName: 't', partition, errorCode: 0 })),
    );
  };
  return { send, rounds };
}

const messages = (): Message[] =>
  ['a', 'b', 'c', 'd', 'e', 'f'].map((key) => ({ key, value: `v-${key}` }));

describe('sendAcknowledged', () => {
  it('sends once when every partition is acknowledged', async () => {
    const fake = fakeSend(() => true);
    await sendAcknowledged(messages(), fake.send);
    expect(fake.rounds).toHaveLength(1);
    expect(fake.rounds[0]).toHaveLength(6);
  });

  it('sends again, on the same partition, only the messages of partitions missing from the result (kafkajs#1303)', async () => {
    // Round 1: kafkajs resolved with the old response of partition 0's new leader, so the
    // messages of partition 0 were never written.
    const fake = fakeSend((round, partition) => round > 1 || partition !== 0);
    const given = messages();
    await sendAcknowledged(given, fake.send);
    expect(fake.rounds).toHaveLength(2);
    const first = fake.rounds[0] ?? [];
    const missing = first.filter(({ partition }) => partition === 0);
    expect(missing.length).toBeGreaterThan(0);
    expect(fake.rounds[1]).toEqual(missing);
  });

  it('gives up with a clear error when a partition is never acknowledged', async () => {
    const fake = fakeSend((_, partition) => partition !== 1);
    const error = await sendAcknowledged(messages(), fake.send).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnacknowledgedSendError);
    expect((error as Error).message).toMatch(/partitions 1 were not acknowledged after 5 sends/);
    expect(fake.rounds).toHaveLength(5);
    expect(JSON.stringify((error as Error).message)).not.toContain('v-');
  });

  it('leaves the partitioning to kafkajs: by key hash, and round-robin without a key', () => {
    const partitioner = pinningPartitioner();
    const keyed: Message = { key: 'order-1', value: 'x' };
    const first = partitioner({ topic: 't', partitionMetadata, message: keyed });
    expect(keyed.partition).toBe(first);
    expect(
      partitioner({ topic: 't', partitionMetadata, message: { key: 'order-1', value: 'y' } }),
    ).toBe(first);
    const unkeyed = Array.from({ length: 3 }, () => {
      const message: Message = { value: 'z' };
      return partitioner({ topic: 't', partitionMetadata, message });
    });
    expect(new Set(unkeyed).size).toBe(3);
  });
});
