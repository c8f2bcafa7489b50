import type {
  BusHealth,
  BusMessage,
  MessageHandler,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
} from './bus-message.interface.js';
import { BusBufferFullError, BusMessageTooLargeError, BusNotConnectedError } from './bus.errors.js';
import { EventBus } from './event-bus.js';
import { InMemoryTopic } from './in-memory-topic.js';
import { InMemoryTopicReader } from './in-memory-topic-reader.js';
import { deliverKeyed, deliverOne, type InMemoryMember } from './in-memory-member.js';
import { InMemoryPump } from './in-memory-pump.js';
import { keyBuffer, partitionForKey, toBuffer } from './message-codec.js';
import { DEFAULT_REDELIVERY, redeliveryDelay } from './redelivery-backoff.js';
import type { TopicReader } from './topic-reader.js';

export interface InMemoryEventBusOptions {
  /** Partitions per topic; messages with the same key share one. @default 4 */
  partitions?: number;
  /** Unconsumed messages a topic holds before `publish` throws `BusBufferFullError`. @default 10000 */
  maxBufferedPerTopic?: number;
  /** Largest accepted message value, in bytes. @default 1048576 */
  maxMessageBytes?: number;
  /** Newest messages kept of a topic no consumer group reads (like retention). @default 1000 */
  retainUnread?: number;
  /**
   * Newest messages per partition `openReader()` still reads once every group consumed them
   * (as a Kafka log keeps them until retention); 0 keeps none. They stay in memory. @default 1000
   */
  readerHistory?: number;
}

/** Messages handled before a pump yields to the event loop. */
const YIELD_EVERY = 1_000;
/** Messages of a partition handed to the keyed runner at once (concurrency > 1). */
const KEYED_WINDOW = 100;

/**
 * The embedded event bus: Kafka's delivery semantics inside one process. Consumer groups
 * (one delivery per group, every group gets every message), per-key order through keyed
 * partitions, redelivery of unacknowledged messages with backoff, bounded buffers.
 */
export class InMemoryEventBus extends EventBus {
  private readonly partitionCount: number;
  private readonly maxBuffered: number;
  private readonly maxMessageBytes: number;
  private readonly retainUnread: number;
  private readonly readerHistory: number;
  private readonly topics = new Map<string, InMemoryTopic>();
  private readonly members: InMemoryMember[] = [];
  private readonly pumps = new Map<string, InMemoryPump>();
  private connected = false;

  constructor(options: InMemoryEventBusOptions = {}) {
    super();
    this.partitionCount = options.partitions ?? 4;
    this.maxBuffered = options.maxBufferedPerTopic ?? 10_000;
    this.maxMessageBytes = options.maxMessageBytes ?? 1_048_576;
    this.retainUnread = Math.min(options.retainUnread ?? 1_000, this.maxBuffered);
    this.readerHistory = options.readerHistory ?? 1_000;
  }

  connect(): Promise<void> {
    this.connected = true;
    return Promise.resolve();
  }

