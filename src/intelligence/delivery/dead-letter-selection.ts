import type { DeadLetterEntry } from './dead-letter-entry.js';

/** Which dead letters `DeadLetterReplayer` lists or replays; every given criterion must hold. */
export interface DeadLetterSelection {
  /**
   * Dead-letter topics to read.
   * @default the three `DEAD_LETTER_TOPICS` and the configured `dispatch.deadLetter.topic`
   */
  topics?: readonly string[];
  /** Only dead letters of messages consumed from this topic. */
  originalTopic?: string;
  /** Only original offsets at or above this one, in every partition of `originalTopic` (needed). */
  fromOffset?: string | number | bigint;
  /** Only original offsets at or below this one (inclusive), as `fromOffset`. */
  toOffset?: string | number | bigint;
  /** Only this failure class: exactly (`InvalidMessage:bad_json`) or before its `:` (`InvalidMessage`). */
  failureClass?: string;
  /** Only dead letters that failed at or after this time (an ISO-8601 string or a `Date`). */
  since?: string | Date;
  /** Only dead letters that failed at or before this time. */
  until?: string | Date;
  /** Only dead letters of this consumer group. */
  consumerGroup?: string;
}

/** A selection that cannot be used; `field` names the criterion, `problem` what is wrong. */
export class DeadLetterSelectionError extends Error {
  override name = 'DeadLetterSelectionError';
  constructor(
    readonly field: keyof DeadLetterSelection,
    readonly problem: string,
  ) {
    super(`Invalid dead-letter selection: ${field} ${problem}`);
  }
}

/** A checked selection: the topics to read and the test an entry must pass. */
export interface ResolvedSelection {
  topics: string[];
  matches(entry: DeadLetterEntry): boolean;
}

/**
 * Checks `selection` (throwing `DeadLetterSelectionError` naming the bad field) and resolves
 * it; `defaultTopics` are read when it names none.
 */
export function resolveSelection(
  selection: DeadLetterSelection,
  defaultTopics: readonly string[],
): ResolvedSelection {
  const topics = [...new Set(selection.topics ?? defaultTopics)];
  if (topics.length === 0 || topics.some((topic) => topic.trim() === '')) {
    throw new DeadLetterSelectionError('topics', 'must name at least one topic, none empty');
  }
  const from = offsetOf(selection, 'fromOffset');
  const to = offsetOf(selection, 'toOffset');
  if ((from !== undefined || to !== undefined) && !selection.originalTopic) {
    const field = from === undefined ? 'toOffset' : 'fromOffset';
    throw new DeadLetterSelectionError(field, 'needs an original topic (offsets are per topic)');
  }
  if (from !== undefined && to !== undefined && from > to) {
    throw new DeadLetterSelectionError(
      'fromOffset',
      'must not be greater than the end of the offset range',
    );
  }
  const since = timeOf(selection, 'since');
  const until = timeOf(selection, 'until');
  if (since !== undefined && until !== undefined && since > until) {
    throw new DeadLetterSelectionError('since', 'must not be later than the end of the time range');
  }
  const { originalTopic, failureClass, consumerGroup } = selection;
  return {
    topics,
    matches: (entry) => {
      if (originalTopic !== undefined && entry.original.topic !== originalTopic) return false;
      const offset = BigInt(entry.original.offset);
      if ((from !== undefined && offset < from) || (to !== undefined && offset > to)) return false;
      if (failureClass !== undefined && !classMatches(entry.failureClass, failureClass)) {
        return false;
      }
      if (consumerGroup !== undefined && entry.consumerGroup !== consumerGroup) return false;
      const failedAt = Date.parse(entry.failedAt);
      if (since !== undefined && !(failedAt >= since)) return false;
      return until === undefined || failedAt <= until;
    },
  };
}

function classMatches(actual: string | undefined, wanted: string): boolean {
  return actual !== undefined && (actual === wanted || actual.split(':')[0] === wanted);
}

function offsetOf(
  selection: DeadLetterSelection,
  field: 'fromOffset' | 'toOffset',
): bigint | undefined {
  const value = selection[field];
  if (value === undefined) return undefined;
  const text = String(value);
  if (!/^\d+$/.test(text)) {
    throw new DeadLetterSelectionError(field, 'must be a non-negative integer offset');
  }
  return BigInt(text);
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function timeOf(selection: DeadLetterSelection, field: 'since' | 'until'): number | undefined {
  const value = selection[field];
  if (value === undefined) return undefined;
  const ms =
    value instanceof Date ? value.getTime() : ISO_DATE.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) {
    throw new DeadLetterSelectionError(field, 'must be an ISO-8601 time (2024-05-01T12:00:00Z)');
  }
  return ms;
}
