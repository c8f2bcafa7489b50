import { Logger } from '@nestjs/common';
import type { ConnectionPool, Consumer, ConsumerGroupJoinPayload } from '@platformatic/kafka';
import type { LogSanitizer } from '../logging/log-sanitizer.js';
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
import type { PlatformaticConnection } from './platformatic-client-options.js';
import { summarizePlatformaticError } from './platformatic-failure-classifier.js';
import { PartitionFetcher } from './platformatic-fetcher.js';
import { GroupRequests } from './platformatic-group-requests.js';
import type { PlatformaticKafkaModule } from './platformatic-loader.js';
import { bridgePlatformaticLogs } from './platformatic-log-bridge.js';
import { registerBeforeJoin } from './platformatic-membership.js';
import { MembershipKeeper } from './platformatic-membership-keeper.js';
import { PartitionWork } from './platformatic-partition-work.js';
import { endPosition, retriedStartPositions } from './platformatic-start-positions.js';
import { DEFAULT_REDELIVERY } from './redelivery-backoff.js';

export type PlatformaticSubscriptionSettings = KafkaMemberSettings;

const READ_COMMITTED = 1;

/**
 * One member of a consumer group on @platformatic/kafka 1.x, with the semantics of
 * `KafkaSubscription`: each assigned partition is worked by its own `PartitionWorker`
 * (`PartitionWork`), apart from the fetch loop (`PartitionFetcher`), so a slow partition or key
 * holds back only itself and heartbeats go on while handlers run; a full partition is not
 * fetched until its worker has room again. Offsets are committed per partition as the handled
 * prefix, on an interval, with the generation the partitions were assigned in. Before every
 * rejoin (`registerBeforeJoin`) the member starts nothing new, waits (bounded) for its running
 * handlers while it keeps heartbeating, and commits, so no other member starts the same
 * messages while they still run. A membership the client stopped keeping (a heartbeat that
 * failed on a broker outage) is kept by `MembershipKeeper`.
 */
export class PlatformaticSubscription implements Subscription {
  readonly topics: readonly string[];
  private readonly logger = new Logger('PlatformaticSubscription');
  private readonly status: KafkaMemberStatus;
  private consumer: Consumer | undefined;
  private pool: ConnectionPool | undefined;
  private fetcher: PartitionFetcher | undefined;
  private requests: GroupRequests | undefined;
  private keeper: MembershipKeeper | undefined;
  private readonly detach: (() => void)[] = [];
  private closing: Promise<void> | undefined;
  /** Counts assignments and revocations: work for an older one is dropped. */
  private assignment = 0;
  private revoking: Promise<boolean> | undefined;
  private readonly work: PartitionWork;
  private readonly rebalanceTimeoutMs: number;
  private readonly fromBeginning: boolean;

  constructor(
    private readonly kafka: PlatformaticKafkaModule,
    private readonly connection: PlatformaticConnection,
    readonly groupId: string,
    topics: readonly string[],
    handler: MessageHandler,
    options: SubscribeOptions,
    private readonly settings: PlatformaticSubscriptionSettings,
    private readonly sanitizer: LogSanitizer,
  ) {
    this.topics = [...topics];
    this.fromBeginning = options.fromBeginning ?? false;
    this.rebalanceTimeoutMs = Math.max(REBALANCE_TIMEOUT_MS, settings.sessionTimeoutMs);
    this.status = new KafkaMemberStatus(
      groupId,
      this.topics,
      'PlatformaticSubscription',
      sanitizer,
    );
    this.work = new PartitionWork(
      handler,
      {
        concurrency: options.concurrency ?? 1,
        capacity: settings.maxBufferedPerPartition,
        redelivery: options.redelivery ?? DEFAULT_REDELIVERY,
        commitIntervalMs: settings.commitIntervalMs,
        heartbeatIntervalMs: settings.heartbeatIntervalMs,
        drainMs: drainBoundMs(options, this.rebalanceTimeoutMs),
      },
      {
        pause: (topic, partition) => {
          this.fetcher?.pause(topic, partition);
        },
        resume: (topic, partition) => {
          this.fetcher?.resume(topic, partition);
        },
        errors: this.status.errors,
        commit: async (generation, offsets) => {
          await this.requests?.commit(generation, offsets);
        },
        heartbeat: async () => {
          await this.requests?.heartbeat();
        },
      },
    );
  }

