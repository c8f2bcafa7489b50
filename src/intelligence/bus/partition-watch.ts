import type { ClusterHealth } from './bus-message.interface.js';

/** One partition as the cluster's metadata describes it (leader -1: none). */
export interface PartitionState {
  topic: string;
  partition: number;
  leader: number;
  replicas: readonly number[];
  isr: readonly number[];
}

/**
 * The partitions of the bus's topics from one describe to the next: which are under-replicated
 * or leaderless now, and the leader moves between describes (a leaderless spell in between
 * counts from the last leader to the next).
 */
export class PartitionWatch {
  private readonly leaders = new Map<string, number>();
  private underReplicated: string[] = [];
  private leaderless: string[] = [];
  private leaderChanges = 0;
  private lastLeaderChange: ClusterHealth['lastLeaderChange'];

  observe(partitions: readonly PartitionState[], at: number): void {
    const under: string[] = [];
    const without: string[] = [];
    for (const state of partitions) {
      const name = `${state.topic}-${String(state.partition)}`;
      if (state.leader < 0) {
        without.push(name);
        continue;
      }
      if (state.isr.length < state.replicas.length) under.push(name);
      const before = this.leaders.get(name);
      if (before !== undefined && before !== state.leader) {
        this.leaderChanges += 1;
        this.lastLeaderChange = {
          partition: name,
          from: before,
          to: state.leader,
          at: new Date(at).toISOString(),
        };
      }
      this.leaders.set(name, state.leader);
    }
    this.underReplicated = under.sort();
    this.leaderless = without.sort();
  }

  /** What is wrong now, one entry per kind: `under-replicated t-0,t-3`. */
  trouble(): string[] {
    return [
      ...(this.underReplicated.length > 0
        ? [`under-replicated ${this.underReplicated.join(',')}`]
        : []),
      ...(this.leaderless.length > 0 ? [`leaderless ${this.leaderless.join(',')}`] : []),
    ];
  }

  health(): Pick<
    ClusterHealth,
    'underReplicated' | 'leaderless' | 'leaderChanges' | 'lastLeaderChange'
  > {
    return {
      underReplicated: [...this.underReplicated],
      leaderless: [...this.leaderless],
      leaderChanges: this.leaderChanges,
      ...(this.lastLeaderChange ? { lastLeaderChange: { ...this.lastLeaderChange } } : {}),
    };
  }
}