  publish(topic: string, message: OutgoingMessage): Promise<void> {
    return this.publishBatch(topic, [message]);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async: every failure is a rejection
  async publishBatch(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (!this.connected) throw new BusNotConnectedError('publish');
    const log = this.topic(topic);
    this.checkCapacity(log, messages);
    const touched = new Set<number>();
    for (const message of messages) {
      const key = keyBuffer(message.key);
      const index = key ? partitionForKey(key, this.partitionCount) : log.nextPartition();
      const partition = log.partitions[index];
      if (!partition) continue;
      partition.append({
        topic,
        partition: index,
        offset: String(partition.end),
        timestamp: String(Date.now()),
        key,
        value: message.value === null ? null : toBuffer(message.value),
        headers: { ...message.headers },
      });
      log.trim(index, this.retainUnread);
      touched.add(index);
    }
    for (const index of touched) this.wakeTopic(log, index);
  }

  subscribe(
    topics: readonly string[],
    groupId: string,
    handler: MessageHandler,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    if (!this.connected) return Promise.reject(new BusNotConnectedError('subscribe'));
    const member: InMemoryMember = {
      groupId,
      topics: [...topics],
      handler: acknowledgedWhenSettled(handler),
      redelivery: options.redelivery ?? DEFAULT_REDELIVERY,
      concurrency: options.concurrency ?? 1,
      closed: false,
      inFlight: new Set(),
    };
    this.members.push(member);
    for (const name of member.topics) {
      const log = this.topic(name);
      log.join(groupId, options.fromBeginning ?? false);
      log.partitions.forEach((_, index) => {
        this.wake(groupId, log, index);
      });
    }
    return Promise.resolve({
      groupId,
      topics: member.topics,
      close: () => this.closeMember(member),
    });
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await Promise.all(this.members.map((member) => this.closeMember(member)));
  }

  health(): BusHealth {
    return {
      kind: 'memory',
      connected: this.connected,
      brokers: [],
      subscriptions: this.members.map((member) => ({
        groupId: member.groupId,
        topics: [...member.topics],
        state: member.closed ? 'stopped' : 'running',
        assigned: Object.fromEntries(
          member.topics.map((name) => [name, this.assignedPartitions(member, name)]),
        ),
        lag: Object.fromEntries(member.topics.map((name) => [name, this.lagOf(member, name)])),
        ...(member.lastError === undefined ? {} : { lastError: member.lastError }),
      })),
    };
  }

  /** Reads what each partition still holds (see `readerHistory`); nothing is consumed. */
  override openReader(): Promise<TopicReader> {
    if (!this.connected) return Promise.reject(new BusNotConnectedError('open a topic reader'));
    return Promise.resolve(new InMemoryTopicReader((name) => this.topics.get(name)));
  }

  private topic(name: string): InMemoryTopic {
    let log = this.topics.get(name);
    if (!log) {
      log = new InMemoryTopic(name, this.partitionCount, this.readerHistory);
      this.topics.set(name, log);
    }
    return log;
  }

  private checkCapacity(log: InMemoryTopic, messages: readonly OutgoingMessage[]): void {
    for (const message of messages) {
      const size = message.value === null ? 0 : Buffer.byteLength(message.value);
      if (size > this.maxMessageBytes) {
        throw new BusMessageTooLargeError(
          `Message of ${size} bytes exceeds the limit of ${this.maxMessageBytes} bytes on ${log.name}`,
        );
      }
    }
    if (log.cursors.size > 0 && log.retained() + messages.length > this.maxBuffered) {
      throw new BusBufferFullError(
        `Topic ${log.name} holds ${log.retained()} unconsumed messages (limit ${this.maxBuffered}); ` +
          'a consumer group is not keeping up',
      );
    }
  }

  private async closeMember(member: InMemoryMember): Promise<void> {
    if (!member.closed) {
      member.closed = true;
      for (const name of member.topics) {
        const log = this.topics.get(name);
        log?.partitions.forEach((_, index) => {
          this.cancelPump(member.groupId, name, index);
        });
      }
    }
    await Promise.allSettled([...member.inFlight]);
    const index = this.members.indexOf(member);
    if (index >= 0) this.members.splice(index, 1);
    for (const name of member.topics) {
      const log = this.topics.get(name);
      if (log) this.wakeTopic(log);
    }
  }

  private groupMembers(groupId: string, topic: string): InMemoryMember[] {
    return this.members.filter(
      (member) => !member.closed && member.groupId === groupId && member.topics.includes(topic),
    );
  }

  private assignee(groupId: string, topic: string, partition: number): InMemoryMember | undefined {
    const members = this.groupMembers(groupId, topic);
    return members[partition % Math.max(1, members.length)];
  }

  private assignedPartitions(member: InMemoryMember, topic: string): number[] {
    if (member.closed) return [];
    const log = this.topics.get(topic);
    if (!log) return [];
    return log.partitions
      .map((_, index) => index)
      .filter((index) => this.assignee(member.groupId, topic, index) === member);
  }

  private lagOf(member: InMemoryMember, topic: string): Record<number, number> {
    const log = this.topics.get(topic);
    const cursor = log?.cursors.get(member.groupId);
    if (!log || !cursor) return {};
    return Object.fromEntries(
      this.assignedPartitions(member, topic).map((index) => [
        index,
        (log.partitions[index]?.end ?? 0) - (cursor[index] ?? 0),
      ]),
    );
  }

  private wakeTopic(log: InMemoryTopic, only?: number): void {
    for (const groupId of log.cursors.keys()) {
      log.partitions.forEach((_, index) => {
        if (only === undefined || only === index) this.wake(groupId, log, index);
      });
    }
  }

  private wake(groupId: string, log: InMemoryTopic, index: number): void {
    const key = pumpKey(groupId, log.name, index);
    let pump = this.pumps.get(key);
    if (!pump) {
      pump = new InMemoryPump();
      this.pumps.set(key, pump);
    }
    if (pump.running) return;
    pump.running = true;
    void this.runPump(pump, groupId, log, index);
  }

  private cancelPump(groupId: string, topic: string, index: number): void {
    this.pumps.get(pumpKey(groupId, topic, index))?.cancelSleep();
  }

  /** Delivers one group's partition in order, one message at a time, until caught up. */
  private async runPump(pump: InMemoryPump, groupId: string, log: InMemoryTopic, index: number) {
    try {
      await this.drainPartition(pump, groupId, log, index);
    } catch {
      pump.running = false;
    }
  }

  private async drainPartition(
    pump: InMemoryPump,
    groupId: string,
    log: InMemoryTopic,
    index: number,
  ) {
    const partition = log.partitions[index];
    const cursor = log.cursors.get(groupId);
    if (!partition || !cursor) {
      pump.running = false;
      return;
    }
    let failures = 0;
    let delivered = 0;
    for (;;) {
      const member = this.assignee(groupId, log.name, index);
      const offset = cursor[index] ?? partition.end;
      const message = partition.at(offset);
      if (!member || !message) {
        // Cleared in the same step as the check: a publish right after starts a new pump.
        pump.running = false;
        return;
      }
      const { handled, error } =
        member.concurrency > 1
          ? await deliverKeyed(
              member,
              partition.entries.slice(
                offset - partition.base,
                offset - partition.base + KEYED_WINDOW,
              ),
            )
          : await deliverOne(member, message);
      cursor[index] = offset + handled;
      if (error === undefined) {
        failures = 0;
        log.trim(index, this.retainUnread);
        delivered += handled;
        if (delivered >= YIELD_EVERY) {
          delivered = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
        continue;
      }
      log.trim(index, this.retainUnread);
      failures += 1;
      await pump.sleep(redeliveryDelay(error, failures, member.redelivery));
    }
  }
}

function pumpKey(groupId: string, topic: string, index: number): string {
  return `${groupId}\u0000${topic}\u0000${String(index)}`;
}

/** The embedded bus acknowledges in order: a pending acknowledgement is awaited in place. */
function acknowledgedWhenSettled(handler: MessageHandler): (message: BusMessage) => Promise<void> {
  return async (message) => {
    const ack = await handler(message);
    if (ack) await ack.settled;
  };
}
