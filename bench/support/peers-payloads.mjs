// The two payload kinds of `npm run bench`, each carrying its sequence number `seq`:
//   envelope: a platform envelope (createEnvelope + toOutgoing: ~287 B value, keyed by its
//             36-character correlation id, headers correlation_id, event_type, content_type);
//   bare:     a flat JSON object as the platform's hook producers send it (~199 B, keyed by its
//             session id, one of 1000; no headers).
// And the input topics: produced once per payload kind and count, 6 partitions, read by every
// contender-round from the beginning.
import { randomUUID } from 'node:crypto';
import { createEnvelope, toOutgoing } from '../../dist/intelligence/index.js';
import { chunk } from './dispatch-fixtures.mjs';
import { PARTITIONS } from './peers-config.mjs';

const SESSIONS = Array.from({ length: 1_000 }, () => randomUUID());
const PRODUCE_BATCH = 1_000;
const runId = `${Date.now().toString(36)}-${process.pid}`;
let topicSeq = 0;

/** A platform-form topic (onex.evt.<producer>.<name>.v1), new on every call. */
export function freshTopic(name) {
  topicSeq += 1;
  return `onex.evt.peers-bench.${name}-${runId}-${topicSeq}.v1`;
}

/** A consumer group, new on every call. */
export function freshGroup(name) {
  topicSeq += 1;
  return `peers-bench-${name}-${runId}-${topicSeq}`;
}

/** @returns {import('../../dist/intelligence/index.js').OutgoingMessage} */
export function makeMessage(kind, topic, seq) {
  if (kind === 'envelope') {
    return toOutgoing(createEnvelope({ topic, payload: { seq }, eventType: 'work-requested' }));
  }
  const session = SESSIONS[seq % SESSIONS.length];
  return {
    key: session,
    value: JSON.stringify({
      session_id: session,
      correlation_id: randomUUID(),
      event: 'tool.used',
      tool_name: 'Read',
      seq,
      emitted_at: new Date().toISOString(),
    }),
  };
}

/** Sum of high - low over the topic's partitions. */
export async function messagesHeld(admin, topic) {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, { low, high }) => sum + Number(high) - Number(low), 0);
}

/**
 * Creates a 6-partition topic and produces seqs 0..count-1 of `kind` into it (kafkajs,
 * batches of 1000, acks=-1), then fails unless it holds exactly `count`.
 * @returns {Promise<{ topic: string, count: number, valueBytes: number, keyBytes: number, headers: number }>}
 */
export async function produceInput(clients, kind, name, count) {
  const topic = freshTopic(name);
  await clients.admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS }],
    waitForLeaders: true,
  });
  let valueBytes = 0;
  let keyBytes = 0;
  let headers = 0;
  const seqs = Array.from({ length: count }, (_, seq) => seq);
  for (const batch of chunk(seqs, PRODUCE_BATCH)) {
    const messages = batch.map((seq) => makeMessage(kind, topic, seq));
    for (const message of messages) {
      valueBytes += Buffer.byteLength(message.value);
      keyBytes += Buffer.byteLength(message.key ?? '');
      headers += Object.keys(message.headers ?? {}).length;
    }
    await clients.producer.send({ topic, acks: -1, messages });
  }
  const held = await messagesHeld(clients.admin, topic);
  if (held !== count) throw new Error(`${topic} holds ${held} messages, expected ${count}`);
  return {
    topic,
    count,
    valueBytes: valueBytes / count,
    keyBytes: keyBytes / count,
    headers: headers / count,
  };
}
