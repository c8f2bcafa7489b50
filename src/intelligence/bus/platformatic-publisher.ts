import type { Producer } from '@platformatic/kafka';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OutgoingMessage } from './bus-message.interface.js';
import type { KafkaBusOptions } from './kafka-bus.options.js';
import { keyBuffer, toBuffer } from './message-codec.js';
import type { PlatformaticConnection } from './platformatic-client-options.js';
import { protocolErrorIds } from './platformatic-failure-classifier.js';
import type { PlatformaticKafkaModule } from './platformatic-loader.js';
import { backoffDelay, type BackoffRange } from './redelivery-backoff.js';

type Data = string | Buffer | null;
export type BusProducer = Producer<Data, Data, string, string>;

const TOO_LARGE = ['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'];
/**
 * A failed send is made again on fresh metadata, with this backoff, while it failed less than
 * this long ago: the client's own retries go to the leader it first picked, so a dead leader
 * fails them all, and the new one is known once the controller fenced the old (seconds).
 */
const RESEND_BUDGET_MS = 8_000;
const RESEND: BackoffRange = { initialMs: 100, maxMs: 500 };

/**
 * The bus's producer on @platformatic/kafka: keys and values go out as the exact bytes (a
 * string as UTF-8, `null` as null: a tombstone stays one), headers as UTF-8. A keyed message
 * goes to the partition kafkajs and the Java client pick for its key (murmur2 with the sign
 * bit masked: @platformatic/kafka's `compatibilityPartitioner`), so both clients keep one
 * key's messages in one partition; keyless ones are spread round-robin.
 */
export function createBusProducer(
  kafka: PlatformaticKafkaModule,
  connection: PlatformaticConnection,
  options: Pick<KafkaBusOptions, 'idempotent' | 'publishRetries' | 'compression'>,
): BusProducer {
  const idempotent = options.idempotent ?? true;
  const retries = options.publishRetries ?? 5;
  let next = 0;
  const toBytes = (data?: Data) =>
    data === undefined || data === null ? undefined : toBuffer(data);
  return new kafka.Producer<Data, Data, string, string>({
    ...connection,
    idempotent,
    // An idempotent producer given 0 or 1 retries would retry forever: keep the bound.
    retries: idempotent ? Math.max(2, retries) : retries,
    compression: options.compression === 'gzip' ? 'gzip' : 'none',
    serializers: {
      key: toBytes,
      value: toBytes,
      headerKey: toBytes,
      headerValue: toBytes,
    },
    partitioner: (message, key) =>
      key ? kafka.compatibilityPartitioner(message, key) : (next = (next + 1) % 0x7fffffff),
  });
}

/** Idempotent producers whose sequence numbers must be renewed before their next send. */
const stale = new WeakSet<BusProducer>();
/** The last send of each idempotent producer, settled either way. */
const lastSend = new WeakMap<BusProducer, Promise<void>>();

/**
 * Sends `messages` to `topic`, acknowledged by every in-sync replica. The client retries a
 * request on the leader it first picked, so a leader that died fails all its retries: then
 * the send is made again on fresh metadata until it names the new leader (`RESEND_BUDGET_MS`;
 * the partitions that were written may get their messages twice; nothing is lost).
 *
 * After a failed send an idempotent producer first takes a new producer id. The client
 * advances a partition's sequence numbers only for the requests that wholly succeeded, so a
 * partition written by a request that failed elsewhere would hand its next messages the
 * sequence numbers of those already written, and the broker would acknowledge them as
 * duplicates without writing them.
 *
 * An idempotent producer sends one request at a time (the next waits until the last
 * settled): @platformatic/kafka 1.x takes a partition's sequence numbers when it builds a
 * request and advances them only when the response comes, so two sends in flight to one
 * partition carry the same numbers, and the broker acknowledges the second as a duplicate of
 * the first without writing it (or refuses it as out of order). Concurrent single publishes
 * still share requests (`ProduceBatcher`).
 */
export function sendBatch(
  producer: BusProducer,
  topic: string,
  messages: readonly OutgoingMessage[],
  idempotent: boolean,
): Promise<void> {
  if (!idempotent) return sendRenewing(producer, topic, messages, false);
  const sent = (lastSend.get(producer) ?? Promise.resolve()).then(() =>
    sendRenewing(producer, topic, messages, true),
  );
  lastSend.set(
    producer,
    sent.catch(() => undefined),
  );
  return sent;
}

async function sendRenewing(
  producer: BusProducer,
  topic: string,
  messages: readonly OutgoingMessage[],
  idempotent: boolean,
): Promise<void> {
  const deadline = Date.now() + RESEND_BUDGET_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      if (stale.has(producer)) await renew(producer);
      await sendOnce(producer, topic, messages);
      return;
    } catch (error) {
      if (isTooLarge(error)) throw error;
      if (idempotent) stale.add(producer);
      producer.clearMetadata();
      if (attempt > 1 && (Date.now() >= deadline || !canRetry(error))) throw error;
      await sleep(backoffDelay(attempt, RESEND));
    }
  }
}

/** A new producer id (and fresh sequence numbers); the producer stays stale if it fails. */
async function renew(producer: BusProducer): Promise<void> {
  await producer.initIdempotentProducer({});
  stale.delete(producer);
}

async function sendOnce(
  producer: BusProducer,
  topic: string,
  messages: readonly OutgoingMessage[],
): Promise<void> {
  await producer.send({
    acks: -1,
    messages: messages.map((message) => ({
      topic,
      key: keyBuffer(message.key),
      value: message.value,
      ...(message.headers === undefined ? {} : { headers: message.headers }),
    })),
  });
}

/** Whether the client marks every error of `error`'s chain as worth a retry. */
function canRetry(error: unknown): boolean {
  const chain = error as { findBy?: (name: string, value: unknown) => unknown } | null;
  return !chain?.findBy?.('canRetry', false);
}

/** Whether a send failed because a message (or the batch) is larger than the broker accepts. */
export function isTooLarge(error: unknown): boolean {
  const ids = protocolErrorIds(error);
  return TOO_LARGE.some((id) => ids.has(id));
}
