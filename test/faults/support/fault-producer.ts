import { Partitioners, type Message, type Producer } from 'kafkajs';
import { createEnvelope, toOutgoing } from '../../../src/intelligence/wire/envelope.js';
import { now, sleep } from './clock.js';
import { partitionOfKey, plainKafka } from './fault-kafka.js';

/** Header the Kafka key is mirrored into (handlers see headers, not the key). */
export const KEY_HEADER = 'fault_key';

/**
 * What a numbered message is: a good envelope `{ n }`; an envelope `{ n, kind: 'fail' }` whose
 * handler throws `PermanentHandlerError`; text that is not JSON (carrying `n=<n>`); bytes that
 * are not UTF-8 (carrying nothing).
 */
export type MessageKind = 'ok' | 'fail' | 'not-json' | 'bad-bytes';

export interface NumberedMessage {
  n: number;
  key: string;
  kind?: MessageKind;
}

export interface ProduceOptions {
  topic: string;
  messages: readonly NumberedMessage[];
  /** The messages are spread over about this long, in one batch per `tickMs`. */
  durationMs: number;
  tickMs?: number;
  /** Give up (reject) when the last message is not sent by then. @default 120000 */
  deadlineMs?: number;
  partitions?: number;
}

export interface ProduceReport {
  sent: number;
  /** Send requests repeated after a failure (their messages may now be in Kafka twice). */
  resends: number;
  startedAt: number;
  endedAt: number;
  /** Where each `bad-bytes` message landed (they are sent one by one to know it). */
  placed: Map<number, { partition: number; offset: string }>;
  errors: string[];
}

/**
 * A plain kafkajs producer (acks=-1) sending numbered messages at a bounded rate, so faults land
 * in the middle of the stream. A failed send is retried (with a fresh producer after repeated
 * failures) until it succeeds or the deadline passes: it survives a broker restart.
 */
export class FaultProducer {
  /** Messages acknowledged so far (live, for tests that act mid-stream). */
  sent = 0;
  private producer: Producer | undefined;
  private stopped = false;

  constructor(private readonly brokers: string[]) {}

  async produce(options: ProduceOptions): Promise<ProduceReport> {
    const tickMs = options.tickMs ?? 100;
    const deadline = now() + (options.deadlineMs ?? 120_000);
    const partitions = options.partitions ?? 6;
    const batches = Math.max(1, Math.round(options.durationMs / tickMs));
    const size = Math.ceil(options.messages.length / batches);
    const report: ProduceReport = {
      sent: 0,
      resends: 0,
      startedAt: now(),
      endedAt: 0,
      placed: new Map(),
      errors: [],
    };
    let due = report.startedAt;
    for (let i = 0; i < options.messages.length; i += size) {
      const wait = due - now();
      if (wait > 0) await sleep(wait);
      const batch = options.messages.slice(i, i + size);
      const grouped = batch.filter((message) => message.kind !== 'bad-bytes');
      if (grouped.length > 0) {
        await this.sendWithRetry(
          options.topic,
          grouped.map((message) => toKafkaMessage(options.topic, message)),
          deadline,
          report,
        );
      }
      for (const message of batch.filter(({ kind }) => kind === 'bad-bytes')) {
        const partition = partitionOfKey(message.key, partitions);
        const [record] = await this.sendWithRetry(
          options.topic,
          [{ ...toKafkaMessage(options.topic, message), partition }],
          deadline,
          report,
        );
        report.placed.set(message.n, { partition, offset: record?.baseOffset ?? '?' });
      }
      report.sent += batch.length;
      this.sent = report.sent;
      // The next batch one tick after this one was due, or after it finally went out: an outage
      // delays the rest of the stream instead of squeezing it.
      due = Math.max(due + tickMs, now());
    }
    report.endedAt = now();
    return report;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private async sendWithRetry(
    topic: string,
    messages: Message[],
    deadline: number,
    report: ProduceReport,
  ) {
    let failures = 0;
    for (;;) {
      if (this.stopped) throw new Error('FaultProducer stopped');
      try {
        const producer = await this.connected();
        return await producer.send({ topic, acks: -1, timeout: 5_000, messages });
      } catch (error) {
        failures += 1;
        report.resends += 1;
        report.errors.push(error instanceof Error ? error.message : String(error));
        if (now() > deadline) {
          throw new Error(
            `FaultProducer: could not send to ${topic} before the deadline (${String(failures)} tries): ${String(report.errors.at(-1))}`,
            { cause: error },
          );
        }
        if (failures % 2 === 0) {
          const stale = this.producer;
          this.producer = undefined;
          await stale?.disconnect().catch(() => undefined);
        }
        await sleep(250);
      }
    }
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    const producer = plainKafka(this.brokers, 'faults-producer').producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 2, maxRetryTime: 2_000 },
    });
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    this.producer = producer;
    return producer;
  }
}

/** The Kafka message of a numbered message (see `MessageKind`). */
function toKafkaMessage(topic: string, { n, key, kind = 'ok' }: NumberedMessage): Message {
  const headers = { [KEY_HEADER]: key };
  switch (kind) {
    case 'not-json':
      return { key, value: `{not json n=${String(n)}`, headers };
    case 'bad-bytes':
      return { key, value: Buffer.from([0xff, 0xfe, 0x00]), headers };
    default: {
      const payload = kind === 'fail' ? { n, kind: 'fail' } : { n };
      const outgoing = toOutgoing(createEnvelope({ topic, payload }), key);
      return { key, value: outgoing.value, headers: { ...outgoing.headers, ...headers } };
    }
  }
}
