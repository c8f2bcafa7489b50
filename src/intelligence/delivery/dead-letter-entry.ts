import { isUtf8 } from 'node:buffer';
import type { BusMessage } from '../bus/bus-message.interface.js';
import type { LogSanitizer } from '../logging/log-sanitizer.js';

/** Bytes as text: UTF-8 when they are valid UTF-8, base64 otherwise. */
export interface EncodedBytes {
  encoding: 'utf8' | 'base64';
  data: string;
}

/** One failed attempt of a dead letter's `retry_history` (written by the retry tiers). */
export interface DeadLetterRetry {
  attempt?: number;
  tier?: number;
  /** The topic the attempt ran from: the original one or a tier's. */
  topic?: string;
  failureClass?: string;
  /** Sanitized. */
  reason?: string;
  /** ISO-8601. */
  at?: string;
}

/** Where a dead letter's message was consumed when it failed. */
export interface OriginalPosition {
  topic: string;
  partition: number;
  offset: string;
  /** When the message was produced (ISO-8601), if the dead letter says. */
  timestamp?: string;
}

/** A dead letter with its provenance, as `DeadLetterReplayer.list` returns it. */
export interface DeadLetterEntry {
  /** `<topic>/<partition>/<offset>` of the dead letter: its key in the replay ledger. */
  id: string;
  topic: string;
  partition: number;
  offset: string;
  original: OriginalPosition;
  consumerGroup?: string;
  failureClass?: string;
  /** Sanitized. */
  failureReason?: string;
  /** When it failed (ISO-8601): its `failure_timestamp`, else when the dead letter was written. */
  failedAt: string;
  attempts?: number;
  correlationId?: string;
  /** The retry tiers' attempts, oldest first; absent when it went through none (or unreadable). */
  retryHistory?: DeadLetterRetry[];
  /** The dead letter this message was replayed from, when it failed again after a replay. */
  replayedFrom?: string;
  /** When it was replayed and by which run, as the replay ledger records; absent if never. */
  replayed?: { at: string; runId: string };
  /** Only when asked for (`includePayload`): the key and value; `null` when absent (a tombstone). */
  payload?: { key: EncodedBytes | null; value: EncodedBytes | null };
}

/** The id of a dead letter: `<topic>/<partition>/<offset>`. */
export function deadLetterId(topic: string, partition: number, offset: string): string {
  return `${topic}/${String(partition)}/${offset}`;
}

/**
 * The entry of a message read from a dead-letter topic, without payload and replay state;
 * `undefined` when it is not a dead letter (no readable `original_topic`, `original_partition`
 * and `original_offset`). Every free-text header is sanitized (reasons again): not every
 * producer of a dead-letter topic is this module.
 */
export function toDeadLetterEntry(
  message: BusMessage,
  sanitizer: LogSanitizer,
): DeadLetterEntry | undefined {
  const h = message.headers;
  const partition = Number(h.original_partition);
  if (!h.original_topic || !Number.isSafeInteger(partition) || partition < 0) return undefined;
  const offset = h.original_offset;
  if (offset === undefined || !/^\d+$/.test(offset)) return undefined;
  const attempts = Number(h.attempts);
  const retryHistory = readRetryHistory(h.retry_history, sanitizer);
  const produced = msToIso(h.original_timestamp);
  return {
    id: deadLetterId(message.topic, message.partition, message.offset),
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    original: {
      topic: h.original_topic,
      partition,
      offset,
      ...(produced === undefined ? {} : { timestamp: produced }),
    },
    ...(h.consumer_group ? { consumerGroup: sanitizer.sanitize(h.consumer_group) } : {}),
    ...(h.failure_class ? { failureClass: sanitizer.sanitize(h.failure_class) } : {}),
    ...(h.failure_reason ? { failureReason: sanitizer.sanitize(h.failure_reason) } : {}),
    failedAt: isoOrUndefined(h.failure_timestamp) ?? msToIso(message.timestamp) ?? '',
    ...(Number.isSafeInteger(attempts) && attempts > 0 ? { attempts } : {}),
    ...(h.correlation_id ? { correlationId: sanitizer.sanitize(h.correlation_id) } : {}),
    ...(retryHistory ? { retryHistory } : {}),
    ...(h.replayed_from ? { replayedFrom: sanitizer.sanitize(h.replayed_from) } : {}),
  };
}

/** The key and value of a message as text. */
export function payloadOf(message: BusMessage): NonNullable<DeadLetterEntry['payload']> {
  return { key: encodeBytes(message.key), value: encodeBytes(message.value) };
}

function encodeBytes(bytes: Buffer | null): EncodedBytes | null {
  if (bytes === null) return null;
  return isUtf8(bytes)
    ? { encoding: 'utf8', data: bytes.toString('utf8') }
    : { encoding: 'base64', data: bytes.toString('base64') };
}

function readRetryHistory(
  header: string | undefined,
  sanitizer: LogSanitizer,
): DeadLetterRetry[] | undefined {
  if (header === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(header);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  return parsed
    .filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    .map((item) => ({
      ...numberField(item, 'attempt'),
      ...numberField(item, 'tier'),
      ...textField(item, 'topic', sanitizer),
      ...textField(item, 'failureClass', sanitizer),
      ...textField(item, 'reason', sanitizer),
      ...textField(item, 'at', sanitizer),
    }));
}

function numberField<K extends 'attempt' | 'tier'>(
  item: Record<string, unknown>,
  name: K,
): Partial<Record<K, number>> {
  const value = item[name];
  return typeof value === 'number' ? ({ [name]: value } as Record<K, number>) : {};
}

function textField<K extends 'topic' | 'failureClass' | 'reason' | 'at'>(
  item: Record<string, unknown>,
  name: K,
  sanitizer: LogSanitizer,
): Partial<Record<K, string>> {
  const value = item[name];
  return typeof value === 'string'
    ? ({ [name]: sanitizer.sanitize(value) } as Record<K, string>)
    : {};
}

function isoOrUndefined(text: string | undefined): string | undefined {
  const ms = text === undefined ? NaN : Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function msToIso(ms: string | undefined): string | undefined {
  const value = Number(ms);
  return ms === undefined || ms === '' || !Number.isFinite(value)
    ? undefined
    : new Date(value).toISOString();
}
