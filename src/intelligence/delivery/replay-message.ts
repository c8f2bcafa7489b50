import type { BusMessage, OutgoingMessage } from '../bus/bus-message.interface.js';
import { DEAD_LETTER_HEADERS } from './dead-letter.js';

/** Header of a replayed message: the dead letter it came from, `<topic>/<partition>/<offset>`. */
export const REPLAYED_FROM_HEADER = 'replayed_from';

/** Headers of a retry-tier message (and the history a dead letter keeps of them). */
const RETRY_HEADER_PREFIX = 'retry_';

/** The dead letter's own headers; the correlation id was the message's before it failed. */
const FAILURE_HEADERS: ReadonlySet<string> = new Set(
  DEAD_LETTER_HEADERS.filter((name) => name !== 'correlation_id'),
);

/**
 * What a replay publishes for `deadLetter` (whose id is `id`) to its original topic: the
 * original key and value bytes (a tombstone stays null), the original headers without the
 * failure, provenance and retry ones, so its attempts start afresh, plus `replayed_from`.
 */
export function replayMessage(deadLetter: BusMessage, id: string): OutgoingMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(deadLetter.headers)) {
    if (!FAILURE_HEADERS.has(name) && !name.startsWith(RETRY_HEADER_PREFIX)) headers[name] = value;
  }
  headers[REPLAYED_FROM_HEADER] = id;
  return { key: deadLetter.key, value: deadLetter.value, headers };
}
