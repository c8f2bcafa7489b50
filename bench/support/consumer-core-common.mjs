// Shared pieces of the consumer-core benchmark: the clients on the shared broker, fresh topic
// and group names, explicit-partition preloads, a seq tracker, round rotation, and the settings
// every part prints.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkaEventBus, LogSanitizer } from '../../dist/intelligence/index.js';
import { withTimeout } from './bench-stats.mjs';
import { closeClients, connectPlainClients } from './dispatch-kafka.mjs';
import { benchConfig, chunk } from './dispatch-fixtures.mjs';

/** Topic the envelopes are made for; every bench topic is onex.evt.*, so the category agrees. */
export const ENVELOPE_TOPIC = 'onex.evt.consumer-core-bench.work-requested.v1';
/** Header every bench message carries, so a dead letter (which keeps the headers) names its seq. */
export const SEQ_HEADER = 'bench_seq';
export const PRELOAD_BATCH = 1_000;
export const CLOSE_TIMEOUT_MS = 15_000;
/**
 * The KafkaEventBus defaults (src/intelligence/bus/kafka-member-settings.ts), spelled out for the
 * baselines and the printout; the bus itself is always built with no consumer settings at all.
 */
export const BUS_DEFAULTS = {
  sessionTimeoutMs: 30_000,
  heartbeatIntervalMs: 3_000,
  commitIntervalMs: 1_000,
  fetchMaxWaitMs: 100,
  partitionsConsumedConcurrently: 4,
  maxBufferedPerPartition: 1_000,
  connectRetries: 3,
  consumerRetries: 5,
  publishRetries: 5,
};
/** kafkajs 2.2.4's own consumer default for `maxWaitTimeInMs`. */
export const KAFKAJS_DEFAULT_FETCH_WAIT_MS = 5_000;

const runId = `${Date.now().toString(36)}-${process.pid}`;
let nameSeq = 0;

/** A platform-form topic name (onex.evt.<producer>.<name>.v1), new on every call. */
export function freshTopic(name) {
  nameSeq += 1;
  return `onex.evt.consumer-core-bench.${name}-${runId}-${nameSeq}.v1`;
}

/** A consumer group name, new on every call. */
export function freshGroup(topic, side) {
  nameSeq += 1;
  return `${topic}-${side}-${nameSeq}`;
}

/** A KafkaEventBus with the library's defaults for everything but the brokers. */
export function libraryBus(brokers, clientId) {
  return new KafkaEventBus({ clientId, brokers }, new LogSanitizer());
}

/**
 * The plain kafkajs client, admin and producer (preloads, checks), and a connected library bus
 * (its producer is the one MessageDelivery dead-letters with), all on `brokers`.
 */
export async function openClients(brokers) {
  const bus = libraryBus(brokers, 'consumer-core-bench-bus');
  return {
    brokers,
    ...(await connectPlainClients(brokers, 'consumer-core-bench', bus)),
    config: benchConfig({ kind: 'kafka', brokers }),
  };
}

export { closeClients };

/** A fresh topic with `partitions` partitions, leaders elected. */
export async function createTopic(clients, name, partitions) {
  const topic = freshTopic(name);
  await clients.admin.createTopics({
    topics: [{ topic, numPartitions: partitions }],
    waitForLeaders: true,
  });
  return topic;
}

/**
 * Produces `messages` (kafkajs messages; with `partition` set they go exactly there) in
 * batches, acks=-1, then fails unless the topic holds exactly that many.
 */
export async function preload(clients, topic, messages) {
  for (const batch of chunk(messages, PRELOAD_BATCH)) {
    await clients.producer.send({ topic, acks: -1, messages: batch });
  }
  await expectHeld(clients, topic, messages.length);
}

/** Fails unless `topic` holds exactly `expected` messages. */
export async function expectHeld(clients, topic, expected) {
  const held = await messagesHeld(clients.admin, topic);
  if (held !== expected) throw new Error(`${topic} holds ${held} messages, expected ${expected}`);
}

export async function messagesHeld(admin, topic) {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, { low, high }) => sum + Number(high) - Number(low), 0);
}

/**
 * Counts deliveries per seq (0..size-1): `distinct` seqs seen, `duplicates` (deliveries beyond
 * the first), and which expected seqs never came.
 */
export function createSeqTracker(size) {
  const counts = new Uint16Array(size);
  const tracker = {
    distinct: 0,
    duplicates: 0,
    outOfRange: 0,
    /** @returns {boolean} whether this is the seq's first delivery */
    see(seq) {
      if (!Number.isInteger(seq) || seq < 0 || seq >= size) {
        tracker.outOfRange += 1;
        return false;
      }
      const before = counts[seq];
      if (before < 0xffff) counts[seq] = before + 1;
      if (before === 0) {
        tracker.distinct += 1;
        return true;
      }
      tracker.duplicates += 1;
      return false;
    },
    count: (seq) => counts[seq],
    /** @param {(seq: number) => boolean} expected */
    missing(expected) {
      const missing = [];
      for (let seq = 0; seq < size; seq++)
        if (expected(seq) && counts[seq] === 0) missing.push(seq);
      return missing;
    },
  };
  return tracker;
}

/** Round `round` (1-based) starts with side `(round - 1) % n`: every side goes first in turn. */
export function rotated(sides, round) {
  const shift = (round - 1) % sides.length;
  return [...sides.slice(shift), ...sides.slice(0, shift)];
}

/** Resolves once `condition()` holds, checking every `everyMs`. Bound it with withTimeout. */
export async function until(condition, everyMs = 5) {
  while (!condition()) await sleep(everyMs);
  return performance.now();
}

/** Closes `close()` with a bound; a close that hangs is reported, not awaited forever. */
export async function boundedClose(label, close) {
  await withTimeout(close(), CLOSE_TIMEOUT_MS, `${label} close`).catch((error) => {
    console.error(`  ${String(error)}`);
  });
}

/** Seconds with one decimal, e.g. 1234 → '1.2 s'. */
export function formatSeconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}