  /** Joins the group and starts fetching. Rejects if the first join fails. */
  async start(): Promise<void> {
    const consumer = this.createClients(null);
    try {
      await consumer.joinGroup({});
    } catch (error) {
      this.status.startFailed(summarizePlatformaticError(error));
      await this.closeClients();
      throw error;
    }
    this.fetcher?.start();
    this.work.startCommits();
  }

  /**
   * The consumer, its fetcher, fetch pool, group requests and membership keeper, watched. A
   * replacement consumer takes over `memberId`, so its join keeps this member's place.
   */
  private createClients(memberId: string | null): Consumer {
    const consumer = new this.kafka.Consumer({
      ...this.connection,
      groupId: this.groupId,
      autocommit: false,
      sessionTimeout: this.settings.sessionTimeoutMs,
      rebalanceTimeout: this.rebalanceTimeoutMs,
      heartbeatInterval: this.settings.heartbeatIntervalMs,
      maxWaitTime: this.settings.fetchMaxWaitMs,
      isolationLevel: READ_COMMITTED,
      retries: this.settings.retries,
      // A JoinGroup waits on the broker until every member rejoined: up to the rebalance timeout.
      requestTimeout: this.rebalanceTimeoutMs + 10_000,
    });
    consumer.memberId = memberId;
    const requests = new GroupRequests(this.kafka, consumer, {
      lost: (error) => {
        this.status.coordinator.lost(error);
        this.keeper?.coordinatorLost();
      },
      found: (nodeId) => {
        this.status.coordinator.found(nodeId);
      },
    });
    const pool = new this.kafka.ConnectionPool(this.connection.clientId, {
      ...consumer[this.kafka.kOptions],
    });
    this.consumer = consumer;
    this.requests = requests;
    this.pool = pool;
    this.fetcher = new PartitionFetcher(
      consumer,
      pool,
      {
        maxWaitMs: this.settings.fetchMaxWaitMs,
        partitionMaxBytes: 2_097_152,
        maxBytes: 10_485_760,
      },
      {
        fetched: (topic, partition, messages, lag) => {
          if (this.closing || !this.status.assigned[topic]?.includes(partition)) return;
          this.work.deliver(topic, partition, messages, lag);
        },
        outOfRange: (topic, partition) => {
          void this.reposition(topic, partition);
        },
        failed: (error) => {
          this.crashed(error);
        },
        succeeded: () => {
          if (this.status.state === 'crashed' && !this.keeper?.active) this.status.running();
        },
      },
    );
    const keeper = new MembershipKeeper(consumer, requests, this.settings.heartbeatIntervalMs, {
      lost: (error) => {
        this.crashed(error);
      },
      kept: () => {
        if (this.status.state === 'crashed' && !this.fetcher?.failing) this.status.running();
      },
      replace: () => this.replaceClients(),
    });
    this.keeper = keeper;
    this.watch(consumer, keeper);
    consumer.topics.trackAll(...this.topics);
    return consumer;
  }

  /**
   * A rejoin the client would send to a coordinator that moved: a new consumer takes this
   * member's id and joins (its before-join hook drains and commits as on every rejoin); the
   * old one closes without leaving the group.
   */
  private async replaceClients(): Promise<void> {
    const old = { consumer: this.consumer, pool: this.pool, fetcher: this.fetcher };
    const memberId = old.consumer?.memberId ?? null;
    this.keeper?.stop();
    old.fetcher?.stop();
    for (const detach of this.detach.splice(0)) detach();
    if (old.consumer) old.consumer.memberId = null;
    void old.pool?.close().catch(() => undefined);
    old.consumer?.close(true, () => undefined);
    if (this.closing) return;
    this.logger.log({
      msg: 'Group coordinator moved; rejoining with a new consumer under the same member id',
      groupId: this.groupId,
      coordinator: this.status.coordinator.health()?.nodeId,
    });
    const consumer = this.createClients(memberId);
    this.fetcher?.start();
    await consumer.joinGroup({});
  }

  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  health(): SubscriptionHealth {
    return this.status.health(this.work.lagByTopic());
  }

