import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { LogSanitizer } from '../logging/log-sanitizer.js';
import { settledWithin } from './bounded-wait.js';
import type {
  MessageHandler,
  SubscribeOptions,
  Subscription,
  SubscriptionHealth,
} from './bus-message.interface.js';
import {
  drainBoundMs,
  REBALANCE_TIMEOUT_MS,
  type KafkaMemberSettings,
} from './kafka-member-settings.js';
import { KafkaMemberStatus } from './kafka-member-status.js';
import { membershipAssigner, type GroupControl } from './kafka-membership.js';
import { toBusMessage } from './kafka-records.js';
import { PartitionCommits, type PartitionOffset } from './partition-commits.js';
import { PartitionLag } from './partition-lag.js';
import { PartitionWorker } from './partition-worker.js';
import { backoffDelay, DEFAULT_REDELIVERY, type BackoffRange } from './redelivery-backoff.js';

export interface KafkaSubscriptionSettings extends KafkaMemberSettings {
  partitionsConsumedConcurrently: number;
}

/** Fetch wait while any partition is paused: a resumed partition is fetched again at once. */
const PAUSED_FETCH_WAIT_MS = 20;
/** Backoff of a restart after a crash kafkajs will not restart itself. */
const RESTART: BackoffRange = { initialMs: 500, maxMs: 30_000 };

/**
 * One member of a consumer group on kafkajs. Each assigned partition is worked by its own
 * `PartitionWorker`, apart from kafkajs's fetch loop: `eachBatch` only hands the messages
 * over, so a slow partition or key holds back only itself, and heartbeats go on while
 * handlers run. A partition whose worker is full is paused until it has room again. Offsets
 * are committed per partition as the contiguous handled prefix, on an interval, and only for
 * partitions the member owns. Before the group rebalances, this member starts nothing new,
 * waits (bounded) for its running handlers and commits, so no other member starts the same
 * messages while they still run. A crashed consumer is visible in `health()`, restarted,
 * and rejoins under its old member id, so the group does not wait out a session timeout.
 */
export class KafkaSubscription implements Subscription {
  readonly topics: readonly string[];
  private readonly status: KafkaMemberStatus;
  private consumer: Consumer | undefined;
  private closing: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restarts = 0;
  private memberId: string | undefined;
  /** The kafkajs consumer group of the running consumer (set at each join). */
  private group: GroupControl | undefined;
  /** Workers of the partitions owned in the current generation. */
  private workers = new Map<string, PartitionWorker>();
  /** Workers of revoked partitions whose handlers may still run. */
  private readonly draining = new Set<PartitionWorker>();
  private readonly resumes = new Map<PartitionWorker, () => void>();
  private readonly commits: PartitionCommits;
  private readonly lag = new PartitionLag();
  private readonly redelivery: BackoffRange;
  private readonly drainMs: number;

  constructor(
    private readonly kafka: Kafka,
    readonly groupId: string,
    topics: readonly string[],
    private readonly handler: MessageHandler,
    private readonly options: SubscribeOptions,
    private readonly settings: KafkaSubscriptionSettings,
    sanitizer: LogSanitizer,
  ) {
    this.topics = [...topics];
    this.redelivery = options.redelivery ?? DEFAULT_REDELIVERY;
    this.drainMs = drainBoundMs(options, REBALANCE_TIMEOUT_MS);
    this.status = new KafkaMemberStatus(groupId, this.topics, 'KafkaSubscription', sanitizer);
    this.commits = new PartitionCommits(
      settings.commitIntervalMs,
      () => this.workers.values(),
      (offsets) => this.commitOwned(offsets),
    );
  }

