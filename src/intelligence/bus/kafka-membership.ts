import { PartitionAssigners, type PartitionAssigner } from 'kafkajs';
import ConsumerGroup from 'kafkajs/src/consumer/consumerGroup.js';
import type { CoordinatorEvents } from './coordinator-status.js';
import { followGroup, installFailover } from './kafka-failover.js';

/** What the hooks may do with the kafkajs consumer group, before it (re)joins and after. */
export interface GroupControl {
  /** Keeps the membership alive while the hook waits (errors such as "rebalancing" are expected). */
  heartbeat(): Promise<void>;
  /** Commits offsets with the generation the member still holds. */
  commit(offsets: readonly { topic: string; partition: number; offset: string }[]): Promise<void>;
  /** Lets kafkajs fetch these partitions again (pauses outlive a rebalance in kafkajs). */
  resume(partitions: readonly { topic: string; partition: number }[]): void;
  /**
   * Sets how long a fetch waits for data, from the next fetch on. kafkajs also sleeps this
   * long when every partition of a broker is paused, so a partition resumed meanwhile waits
   * for it: a short wait while partitions are paused lets them start again at once.
   */
  setFetchWait(ms: number): void;
}

export interface MembershipHooks {
  /**
   * Runs before every join of the group: the first one, and each rejoin of a rebalance or a
   * restarted consumer. The join waits for it, so a member can finish the work of the
   * partitions it is about to lose before any other member is given them. `group` is the
   * consumer's group until the next call (a restarted consumer has a new one).
   */
  beforeJoin(group: GroupControl): Promise<void>;
  /** The member id this subscription held last, to rejoin under after a consumer restart. */
  memberIdToReuse(): string | undefined;
  /** Told where the group's coordinator is after each join, and when it is lost and found. */
  coordinator?: CoordinatorEvents;
}

interface ConsumerGroupInternals {
  assigners: (PartitionAssigner extends (...args: never[]) => infer A ? A : never)[];
  memberId: string | null;
  generationId: number | null;
  maxWaitTime: number;
  heartbeat(options: { interval: number }): Promise<void>;
  commitOffsets(offsets: {
    topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
  }): Promise<void>;
  resume(topicPartitions: { topic: string; partitions: number[] }[]): void;
  joinAndSync(): Promise<void>;
}

const HOOKS = Symbol.for('nestjs-intelligence.kafka-membership-hooks');
type WithHooks = { [HOOKS]?: MembershipHooks };

/**
 * A round-robin assigner that carries `hooks` to the consumer group it is given to (kafkajs
 * creates the assigners per consumer, so the hooks reach exactly that consumer's group).
 */
export function membershipAssigner(hooks: MembershipHooks): PartitionAssigner {
  installJoinHook();
  installFailover();
  return (config) => Object.assign(PartitionAssigners.roundRobin(config), { [HOOKS]: hooks });
}

/**
 * kafkajs 2.2 has no rebalance listener: its runner rejoins the group the moment it sees a
 * rebalance, while handlers of the partitions being revoked may still run, so another member
 * would start the same messages at once. Every (re)join goes through
 * `ConsumerGroup.joinAndSync`; wrapping it once lets a consumer that carries hooks (see
 * `membershipAssigner`) drain and commit first, and rejoin a restarted consumer under its
 * old member id, so the coordinator need not wait out the old member's session. Consumers
 * without hooks are untouched. kafkajs is no longer developed, so these internals stay put;
 * the wrapper refuses to install if they are not there.
 */
function installJoinHook(): void {
  const proto = ConsumerGroup.prototype as ConsumerGroupInternals & { [HOOKS]?: true };
  if (proto[HOOKS]) return;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with .call(this) below
  const joinAndSync = proto.joinAndSync as ConsumerGroupInternals['joinAndSync'] | undefined;
  if (typeof joinAndSync !== 'function') {
    throw new Error('Unsupported kafkajs version: ConsumerGroup.joinAndSync not found');
  }
  proto.joinAndSync = async function (this: ConsumerGroupInternals): Promise<void> {
    const hooks = this.assigners.map((assigner) => (assigner as WithHooks)[HOOKS]).find(Boolean);
    if (hooks) {
      if (this.memberId === null && this.generationId === null) {
        this.memberId = hooks.memberIdToReuse() ?? null;
      }
      await hooks.beforeJoin(groupBeforeJoin(this));
    }
    await joinAndSync.call(this);
    // A new offset manager comes with each join; it rides out broker failures too.
    if (hooks) followGroup(this, hooks.coordinator);
  };
  proto[HOOKS] = true;
}

function groupBeforeJoin(group: ConsumerGroupInternals): GroupControl {
  return {
    heartbeat: () => group.heartbeat({ interval: 0 }),
    commit: (offsets) => {
      const byTopic = new Map<string, { partition: number; offset: string }[]>();
      for (const { topic, partition, offset } of offsets) {
        const partitions = byTopic.get(topic) ?? [];
        partitions.push({ partition, offset });
        byTopic.set(topic, partitions);
      }
      return group.commitOffsets({
        topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      });
    },
    resume: (partitions) => {
      group.resume(partitions.map(({ topic, partition }) => ({ topic, partitions: [partition] })));
    },
    setFetchWait: (ms) => {
      group.maxWaitTime = ms;
    },
  };
}
