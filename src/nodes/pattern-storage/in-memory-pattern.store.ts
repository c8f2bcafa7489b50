import { Inject, Injectable, Optional } from '@nestjs/common';
import type { LearnedPattern, PatternStatus } from '../shared/pattern.schema.js';
import {
  MAX_PATTERN_SESSIONS,
  PATTERN_MAX_SESSIONS,
  PatternIdConflictError,
  PatternStore,
  type PatternRecord,
  type PatternTransition,
  type StatusChange,
  type StatusChangeResult,
  type UpsertResult,
} from './pattern.store.js';

interface StoredPattern {
  readonly pattern_id: string;
  readonly sequence: readonly string[];
  occurrences: number;
  status: PatternStatus;
  readonly first_seen_session: string;
  readonly sessions: Set<string>;
  readonly transitions: PatternTransition[];
}

/**
 * The default `PatternStore`: a map in this process (lost on restart, not shared). Keeps the
 * most recent `maxSessions` sessions per pattern, first seen first, as the PostgreSQL one does.
 */
@Injectable()
export class InMemoryPatternStore extends PatternStore {
  private readonly patterns = new Map<string, StoredPattern>();

  constructor(
    @Optional()
    @Inject(PATTERN_MAX_SESSIONS)
    private readonly maxSessions: number = MAX_PATTERN_SESSIONS,
  ) {
    super();
  }

  upsert(pattern: LearnedPattern): Promise<UpsertResult> {
    const stored = this.patterns.get(pattern.pattern_id);
    if (!stored) {
      const created: StoredPattern = {
        pattern_id: pattern.pattern_id,
        sequence: [...pattern.sequence],
        occurrences: pattern.occurrences,
        status: 'candidate',
        first_seen_session: pattern.session_id,
        sessions: new Set([pattern.session_id]),
        transitions: [],
      };
      this.patterns.set(created.pattern_id, created);
      return Promise.resolve({ created: true, record: snapshot(created) });
    }
    if (!sameSequence(stored.sequence, pattern.sequence)) {
      return Promise.reject(
        new PatternIdConflictError(
          `Pattern id ${pattern.pattern_id} is stored for ${JSON.stringify(stored.sequence)}, ` +
            `not ${JSON.stringify(pattern.sequence)}`,
        ),
      );
    }
    stored.occurrences = Math.max(stored.occurrences, pattern.occurrences);
    if (!stored.sessions.has(pattern.session_id)) {
      stored.sessions.add(pattern.session_id);
      // A Set iterates in insertion order: the first one is the oldest.
      for (const oldest of stored.sessions) {
        if (stored.sessions.size <= this.maxSessions) break;
        stored.sessions.delete(oldest);
      }
    }
    return Promise.resolve({ created: false, record: snapshot(stored) });
  }

  get(patternId: string): Promise<PatternRecord | undefined> {
    const stored = this.patterns.get(patternId);
    return Promise.resolve(stored && snapshot(stored));
  }

  list(): Promise<PatternRecord[]> {
    return Promise.resolve([...this.patterns.values()].map(snapshot));
  }

  setStatus(patternId: string, change: StatusChange): Promise<StatusChangeResult> {
    const stored = this.patterns.get(patternId);
    if (stored?.status !== change.from_status) {
      return Promise.resolve({ applied: false, record: stored && snapshot(stored) });
    }
    stored.status = change.to_status;
    stored.transitions.push({ ...change });
    return Promise.resolve({ applied: true, record: snapshot(stored) });
  }
}

function snapshot(stored: StoredPattern): PatternRecord {
  return {
    pattern_id: stored.pattern_id,
    sequence: [...stored.sequence],
    occurrences: stored.occurrences,
    status: stored.status,
    first_seen_session: stored.first_seen_session,
    sessions: [...stored.sessions],
    transitions: stored.transitions.map((transition) => ({ ...transition })),
  };
}

function sameSequence(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((tool, index) => tool === b[index]);
}