  /** Stops taking new work, drains (bounded, heartbeating), commits what was handled, leaves. */
  private async stop(): Promise<void> {
    this.keeper?.stop();
    this.fetcher?.stop();
    this.revoke();
    await this.work.release(this.work.revoked, this.work.generation);
    this.work.stopCommits();
    await this.closeClients();
    this.status.stopped();
  }

  private async closeClients(): Promise<void> {
    // The fetch pool first: a fetch still in flight then fails, and its retry is dropped by the
    // consumer's close (`client:close`) instead of retrying on for seconds.
    await this.pool?.close().catch(() => undefined);
    const consumer = this.consumer;
    if (consumer) {
      // The client would send its LeaveGroup to the coordinator it found first.
      if (this.requests?.clientStale) await this.requests.leave().catch(() => undefined);
      // Leaves the group. If the broker is gone that fails; close the connections anyway.
      await consumer.close().catch(async (error: unknown) => {
        this.status.errors.crashed(summarizePlatformaticError(error));
        await consumer.connections.close().catch(() => undefined);
      });
    }
    for (const detach of this.detach.splice(0)) detach();
  }

  private watch(consumer: Consumer, keeper: MembershipKeeper): void {
    this.detach.push(bridgePlatformaticLogs(consumer, this.sanitizer, 'PlatformaticConsumer'));
    this.detach.push(registerBeforeJoin(this.kafka, consumer, () => this.beforeJoin()));
    const onJoin = (payload: ConsumerGroupJoinPayload) => {
      this.joined(payload);
    };
    consumer.on('consumer:group:join', onJoin);
    this.detach.push(() => {
      consumer.off('consumer:group:join', onJoin);
    });
    this.detach.push(keeper.watch());
  }

  private joined(payload: ConsumerGroupJoinPayload): void {
    if (this.closing || !this.consumer) return;
    this.keeper?.joined();
    this.work.generation = {
      generationId: payload.generationId ?? this.consumer.generationId,
      memberId: payload.memberId,
    };
    const mine = (payload.assignments ?? []).filter(({ topic }) => this.topics.includes(topic));
    this.status.assigned = Object.fromEntries(
      mine.map(({ topic, partitions }) => [topic, [...partitions].sort((a, b) => a - b)]),
    );
    this.status.running();
    const assignment = ++this.assignment;
    void this.startFetching(assignment, mine);
  }

  /** Where each assigned partition starts (committed, else the start policy), then fetch. */
  private async startFetching(
    assignment: number,
    mine: { topic: string; partitions: number[] }[],
  ): Promise<void> {
    const consumer = this.consumer;
    if (!consumer) return;
    const positions = await retriedStartPositions(
      consumer,
      mine,
      this.fromBeginning,
      () => this.isCurrent(assignment),
      (error) => {
        this.crashed(error);
      },
    );
    if (positions && this.isCurrent(assignment)) this.fetcher?.assign(positions);
  }

  private isCurrent(assignment: number): boolean {
    return assignment === this.assignment && !this.closing;
  }

  /** After OFFSET_OUT_OF_RANGE: on from the start policy's end, as kafkajs does. */
  private async reposition(topic: string, partition: number): Promise<void> {
    const assignment = this.assignment;
    const consumer = this.consumer;
    if (!consumer) return;
    const position = await endPosition(consumer, topic, partition, this.fromBeginning);
    if (position && assignment === this.assignment) {
      this.fetcher?.seek(topic, partition, position.offset);
    }
  }

  /** Before every (re)join: revoke, drain with heartbeats, commit under the old generation. */
  private beforeJoin(): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    this.revoking ??= this.revokeForJoin().finally(() => {
      this.revoking = undefined;
    });
    return this.revoking;
  }

  private async revokeForJoin(): Promise<boolean> {
    const generation = this.work.generation;
    const revoked = this.revoke();
    if (revoked.length > 0) await this.work.release(revoked, generation);
    return !this.closing;
  }

  /** Starts nothing new: no fetching, every worker revoked. */
  private revoke() {
    this.assignment += 1;
    this.status.assigned = {};
    this.fetcher?.clear();
    return this.work.revoke();
  }

  private crashed(error: unknown): void {
    if (this.closing) return;
    this.status.crashed(
      summarizePlatformaticError(error),
      'Kafka consumer lost the broker; retrying until it runs again',
    );
  }
}
