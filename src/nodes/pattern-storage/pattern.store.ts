import type { LearnedPattern, PatternStatus } from '../shared/pattern.schema.js';

/** Sessions kept per pattern: the most recent ones, first seen first. */
export const MAX_PATTERN_SESSIONS = 100;

/** Injection token of the session bound (optional; `MAX_PATTERN_SESSIONS` by default). */
export const PATTERN_MAX_SESSIONS = Symbol('PATTERN_MAX_SESSIONS');

/** A status change as the store remembers it. */
export interface PatternTransition {
  readonly from_status: PatternStatus;
  readonly to_status: PatternStatus;
  readonly reason: string | null;
  /** Identity of the message that caused it (position and timestamp): spots its redelivery. */
  readonly cause: string;
  readonly correlation_id: string;
}

/** A stored pattern (a snapshot: changing it does not change the store). */
export interface PatternRecord {
  readonly pattern_id: string;
  readonly sequence: readonly string[];
  /** Highest occurrence count seen in one session. */
  readonly occurrences: number;
  readonly status: PatternStatus;
  readonly first_seen_session: string;
  /** Sessions the pattern was learned from, first seen first (the most recent `MAX_PATTERN_SESSIONS`). */
  readonly sessions: readonly string[];
  /** Status changes, oldest first. */
  readonly transitions: readonly PatternTransition[];
}

export interface UpsertResult {
  /** The pattern was not stored before. */
  created: boolean;
  record: PatternRecord;
}

/** A compare-and-set status change: applied only when the status is still `from_status`. */
export type StatusChange = PatternTransition;

export type StatusChangeResult =
  { applied: true; record: PatternRecord } | { applied: false; record: PatternRecord | undefined };

/** Two different sequences under one pattern id. */
export class PatternIdConflictError extends Error {
  override readonly name = 'PatternIdConflictError';
}

/**
 * Where patterns live: a port (the default is `InMemoryPatternStore`). It knows no lifecycle
 * rules; those are the lifecycle node's. Every operation is atomic per pattern.
 */
export abstract class PatternStore {
  /**
   * Creates the pattern as a `candidate`, or merges into the stored one: occurrences by
   * maximum, the session added (the oldest dropped beyond the bound); status kept.
   * Idempotent. Rejects with `PatternIdConflictError` when the id is stored with another
   * sequence.
   */
  abstract upsert(pattern: LearnedPattern): Promise<UpsertResult>;

  /**
   * Upserts a batch; results in input order. The default runs one `upsert` after the other
   * (stopping at the first rejection); an adapter may do it in one round trip.
   */
  async upsertMany(patterns: readonly LearnedPattern[]): Promise<UpsertResult[]> {
    const results: UpsertResult[] = [];
    for (const pattern of patterns) results.push(await this.upsert(pattern));
    return results;
  }

  abstract get(patternId: string): Promise<PatternRecord | undefined>;

  abstract list(): Promise<PatternRecord[]>;

  /**
   * Sets the status to `change.to_status` and records the change, only if the pattern
   * exists and its status is `change.from_status` now (compare-and-set).
   */
  abstract setStatus(patternId: string, change: StatusChange): Promise<StatusChangeResult>;
}
