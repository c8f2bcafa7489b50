import { describe, expect, it } from '@jest/globals';
import type { ConnectionPool, Consumer } from '@platformatic/kafka';
import type { BusMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import {
  PartitionFetcher,
  type FetcherListener,
} from '../../../src/intelligence/bus/platformatic-fetcher.js';
import { waitFor } from '../../support/wait-for.js';

interface FetchCall {
  node: number;
  partitions: number[];
  resolve: (records: boolean) => void;
  reject: (error: Error) => void;
}

/**
 * A consumer whose metadata names a leader per partition of topic `t` and whose fetches stay
 * open until the test answers them: each answer returns one record per partition fetched.
 */
function fakeConsumer(leaders: number[]) {
  const calls: FetchCall[] = [];
  let cleared = 0;
  const consumer = {
    metadata: () =>
      Promise.resolve({
        topics: new Map([['t', { id: 'id-t', partitions: leaders.map((leader) => ({ leader })) }]]),
      }),
    clearMetadata: () => {
      cleared += 1;
    },
    fetch: (options: {
      node: number;
      topics: { partitions: { partition: number; fetchOffset: bigint }[] }[];
    }) =>
      new Promise((resolve, reject) => {
        const partitions = options.topics.flatMap((topic) => topic.partitions);
        calls.push({
          node: options.node,
          partitions: partitions.map(({ partition }) => partition),
          resolve: () => {
            resolve({
              responses: [
                {
                  topicId: 'id-t',
                  partitions: partitions.map(({ partition, fetchOffset }) => ({
                    partitionIndex: partition,
                    errorCode: 0,
                    highWatermark: fetchOffset + 1n,
                    records: [
                      {
                        firstOffset: fetchOffset,
                        lastOffsetDelta: 0,
                        attributes: 0,
                        firstTimestamp: 0n,
                        records: [
                          {
                            offsetDelta: 0,
                            timestampDelta: 0n,
                            key: null,
                            value: null,
                            headers: [],
                          },
                        ],
                      },
                    ],
                  })),
                },
              ],
            });
          },
          reject,
        });
      }),
  };
  return {
    consumer: consumer as unknown as Consumer,
    calls,
    cleared: () => cleared,
    /** Answers every open fetch to `node`. */
    answer(node: number) {
      const mine = calls.filter((call) => call.node === node);
      for (const call of mine) calls.splice(calls.indexOf(call), 1);
      for (const call of mine) call.resolve(true);
    },
    open: (node: number) => calls.filter((call) => call.node === node),
  };
}

function listener() {
  const fetched: Record<number, string[]> = {};
  const failures: Error[] = [];
  let succeeded = 0;
  const events: FetcherListener = {
    fetched: (_topic, partition, messages: BusMessage[]) => {
      fetched[partition] = [...(fetched[partition] ?? []), ...messages.map((m) => m.offset)];
    },
    outOfRange: () => undefined,
    failed: (error) => failures.push(error as Error),
    succeeded: () => {
      succeeded += 1;
    },
  };
  return { events, fetched, failures, succeeded: () => succeeded };
}

const SETTINGS = { maxWaitMs: 10, partitionMaxBytes: 1_000, maxBytes: 10_000 };

describe('PartitionFetcher', () => {
  it('keeps fetching from a live leader while another leader does not answer', async () => {
    // Partitions 0 and 2 on node 1, partition 1 on node 2 (which never answers).
    const fake = fakeConsumer([1, 2, 1]);
    const seen = listener();
    const fetcher = new PartitionFetcher(
      fake.consumer,
      {} as ConnectionPool,
      SETTINGS,
      seen.events,
    );
    fetcher.assign([0, 1, 2].map((partition) => ({ topic: 't', partition, offset: 0n })));
    fetcher.start();
    try {
      for (let round = 0; round < 5; round += 1) {
        await waitFor(() => fake.open(1).length === 1, 'a fetch to node 1', 2_000, 1);
        fake.answer(1);
      }
      await waitFor(() => (seen.fetched[2] ?? []).length === 5, 'five rounds of node 1', 2_000, 1);
      expect(seen.fetched[0]).toEqual(['0', '1', '2', '3', '4']);
      expect(seen.fetched[1]).toBeUndefined();
      // Node 2's one fetch is still the only one sent to it: nothing piled up behind it.
      expect(fake.open(2)).toHaveLength(1);
      expect(fake.open(2)[0]?.partitions).toEqual([1]);
    } finally {
      fetcher.stop();
    }
  });

  it('backs off only the partitions of a failing leader, refreshing metadata, and recovers', async () => {
    const fake = fakeConsumer([1, 2]);
    const seen = listener();
    const fetcher = new PartitionFetcher(
      fake.consumer,
      {} as ConnectionPool,
      SETTINGS,
      seen.events,
    );
    fetcher.assign([0, 1].map((partition) => ({ topic: 't', partition, offset: 0n })));
    fetcher.start();
    try {
      await waitFor(() => fake.open(2).length === 1, 'a fetch to node 2', 2_000, 1);
      fake.open(2)[0]?.reject(new Error('connect ECONNREFUSED 127.0.0.1:9094'));
      fake.calls.splice(fake.calls.indexOf(fake.open(2)[0] as FetchCall), 1);
      await waitFor(() => seen.failures.length === 1, 'the failure reported', 2_000, 1);
      expect(fetcher.failing).toBe(true);
      expect(fake.cleared()).toBeGreaterThan(0);
      // Node 1 keeps being fetched during node 2's backoff.
      fake.answer(1);
      await waitFor(() => fake.open(1).length === 1, 'node 1 fetched again', 2_000, 1);
      // After its backoff, partition 1 is fetched again and recovers.
      await waitFor(() => fake.open(2).length === 1, 'node 2 fetched again', 3_000, 5);
      fake.answer(2);
      await waitFor(() => !fetcher.failing, 'recovered', 2_000, 1);
      expect(seen.fetched[1]).toEqual(['0']);
      expect(seen.succeeded()).toBeGreaterThan(0);
    } finally {
      fetcher.stop();
    }
  });
});
