import { randomUUID } from 'node:crypto';
import type { OutgoingMessage } from '../bus/bus-message.interface.js';
import { defaultEventType, topicCategory, type MessageCategory } from './topic-name.js';

/** The platform's JSON envelope (snake_case on the wire). */
export interface Envelope<T = unknown> {
  envelope_id: string;
  event_type: string;
  correlation_id: string;
  causation_id: string | null;
  timestamp: string;
  retry_count: number;
  metadata: {
    tags: { message_category: MessageCategory };
    source?: string;
    [key: string]: unknown;
  };
  payload: T;
}

export interface EnvelopeInput<T> {
  topic: string;
  payload: T;
  eventType?: string;
  correlationId?: string;
  causationId?: string | null;
  source?: string;
  key?: string;
}

/** Header names; header and envelope always agree. */
export const HEADERS = {
  correlationId: 'correlation_id',
  eventType: 'event_type',
  contentType: 'content_type',
} as const;

export function createEnvelope<T>(input: EnvelopeInput<T>): Envelope<T> {
  return {
    envelope_id: randomUUID(),
    event_type: input.eventType ?? defaultEventType(input.topic),
    correlation_id: input.correlationId ?? randomUUID(),
    causation_id: input.causationId ?? null,
    timestamp: new Date().toISOString(),
    retry_count: 0,
    metadata: {
      tags: { message_category: topicCategory(input.topic) },
      ...(input.source === undefined ? {} : { source: input.source }),
    },
    payload: input.payload,
  };
}

/** The bus message for an envelope: JSON value, agreeing headers, keyed by correlation id. */
export function toOutgoing(envelope: Envelope, key?: string): OutgoingMessage {
  return {
    key: key ?? envelope.correlation_id,
    value: JSON.stringify(envelope),
    headers: {
      [HEADERS.correlationId]: envelope.correlation_id,
      [HEADERS.eventType]: envelope.event_type,
      [HEADERS.contentType]: 'application/json',
    },
  };
}
