import type { LearnedPattern } from '../shared/pattern.schema.js';
import { patternIdOf } from '../shared/pattern-id.compute.js';
import {
  MAX_PATTERNS_PER_SESSION,
  MAX_SEQUENCE_LENGTH,
  MIN_OCCURRENCES,
  MIN_SEQUENCE_LENGTH,
} from './pattern-learning.constants.js';

export interface ExtractOptions {
  /** Session the events belong to; copied into each pattern. */
  sessionId: string;
  /** @default 2 */
  minLength?: number;
  /** @default 4 */
  maxLength?: number;
  /** @default 2 */
  minOccurrences?: number;
  /** @default 50 */
  maxPatterns?: number;
}

interface Gram {
  readonly sequence: string[];
  count: number;
}

/** Counted n-grams by length, each keyed by its sequence's JSON text. */
type GramsByLength = Map<number, Map<string, Gram>>;

/**
 * The recurring tool-call sequences of a session: contiguous n-grams of tool names (length
 * `minLength`..`maxLength`, overlapping occurrences counted) occurring at least
 * `minOccurrences` times. An n-gram contained in a longer one with the same count says
 * nothing more and is dropped. Sorted by occurrences, then length (both descending), then
 * lexically by tool names; at most `maxPatterns`.
 */
export function extractPatterns(
  events: readonly { readonly tool: string }[],
  options: ExtractOptions,
): LearnedPattern[] {
  const minLength = options.minLength ?? MIN_SEQUENCE_LENGTH;
  const maxLength = options.maxLength ?? MAX_SEQUENCE_LENGTH;
  const minOccurrences = options.minOccurrences ?? MIN_OCCURRENCES;
  const maxPatterns = options.maxPatterns ?? MAX_PATTERNS_PER_SESSION;
  checkOptions(minLength, maxLength, minOccurrences, maxPatterns);

  const tools = events.map((event) => event.tool);
  const grams = countGrams(tools, minLength, maxLength);
  const covered = coveredKeys(grams, minLength, maxLength, minOccurrences);
  const recurring: Gram[] = [];
  for (const byKey of grams.values()) {
    for (const [key, gram] of byKey) {
      if (gram.count >= minOccurrences && !covered.has(key)) recurring.push(gram);
    }
  }
  return recurring
    .sort(compareGrams)
    .slice(0, maxPatterns)
    .map((gram) => ({
      pattern_id: patternIdOf(gram.sequence),
      sequence: gram.sequence,
      occurrences: gram.count,
      session_id: options.sessionId,
    }));
}

function countGrams(tools: readonly string[], minLength: number, maxLength: number): GramsByLength {
  const grams: GramsByLength = new Map();
  for (let length = minLength; length <= maxLength; length += 1) {
    const byKey = new Map<string, Gram>();
    for (let start = 0; start + length <= tools.length; start += 1) {
      const sequence = tools.slice(start, start + length);
      const key = JSON.stringify(sequence);
      const gram = byKey.get(key);
      if (gram) gram.count += 1;
      else byKey.set(key, { sequence, count: 1 });
    }
    grams.set(length, byKey);
  }
  return grams;
}

/**
 * Keys of the n-grams contained in a longer recurring one with the same count. Checking the
 * one-longer n-grams suffices: if X lies in Z with count(X) = count(Z), then the (|X|+1)-gram
 * W between them (X plus one neighbour inside Z) has count(X) >= count(W) >= count(Z).
 */
function coveredKeys(
  grams: GramsByLength,
  minLength: number,
  maxLength: number,
  minOccurrences: number,
): Set<string> {
  const covered = new Set<string>();
  for (let length = minLength + 1; length <= maxLength; length += 1) {
    const shorter = grams.get(length - 1);
    for (const gram of grams.get(length)?.values() ?? []) {
      if (gram.count < minOccurrences) continue;
      for (const part of [gram.sequence.slice(0, -1), gram.sequence.slice(1)]) {
        const key = JSON.stringify(part);
        if (shorter?.get(key)?.count === gram.count) covered.add(key);
      }
    }
  }
  return covered;
}

function compareGrams(a: Gram, b: Gram): number {
  return (
    b.count - a.count ||
    b.sequence.length - a.sequence.length ||
    compareSequences(a.sequence, b.sequence)
  );
}

/** Lexical order by tool name (UTF-16 code units, independent of locale). */
function compareSequences(a: readonly string[], b: readonly string[]): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index += 1) {
    const left = a[index] ?? '';
    const right = b[index] ?? '';
    if (left !== right) return left < right ? -1 : 1;
  }
  return a.length - b.length;
}

function checkOptions(
  minLength: number,
  maxLength: number,
  minOccurrences: number,
  maxPatterns: number,
): void {
  const whole = (value: number, least: number) => Number.isInteger(value) && value >= least;
  if (!whole(minLength, 1) || !whole(maxLength, minLength)) {
    throw new RangeError(
      `extractPatterns: need 1 <= minLength <= maxLength, got ${minLength}..${maxLength}`,
    );
  }
  if (!whole(minOccurrences, 1)) {
    throw new RangeError(`extractPatterns: minOccurrences must be >= 1, got ${minOccurrences}`);
  }
  if (!whole(maxPatterns, 0)) {
    throw new RangeError(`extractPatterns: maxPatterns must be >= 0, got ${maxPatterns}`);
  }
}
