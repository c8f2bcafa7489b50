import type { fetchV17, KafkaRecord, RecordsBatch } from '@platformatic/kafka';
import type { BusMessage } from './bus-message.interface.js';
import { platformaticErrorTree } from './platformatic-failure-classifier.js';

type FetchResponse = fetchV17.FetchResponse;

/** Attribute bit of a transaction marker batch: it takes offsets but holds no messages. */
const IS_CONTROL = 0x20;

export interface FetchedPartition {
  /** Messages at or after the offset fetched from, in offset order. */
  messages: BusMessage[];
  /** The offset to fetch from next: one past the last batch returned (markers included). */
  next: bigint;
}

/**
 * The messages of one partition's fetched record batches. Keys and values stay the exact bytes
 * (`null` stays `null`: a tombstone is a tombstone); header names and values are decoded as
 * UTF-8 into a plain record, the first of a repeated name kept, as on kafkajs. Records before
 * `from` (the start of a batch the broker returns whole) are skipped.
 */
export function readFetchedPartition(
  topic: string,
  partition: number,
  from: bigint,
  batches: readonly RecordsBatch[],
): FetchedPartition {
  const messages: BusMessage[] = [];
  let next = from;
  for (const batch of batches) {
    const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
    if (end > next) next = end;
    if ((batch.attributes & IS_CONTROL) !== 0) continue;
    for (const record of batch.records) {
      const offset = batch.firstOffset + BigInt(record.offsetDelta);
      if (offset < from) continue;
      messages.push({
        topic,
        partition,
        offset: offset.toString(),
        timestamp: (batch.firstTimestamp + record.timestampDelta).toString(),
        key: record.key,
        value: record.value,
        headers: readHeaders(record),
      });
    }
  }
  return { messages, next };
}

function readHeaders(record: KafkaRecord): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of record.headers) {
    if (name === null) continue;
    const key = name.toString('utf8');
    if (!Object.hasOwn(headers, key)) headers[key] = value === null ? '' : value.toString('utf8');
  }
  return headers;
}

/** The fetch response a partition-level error still carries (`ResponseError.response`). */
export function fetchResponseOf(error: unknown): FetchResponse | undefined {
  let found: FetchResponse | undefined;
  for (const item of platformaticErrorTree(error)) {
    const response = (item as { response?: Partial<FetchResponse> }).response;
    if (Array.isArray(response?.responses)) found = response as FetchResponse;
  }
  return found;
}
