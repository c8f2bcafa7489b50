import { Counter, Gauge, type Registry } from 'prom-client';
import type { BusHealth } from '../bus/bus-message.interface.js';

/**
 * What the Kafka bus sees of its cluster (`BusHealth.cluster` and each member's coordinator),
 * read when scraped. Group labels come from the subscriptions, so they stay bounded.
 */
export function registerClusterMetrics(registry: Registry, bus: () => BusHealth): void {
  const registers = [registry];
  new Gauge({
    name: 'intelligence_kafka_cluster_degraded',
    help: '1 while the cluster is in trouble: under-replicated or leaderless partitions, stalled publishes, a lost coordinator',
    registers,
    collect() {
      this.reset();
      const cluster = bus().cluster;
      if (cluster) this.set(cluster.state === 'degraded' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'intelligence_kafka_partitions_in_trouble',
    help: "Partitions of the bus's topics that are under-replicated or have no leader",
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      const cluster = bus().cluster;
      if (!cluster) return;
      this.set({ state: 'under_replicated' }, cluster.underReplicated.length);
      this.set({ state: 'leaderless' }, cluster.leaderless.length);
    },
  });
  new Gauge({
    name: 'intelligence_kafka_produce_stalled',
    help: '1 while a publish has waited over 1 s for its acknowledgement',
    registers,
    collect() {
      this.reset();
      const cluster = bus().cluster;
      if (cluster) this.set(cluster.produce.stalled ? 1 : 0);
    },
  });
  new Counter({
    name: 'intelligence_kafka_cluster_events_total',
    help: 'Partition leader moves and publishes that stalled, as the bus saw them',
    labelNames: ['event'],
    registers,
    collect() {
      this.reset();
      const cluster = bus().cluster;
      if (!cluster) return;
      this.inc({ event: 'leader_change' }, cluster.leaderChanges);
      this.inc({ event: 'produce_stall' }, cluster.produce.stalls);
    },
  });
  new Gauge({
    name: 'intelligence_kafka_coordinator_lost',
    help: "1 while a consumer group's coordinator is lost",
    labelNames: ['group'],
    registers,
    collect() {
      this.reset();
      for (const [group, { lost }] of coordinators(bus())) this.set({ group }, lost ? 1 : 0);
    },
  });
  new Counter({
    name: 'intelligence_kafka_coordinator_failovers_total',
    help: "Times a consumer group's coordinator was lost and found again",
    labelNames: ['group'],
    registers,
    collect() {
      this.reset();
      for (const [group, { failovers }] of coordinators(bus())) this.inc({ group }, failovers);
    },
  });
}

/** Per group (several members may share one): whether any lost its coordinator, failovers. */
function coordinators(health: BusHealth): Map<string, { lost: boolean; failovers: number }> {
  const groups = new Map<string, { lost: boolean; failovers: number }>();
  for (const { groupId, coordinator } of health.subscriptions) {
    if (!coordinator) continue;
    const seen = groups.get(groupId) ?? { lost: false, failovers: 0 };
    groups.set(groupId, {
      lost: seen.lost || coordinator.state === 'lost',
      failovers: seen.failovers + coordinator.failovers,
    });
  }
  return groups;
}
