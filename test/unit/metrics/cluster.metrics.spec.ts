import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import type {
  BusHealth,
  SubscriptionHealth,
} from '../../../src/intelligence/bus/bus-message.interface.js';
import { registerClusterMetrics } from '../../../src/intelligence/metrics/cluster.metrics.js';

function member(groupId: string, state: 'found' | 'lost', failovers: number): SubscriptionHealth {
  return {
    groupId,
    topics: ['t'],
    state: 'running',
    assigned: {},
    lag: {},
    coordinator: { state, failovers },
  };
}

describe('cluster metrics', () => {
  it('exports what the bus sees of its cluster, coordinators per group', async () => {
    const registry = new Registry();
    let health: BusHealth = {
      kind: 'kafka',
      connected: true,
      brokers: [],
      subscriptions: [
        member('g', 'found', 1),
        member('g', 'lost', 2),
        member('g.retry', 'found', 0),
      ],
      cluster: {
        state: 'degraded',
        trouble: ['under-replicated t-0,t-1'],
        underReplicated: ['t-0', 't-1'],
        leaderless: [],
        leaderChanges: 3,
        produce: { stalled: true, inFlight: 2, stalls: 4 },
      },
    };
    registerClusterMetrics(registry, () => health);
    const text = await registry.metrics();
    expect(text).toContain('intelligence_kafka_cluster_degraded 1');
    expect(text).toContain('intelligence_kafka_partitions_in_trouble{state="under_replicated"} 2');
    expect(text).toContain('intelligence_kafka_partitions_in_trouble{state="leaderless"} 0');
    expect(text).toContain('intelligence_kafka_produce_stalled 1');
    expect(text).toContain('intelligence_kafka_cluster_events_total{event="leader_change"} 3');
    expect(text).toContain('intelligence_kafka_cluster_events_total{event="produce_stall"} 4');
    expect(text).toContain('intelligence_kafka_coordinator_lost{group="g"} 1');
    expect(text).toContain('intelligence_kafka_coordinator_lost{group="g.retry"} 0');
    expect(text).toContain('intelligence_kafka_coordinator_failovers_total{group="g"} 3');

    health = { kind: 'memory', connected: true, brokers: [], subscriptions: [] };
    const memory = await registry.metrics();
    expect(memory).toContain('intelligence_kafka_cluster_degraded 0');
    expect(memory).not.toMatch(/intelligence_kafka_partitions_in_trouble\{/);
    expect(memory).not.toMatch(/intelligence_kafka_coordinator_lost\{/);
  });
});
