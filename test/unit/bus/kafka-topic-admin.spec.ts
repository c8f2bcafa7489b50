import { describe, expect, it } from '@jest/globals';
import type { Admin } from 'kafkajs';
import { ensureTopics } from '../../../src/intelligence/bus/kafka-topic-admin.js';

/**
 * An admin on a cluster whose other nodes apply a new topic a little later: its metadata
 * fails with UNKNOWN_TOPIC_OR_PARTITION, then shows no leader, then the leaders.
 */
function lateCluster() {
  const created: unknown[] = [];
  let asked = 0;
  const admin = {
    listTopics: () => Promise.resolve(['old']),
    createTopics: (request: unknown) => {
      created.push(request);
      return Promise.resolve(true);
    },
    fetchTopicMetadata: () => {
      asked += 1;
      if (asked === 1) {
        return Promise.reject(new Error('This server does not host this topic-partition'));
      }
      const leader = asked === 2 ? -1 : 2;
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

describe('ensureTopics (kafkajs)', () => {
  it("creates the missing topics without kafkajs's waitForLeaders and waits for every leader itself", async () => {
    const cluster = lateCluster();
    await expect(
      ensureTopics(cluster.admin, [{ topic: 'old' }, { topic: 'new', numPartitions: 2 }]),
    ).resolves.toEqual(['new']);
    expect(cluster.created).toEqual([
      {
        waitForLeaders: false,
        topics: [{ topic: 'new', numPartitions: 2, replicationFactor: -1 }],
      },
    ]);
    expect(cluster.asked()).toBe(3);
  });

  it('creates nothing when every topic exists', async () => {
    const cluster = lateCluster();
    await expect(ensureTopics(cluster.admin, [{ topic: 'old' }])).resolves.toEqual([]);
    expect(cluster.created).toEqual([]);
    expect(cluster.asked()).toBe(0);
  });
});