  /** Connects, joins the group and starts consuming. Rejects if the first start fails. */
  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.settings.sessionTimeoutMs,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      heartbeatInterval: this.settings.heartbeatIntervalMs,
      maxWaitTimeInMs: this.settings.fetchMaxWaitMs,
      retry: { retries: this.settings.retries },
      partitionAssigners: [
        membershipAssigner({
          beforeJoin: (group) => this.beforeJoin(group),
          memberIdToReuse: () => this.memberId,
          coordinator: this.status.coordinator,
        }),
      ],
    });
    this.consumer = consumer;
    this.watch(consumer);
    try {
      await consumer.connect();
      await consumer.subscribe({
        topics: [...this.topics],
        fromBeginning: this.options.fromBeginning ?? false,
      });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.eachBatch(payload),
      });
    } catch (error) {
      this.status.startFailed(error);
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
    this.commits.start();
  }

  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  health(): SubscriptionHealth {
    return this.status.health(this.lag.byTopic());
  }

  /** Stops taking new work, drains (bounded), commits what was handled, leaves the group. */
  private async stop(): Promise<void> {
    clearTimeout(this.restartTimer);
    this.revokeAll();
    await this.drain();
    await this.commits.flush([...this.draining], (offsets) => this.commitThrough(offsets));
    this.commits.stop();
    await this.consumer?.disconnect().catch((error: unknown) => {
      this.status.errors.crashed(error);
    });
    this.status.stopped();
    this.lag.clear();
    this.draining.clear();
  }

  private watch(consumer: Consumer): void {
    const { GROUP_JOIN, CRASH, REBALANCING } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => {
      this.memberId = payload.memberId;
      this.status.running();
      this.restarts = 0;
      this.status.assigned = structuredClone(payload.memberAssignment);
    });
    consumer.on(REBALANCING, () => {
      this.status.assigned = {};
      this.lag.clear();
    });
    consumer.on(CRASH, ({ payload }) => {
      // Warned once per outage: kafkajs's own crash and restart lines are debug (kafka-log-creator).
      this.status.crashed(payload.error, 'Kafka consumer crashed; restarting until it runs again');
      this.status.assigned = {};
      // The crashed consumer's pauses and fetch positions are gone with it.
      this.revokeAll();
      if (!payload.restart && !this.closing) this.scheduleRestart();
    });
  }

  private scheduleRestart(): void {
    this.restarts += 1;
    this.restartTimer = setTimeout(
      () => {
        this.restartTimer = undefined;
        if (this.closing) return;
        this.start().catch(() => {
          if (!this.closing) this.scheduleRestart();
        });
      },
      backoffDelay(this.restarts, RESTART),
    );
  }

  /** Hands the batch to its partition's worker and lets kafkajs fetch on; never waits for handlers. */
  private eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    const last = batch.messages[batch.messages.length - 1];
    if (!last || this.closing || !this.status.assigned[topic]?.includes(partition)) {
      return Promise.resolve();
    }
    const key = `${topic}:${String(partition)}`;
    let worker = this.workers.get(key);
    if (!worker) {
      worker = this.createWorker(topic, partition);
      this.workers.set(key, worker);
    }
    const full = worker.push(
      batch.messages.map((message) => toBusMessage(topic, partition, message)),
    );
    payload.resolveOffset(last.offset);
    this.lag.record(topic, partition, Number(batch.offsetLag()));
    if (full && !this.resumes.has(worker)) {
      this.resumes.set(worker, payload.pause());
      if (this.resumes.size === 1) this.group?.setFetchWait(PAUSED_FETCH_WAIT_MS);
    }
    return Promise.resolve();
  }

  private createWorker(topic: string, partition: number): PartitionWorker {
    const worker: PartitionWorker = new PartitionWorker(topic, partition, this.handler, {
      concurrency: this.options.concurrency ?? 1,
      capacity: this.settings.maxBufferedPerPartition,
      redelivery: this.redelivery,
      onRoom: () => {
        const resume = this.resumes.get(worker);
        if (!resume) return;
        this.resumes.delete(worker);
        resume();
        if (this.resumes.size === 0) this.group?.setFetchWait(this.settings.fetchMaxWaitMs);
      },
      onStuck: (error) => {
        this.status.errors.handlerFailed(error);
      },
      onUnstuck: () => {
        this.status.errors.handlerRecovered();
      },
    });
    return worker;
  }

  /**
   * Before every (re)join: the partitions of this generation are revoked (kafkajs rebalances
   * eagerly), their running handlers get up to the drain bound while the membership is kept
   * alive, and what they handled is committed while the member still holds its generation.
   */
  private async beforeJoin(group: GroupControl): Promise<void> {
    this.group = group;
    // Until the join tells the new assignment, batches still in flight start nothing.
    this.status.assigned = {};
    const paused = [...this.resumes.keys()];
    this.revokeAll();
    group.setFetchWait(this.settings.fetchMaxWaitMs);
    if (this.draining.size === 0) return;
    const beat = setInterval(() => {
      group.heartbeat().catch(() => undefined);
    }, this.settings.heartbeatIntervalMs);
    try {
      await this.drain();
    } finally {
      clearInterval(beat);
    }
    await this.commits.flush([...this.draining], (offsets) =>
      group.commit(offsets.map(toTopicOffset)),
    );
    this.draining.clear();
    group.resume(paused);
  }

  private revokeAll(): void {
    for (const worker of this.workers.values()) {
      worker.revoke();
      this.draining.add(worker);
    }
    this.workers = new Map();
    this.resumes.clear();
  }

  /** Waits for the revoked workers' running handlers, at most the drain bound. */
  private async drain(): Promise<void> {
    const running = [...this.draining].filter((worker) => worker.running > 0);
    if (running.length === 0) return;
    await settledWithin(Promise.all(running.map((worker) => worker.idle())), this.drainMs);
  }

  /** The interval's commits: only partitions still owned in this generation. */
  private commitOwned(offsets: PartitionOffset[]): Promise<void> {
    return this.commitThrough(
      offsets.filter(({ worker }) => this.workers.get(workerKey(worker)) === worker),
    );
  }

  private async commitThrough(offsets: PartitionOffset[]): Promise<void> {
    if (offsets.length === 0 || !this.consumer) return;
    await this.consumer.commitOffsets(offsets.map(toTopicOffset));
  }
}

function toTopicOffset({ worker, offset }: PartitionOffset) {
  return { topic: worker.topic, partition: worker.partition, offset };
}

function workerKey(worker: PartitionWorker): string {
  return `${worker.topic}:${String(worker.partition)}`;
}
