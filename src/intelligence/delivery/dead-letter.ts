import type { BusMessage, OutgoingMessage } from '../bus/bus-message.interface.js';
import { DEAD_LETTER_TOPICS } from '../intelligence.constants.js';
import { topicCategory } from '../wire/topic-name.js';
import {
  isRetryHeader,
  originOf,
  RETRY_HEADERS,
  type RetryHistoryEntry,
  type RetryOrigin,
} from './retry-tiers.js';

/** Headers a dead letter carries besides the original ones. */
export const DEAD_LETTER_HEADERS = [
  'original_topic',
  'original_partition',
  'original_offset',
  'original_timestamp',
  'consumer_group',
  'failure_reason',
  'failure_class',
  'failure_timestamp',
  'attempts',
  'correlation_id',
] as const;

export interface DeadLetterFacts {
  groupId: string;
  /** Already sanitized. */
  reason: string;
  failureClass: string;
  attempts: number;
  correlationId?: string;
  /** Where the message was first consumed, when it comes from a retry tier. */
  origin?: RetryOrigin;
  /** Its failed attempts, when it went through retry tiers (kept as `retry_history`). */
  history?: readonly RetryHistoryEntry[];
}

/** The dead-letter topic of a message: `onex.dlq.<events|commands|intents>.v1`, or the configured one. */
export function deadLetterTopic(topic: string, configured: boolean | { topic: string }): string {
  if (typeof configured === 'object') return configured.topic;
  return DEAD_LETTER_TOPICS[topicCategory(topic)];
}

/**
 * The dead letter of `message`: the original key and bytes untouched (a tombstone stays a
 * null value), the original headers (earlier failure and retry headers replaced) plus
 * provenance (of the first consumption, for a retry tier's message), failure headers and,
 * after retry tiers, `retry_history` (a JSON array of the failed attempts).
 */
export function toDeadLetter(message: BusMessage, facts: DeadLetterFacts): OutgoingMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (!(DEAD_LETTER_HEADERS as readonly string[]).includes(name) && !isRetryHeader(name)) {
      headers[name] = value;
    }
  }
  const correlationId = facts.correlationId ?? message.headers.correlation_id;
  const origin = facts.origin ?? originOf(message);
  Object.assign(headers, {
    original_topic: origin.topic,
    original_partition: String(origin.partition),
    original_offset: origin.offset,
    original_timestamp: origin.timestamp,
    consumer_group: facts.groupId,
    failure_reason: facts.reason,
    failure_class: facts.failureClass,
    failure_timestamp: new Date().toISOString(),
    attempts: String(facts.attempts),
    ...(correlationId === undefined ? {} : { correlation_id: correlationId }),
    ...(facts.history ? { [RETRY_HEADERS.history]: JSON.stringify(facts.history) } : {}),
  });
  return { key: message.key, value: message.value, headers };
}
