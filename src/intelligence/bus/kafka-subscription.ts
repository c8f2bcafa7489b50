import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { LogSanitizer } from '../logging/log-sanitizer.js';
import type {
  BusMessage,
  MessageHandler,
  SubscribeOptions,
  Subscription,
  SubscriptionHealth,
  SubscriptionState,
} from './bus-message.interface.js';
import { runKeyed } from './keyed-runner.js';
import {
  backoffDelay,
  DEFAULT_REDELIVERY,
  redeliveryDelay,
  type BackoffRange,
} from './redelivery-backoff.js';

export interface KafkaSubscriptionSettings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  commitIntervalMs: number;
  fetchMaxWaitMs: number;
  retries: number;
  partitionsConsumedConcurrently: number;
}

/** Messages handled between two consumer heartbeats (kafkajs throttles them anyway). */
const HEARTBEAT_EVERY = 100;
/** Backoff of a restart after a crash kafkajs will not restart itself. */
const RESTART: BackoffRange = { initialMs: 500, maxMs: 30_000 };

/**
 * One member of a consumer group on kafkajs. Offsets are resolved only after the handler
 * finished and committed on an interval, on stop and on rebalance (at-least-once). A handler
 * that throws pauses its partition and gets the same message again after a backoff, without
 * blocking other partitions or sleeping inside the session timeout. A crashed consumer is
 * visible in `health()` and restarted with backoff.
 */
export class KafkaSubscription implements Subscription {
  readonly topics: readonly string[];
  private state: SubscriptionState = 'starting';
  private assigned: Record<string, number[]> = {};
  private lastError: string | undefined;
  private consumer: Consumer | undefined;
  private closing: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private restarts = 0;
  private readonly failures = new Map<string, number>();
  private readonly lag = new Map<string, Map<number, number>>();
  private readonly resumeTimers = new Set<NodeJS.Timeout>();
  private readonly redelivery: BackoffRange;

  constructor(
    private readonly kafka: Kafka,
    readonly groupId: string,
    topics: readonly string[],
    private readonly handler: MessageHandler,
    private readonly options: SubscribeOptions,
    private readonly settings: KafkaSubscriptionSettings,
    private readonly sanitizer: LogSanitizer,
  ) {
    this.topics = [...topics];
    this.redelivery = options.redelivery ?? DEFAULT_REDELIVERY;
  }

  /** Connects, joins the group and starts consuming. Rejects if the first start fails. */
  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.settings.sessionTimeoutMs,
      heartbeatInterval: this.settings.heartbeatIntervalMs,
      maxWaitTimeInMs: this.settings.fetchMaxWaitMs,
      retry: { retries: this.settings.retries },
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
        autoCommit: true,
        autoCommitInterval: this.settings.commitIntervalMs,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.settings.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.eachBatch(payload),
      });
    } catch (error) {
      this.lastError = this.sanitizer.describeError(error);
      this.state = 'crashed';
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  health(): SubscriptionHealth {
    return {
      groupId: this.groupId,
      topics: [...this.topics],
      state: this.state,
      assigned: structuredClone(this.assigned),
      lag: Object.fromEntries(
        [...this.lag].map(([topic, partitions]) => [topic, Object.fromEntries(partitions)]),
      ),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  private async stop(): Promise<void> {
    clearTimeout(this.restartTimer);
    for (const timer of this.resumeTimers) clearTimeout(timer);
    this.resumeTimers.clear();
    await this.consumer?.disconnect().catch((error: unknown) => {
      this.lastError = this.sanitizer.describeError(error);
    });
    this.state = 'stopped';
    this.assigned = {};
    this.lag.clear();
  }

  private watch(consumer: Consumer): void {
    const { GROUP_JOIN, CRASH, REBALANCING } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => {
      this.state = 'running';
      this.restarts = 0;
      this.assigned = structuredClone(payload.memberAssignment);
    });
    consumer.on(REBALANCING, () => {
      this.assigned = {};
      this.lag.clear();
    });
    consumer.on(CRASH, ({ payload }) => {
      this.state = 'crashed';
      this.assigned = {};
      this.lastError = this.sanitizer.describeError(payload.error);
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

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const concurrency = this.options.concurrency ?? 1;
    if (concurrency > 1) {
      await this.eachBatchKeyed(payload, concurrency);
      return;
    }
    const { batch } = payload;
    const key = `${batch.topic}:${String(batch.partition)}`;
    let handled = 0;
    for (const message of batch.messages) {
      if (!payload.isRunning()) break;
      try {
        await this.handler(toBusMessage(batch.topic, batch.partition, message));
      } catch (error) {
        this.redeliverLater(key, error, () => payload.pause());
        break;
      }
      if (this.failures.size > 0) this.failures.delete(key);
      payload.resolveOffset(message.offset);
      if (++handled % HEARTBEAT_EVERY === 0) {
        await payload.heartbeat();
        if (payload.isStale()) break;
      }
    }
    this.recordLag(payload);
    await payload.commitOffsetsIfNecessary();
  }

  /** Lag after this batch, as kafkajs computes it from the high watermark. */
  private recordLag({ batch }: EachBatchPayload): void {
    let partitions = this.lag.get(batch.topic);
    if (!partitions) {
      partitions = new Map();
      this.lag.set(batch.topic, partitions);
    }
    partitions.set(batch.partition, Number(batch.offsetLag()));
  }

  /** Handles a batch with per-key concurrency, resolving only the fully handled prefix. */
  private async eachBatchKeyed(payload: EachBatchPayload, concurrency: number): Promise<void> {
    const { batch } = payload;
    const messages = batch.messages.map((message) =>
      toBusMessage(batch.topic, batch.partition, message),
    );
    const result = await runKeyed(messages, concurrency, this.handler, () => payload.isRunning());
    const last = messages[result.handled - 1];
    if (last) payload.resolveOffset(last.offset);
    const key = `${batch.topic}:${String(batch.partition)}`;
    if (result.error !== undefined) this.redeliverLater(key, result.error, () => payload.pause());
    else if (this.failures.size > 0) this.failures.delete(key);
    await payload.heartbeat();
    this.recordLag(payload);
    await payload.commitOffsetsIfNecessary();
  }

  /** Leaves the failed offset unresolved (so it is fetched again) and pauses the partition. */
  private redeliverLater(key: string, error: unknown, pause: () => () => void): void {
    const failures = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, failures);
    this.lastError = this.sanitizer.describeError(error);
    const resume = pause();
    const timer = setTimeout(
      () => {
        this.resumeTimers.delete(timer);
        resume();
      },
      redeliveryDelay(error, failures, this.redelivery),
    );
    this.resumeTimers.add(timer);
  }
}

/** A kafkajs message as a plain `BusMessage` (header values decoded as UTF-8). */
function toBusMessage(topic: string, partition: number, message: KafkaMessage): BusMessage {
  const headers: Record<string, string> = {};
  const raw = message.headers;
  if (raw) {
    for (const name in raw) {
      const value = raw[name];
      const first = Array.isArray(value) ? value[0] : value;
      if (first !== undefined) headers[name] = first.toString();
    }
  }
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: message.timestamp,
    key: message.key,
    value: message.value,
    headers,
  };
}
