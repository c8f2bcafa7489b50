import { isUtf8 } from 'node:buffer';
import type { BusMessage } from '../bus/bus-message.interface.js';
import type { Envelope } from './envelope.js';
import { HEADERS } from './envelope.js';
import type { IntelligenceEvent } from './intelligence-event.interface.js';
import { positionId } from './position-id.js';
import { defaultEventType, topicCategory } from './topic-name.js';

/** Why a message cannot be dispatched; all of them are permanent. */
export type InvalidReason =
  'empty' | 'bad_utf8' | 'bad_json' | 'not_an_object' | 'invalid_envelope' | 'category_mismatch';

export type DecodeResult =
  { ok: true; event: IntelligenceEvent } | { ok: false; reason: InvalidReason; detail: string };

/** U+FFFD, what a lenient decode puts for invalid bytes. */
const REPLACEMENT = '\uFFFD';

/**
 * Decodes a bus message into the event a handler receives. A platform envelope is checked
 * (fields, and its category against the topic's); a bare JSON object is taken as the payload
 * (its `correlation_id`, when a UUID, becomes the event's), as the platform's hooks send.
 */
export function decodeMessage(message: BusMessage): DecodeResult {
  if (!message.value || message.value.length === 0) return invalid('empty', 'message has no value');
  // Buffer's decode is several times faster than a fatal TextDecoder; only a text holding
  // U+FFFD (rare: invalid bytes, or a real U+FFFD) needs the exact check.
  const text = message.value.toString('utf8');
  if (text.includes(REPLACEMENT) && !isUtf8(message.value)) {
    return invalid('bad_utf8', 'value is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return invalid('bad_json', describeJsonError(error, text.length));
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return invalid('not_an_object', 'value is JSON but not an object');
  }
  const record = json as Record<string, unknown>;
  return 'envelope_id' in record && 'payload' in record
    ? fromEnvelope(record, message)
    : fromBarePayload(record, message);
}

function fromEnvelope(record: Record<string, unknown>, message: BusMessage): DecodeResult {
  const envelope = record as Partial<Envelope>;
  for (const field of ['envelope_id', 'event_type', 'correlation_id', 'timestamp'] as const) {
    if (typeof envelope[field] !== 'string' || envelope[field] === '') {
      return invalid('invalid_envelope', `envelope field "${field}" must be a non-empty string`);
    }
  }
  const topicKind = topicCategory(message.topic);
  const declared = field(field(record.metadata, 'tags'), 'message_category');
  if (declared !== undefined && declared !== topicKind) {
    return invalid(
      'category_mismatch',
      `envelope category ${JSON.stringify(declared)} does not match topic category "${topicKind}"`,
    );
  }
  const headerCorrelation = message.headers[HEADERS.correlationId];
  if (headerCorrelation !== undefined && headerCorrelation !== envelope.correlation_id) {
    return invalid('invalid_envelope', 'correlation_id header and envelope disagree');
  }
  return {
    ok: true,
    event: {
      payload: envelope.payload,
      eventType: envelope.event_type as string,
      category: topicKind,
      envelopeId: envelope.envelope_id as string,
      correlationId: envelope.correlation_id as string,
      causationId: typeof envelope.causation_id === 'string' ? envelope.causation_id : null,
      timestamp: envelope.timestamp as string,
      retryCount: typeof envelope.retry_count === 'number' ? envelope.retry_count : 0,
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
      headers: message.headers,
    },
  };
}

/**
 * A bare payload has no envelope: its id is derived from the message's position, so
 * redeliveries share it, and it starts a correlation of its own unless the body or the header
 * carries a UUID one.
 */
function fromBarePayload(record: Record<string, unknown>, message: BusMessage): DecodeResult {
  const envelopeId = positionId(message.topic, message.partition, message.offset);
  const bodyCorrelation = record.correlation_id;
  const headerCorrelation = message.headers[HEADERS.correlationId];
  const correlationId =
    typeof bodyCorrelation === 'string' && isUuid(bodyCorrelation)
      ? bodyCorrelation
      : headerCorrelation !== undefined && isUuid(headerCorrelation)
        ? headerCorrelation
        : envelopeId;
  return {
    ok: true,
    event: {
      payload: record,
      eventType: message.headers[HEADERS.eventType] ?? defaultEventType(message.topic),
      category: topicCategory(message.topic),
      envelopeId,
      correlationId,
      causationId: null,
      timestamp: isoTimestamp(message.timestamp),
      retryCount: 0,
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
      headers: message.headers,
    },
  };
}

/**
 * `8-4-4-4-12` hex digits, either case. Spelled-out classes: V8 runs this about twice as fast
 * as a charCode loop, and the `i` flag would make it several times slower.
 */
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function isUuid(text: string): boolean {
  return text.length === 36 && UUID.test(text);
}

let lastTimestamp: string | undefined;
let lastIso = '';

/** The ISO-8601 form of a broker timestamp (ms); messages of one batch mostly share theirs. */
function isoTimestamp(timestamp: string): string {
  if (timestamp === lastTimestamp) return lastIso;
  const ms = Number(timestamp);
  if (!ms) return new Date().toISOString();
  lastTimestamp = timestamp;
  lastIso = new Date(ms).toISOString();
  return lastIso;
}

function field(value: unknown, name: string): unknown {
  return value !== null && typeof value === 'object'
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/**
 * A JSON syntax error by kind and position only. V8's own message quotes the input (all of
 * it when short), so it is never passed on.
 */
function describeJsonError(error: unknown, length: number): string {
  const text = error instanceof Error ? error.message : '';
  const position = /at position (\d+)/.exec(text)?.[1];
  if (position !== undefined) return `invalid JSON at position ${position} of ${String(length)}`;
  if (/end of JSON input/i.test(text))
    return `invalid JSON: input ends early (${String(length)} characters)`;
  return `invalid JSON: unexpected token (${String(length)} characters)`;
}

function invalid(reason: InvalidReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}
