import { describe, expect, it } from '@jest/globals';
import type { Admin } from 'kafkajs';
import { ensureTopics } from '../../../src/intelligence/bus/kafka-topic-admin.js';

/**
 * An admin on a cluster whose other nodes apply a new topic a little later: kafkajs's
 * `waitForLeaders` fails with `createError`, and metadata shows no leader, then the leaders.
 */
function lateCluster(createError?: Error) {
  const created: unknown[] = [];
  let asked = 0;
  const admin = {
    listTopics: () => Promise.resolve(['old']),
    createTopics: (request: unknown) => {
      created.push(request);
      return createError ? Promise.reject(createError) : Promise.resolve(true);
    },
    fetchTopicMetadata: () => {
      asked += 1;
      const leader = asked === 1 ? -1 : 2;
      return Promise.resolve({
        topics: [
          {
            name: 'new',
            partitions: [0, 1].map((partitionId) => ({
              partitionId,
              leader,
              replicas: [1, 2, 3],
              isr: [1, 2, 3],
            })),
          },
        ],
      });
    },
  };
  return { admin: admin as unknown as Admin, created, asked: () => asked };
}

const unknownTopic = () =>
  Object.assign(new Error('This server does not host this topic-partition'), {
    type: 'UNKNOWN_TOPIC_OR_PARTITION',
  });

describe('ensureTopics (kafkajs)', () => {
  it('waits for every leader itself when a node does not know the new topic yet', async () => {
    const cluster = lateCluster(unknownTopic());
    await expect(
      ensureTopics(cluster.admin, [{ topic: 'old' }, { topic: 'new', numPartitions: 2 }]),
    ).resolves.toEqual(['new']);
    expect(cluster.created).toEqual([
      {
        waitForLeaders: true,
        topics: [{ topic: 'new', numPartitions: 2, replicationFactor: -1 }],
      },
    ]);
    expect(cluster.asked()).toBe(2);
  });

  it("leaves the wait to kafkajs's waitForLeaders when it succeeds, and passes other errors on", async () => {
    const quick = lateCluster();
    await expect(ensureTopics(quick.admin, [{ topic: 'new' }])).resolves.toEqual(['new']);
    expect(quick.asked()).toBe(0);
    const refused = lateCluster(
      Object.assign(new Error('denied'), { type: 'TOPIC_AUTHORIZATION_FAILED' }),
    );
    await expect(ensureTopics(refused.admin, [{ topic: 'new' }])).rejects.toThrow('denied');
  });

  it('creates nothing when every topic exists', async () => {
    const cluster = lateCluster();
    await expect(ensureTopics(cluster.admin, [{ topic: 'old' }])).resolves.toEqual([]);
    expect(cluster.created).toEqual([]);
    expect(cluster.asked()).toBe(0);
  });
});
