import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  PATTERN_STATUSES,
  type LearnedPattern,
  type PatternStatus,
} from '../shared/pattern.schema.js';
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
import { PATTERN_SQL_CLIENT, type SqlClient } from './sql-client.interface.js';

// Defined by the port (every store keeps the same bound); re-exported where they used to be.
export { MAX_PATTERN_SESSIONS, PATTERN_MAX_SESSIONS };

const TABLE = 'intelligence_patterns';
const COLUMNS =
  'pattern_id, sequence, occurrences, status, first_seen_session, sessions, transitions, revision';

// Unchanged patterns (same sequence, no higher count, no new session) are not written again
// and come back from no row: the follow-up read tells them from an id conflict.
const UPSERT =
  `INSERT INTO ${TABLE} AS p (pattern_id, sequence, occurrences, first_seen_session, sessions) ` +
  'SELECT i.pattern_id, i.sequence, i.occurrences, i.sessions[1], i.sessions ' +
  'FROM jsonb_to_recordset($1::jsonb) ' +
  'AS i(pattern_id text, sequence text[], occurrences integer, sessions text[]) ' +
  'ON CONFLICT (pattern_id) DO UPDATE SET ' +
  'occurrences = GREATEST(p.occurrences, EXCLUDED.occurrences), ' +
  'sessions = ARRAY(SELECT kept.s FROM (' +
  'SELECT u.s, u.n FROM unnest(p.sessions || ARRAY(' +
  'SELECT a.s FROM unnest(EXCLUDED.sessions) WITH ORDINALITY AS a(s, n) ' +
  'WHERE a.s <> ALL (p.sessions) ORDER BY a.n)) WITH ORDINALITY AS u(s, n) ' +
  'ORDER BY u.n DESC LIMIT $2) AS kept ORDER BY kept.n), ' +
  'revision = p.revision + 1, updated_at = now() ' +
  'WHERE p.sequence = EXCLUDED.sequence AND (EXCLUDED.occurrences > p.occurrences ' +
  'OR NOT (EXCLUDED.sessions <@ p.sessions)) ' +
  `RETURNING ${COLUMNS.replace(/(\w+)/g, 'p.$1')}`;

// Compare-and-set: a concurrent change of the status makes the WHERE false (under READ
// COMMITTED the second writer re-reads the row it waited for), so no transition is lost.
const SET_STATUS =
  `UPDATE ${TABLE} SET status = $3, transitions = transitions || jsonb_build_array(` +
  "jsonb_build_object('from_status', $2::text, 'to_status', $3::text, 'reason', $4::text, " +
  "'cause', $5::text, 'correlation_id', $6::text)), revision = revision + 1, updated_at = now() " +
  `WHERE pattern_id = $1 AND status = $2 RETURNING ${COLUMNS}`;

interface PatternRow {
  pattern_id: string;
  sequence: string[];
  occurrences: number;
  status: string;
  first_seen_session: string;
  sessions: string[];
  transitions: Partial<Record<keyof PatternTransition, unknown>>[];
  revision: number;
}

interface MergedInput {
  pattern_id: string;
  sequence: string[];
  occurrences: number;
  sessions: string[];
}

/**
 * `PatternStore` on PostgreSQL (table `intelligence_patterns`, shipped migrations), shared by
 * every instance and kept across restarts. Each operation is one statement, atomic per
 * pattern; status changes are compare-and-set updates. Takes its `SqlClient` from outside.
 */
@Injectable()
export class PostgresPatternStore extends PatternStore {
  constructor(
    @Inject(PATTERN_SQL_CLIENT) private readonly sql: SqlClient,
    @Optional()
    @Inject(PATTERN_MAX_SESSIONS)
    private readonly maxSessions: number = MAX_PATTERN_SESSIONS,
  ) {
    super();
  }

  async upsert(pattern: LearnedPattern): Promise<UpsertResult> {
    const [result] = await this.upsertMany([pattern]);
    if (!result) throw new Error(`Upsert of pattern ${pattern.pattern_id} returned nothing`);
    return result;
  }

  /**
   * Upserts a batch in one statement; results in input order. A pattern repeated in the
   * batch is merged first (its later entries are `created: false`); every record shows the
   * pattern after the whole batch. Rejects with `PatternIdConflictError` when an id is stored
   * (or repeated) with another sequence; the batch's other patterns are stored.
   */
  override async upsertMany(patterns: readonly LearnedPattern[]): Promise<UpsertResult[]> {
    if (patterns.length === 0) return [];
    const merged = this.merge(patterns);
    const upserted = await this.sql.query<PatternRow>(UPSERT, [
      JSON.stringify([...merged.values()]),
      this.maxSessions,
    ]);
    const records = new Map<string, PatternRecord>();
    const created = new Set<string>();
    for (const row of upserted.rows) {
      records.set(row.pattern_id, toRecord(row));
      if (row.revision === 1) created.add(row.pattern_id);
    }
    const unchanged = [...merged.keys()].filter((id) => !records.has(id));
    if (unchanged.length > 0) {
      const stored = await this.sql.query<PatternRow>(
        `SELECT ${COLUMNS} FROM ${TABLE} WHERE pattern_id = ANY ($1::text[])`,
        [unchanged],
      );
      for (const row of stored.rows) {
        const input = merged.get(row.pattern_id);
        if (input && !sameSequence(row.sequence, input.sequence)) {
          throw conflict(row.pattern_id, row.sequence, input.sequence);
        }
        records.set(row.pattern_id, toRecord(row));
      }
    }
    return patterns.map((pattern) => {
      const record = records.get(pattern.pattern_id);
      if (!record) throw new Error(`Pattern ${pattern.pattern_id} vanished while being stored`);
      const isNew = created.delete(pattern.pattern_id);
      return { created: isNew, record };
    });
  }

  async get(patternId: string): Promise<PatternRecord | undefined> {
    const result = await this.sql.query<PatternRow>(
      `SELECT ${COLUMNS} FROM ${TABLE} WHERE pattern_id = $1`,
      [patternId],
    );
    const row = result.rows[0];
    return row && toRecord(row);
  }

  async list(): Promise<PatternRecord[]> {
    const result = await this.sql.query<PatternRow>(
      `SELECT ${COLUMNS} FROM ${TABLE} ORDER BY list_order`,
    );
    return result.rows.map(toRecord);
  }

  async setStatus(patternId: string, change: StatusChange): Promise<StatusChangeResult> {
    const result = await this.sql.query<PatternRow>(SET_STATUS, [
      patternId,
      change.from_status,
      change.to_status,
      change.reason,
      change.cause,
      change.correlation_id,
    ]);
    const row = result.rows[0];
    if (row) return { applied: true, record: toRecord(row) };
    return { applied: false, record: await this.get(patternId) };
  }

  /** One entry per id: occurrences by maximum, sessions in first-seen order, bounded. */
  private merge(patterns: readonly LearnedPattern[]): Map<string, MergedInput> {
    const merged = new Map<string, MergedInput>();
    for (const pattern of patterns) {
      const seen = merged.get(pattern.pattern_id);
      if (!seen) {
        merged.set(pattern.pattern_id, {
          pattern_id: pattern.pattern_id,
          sequence: [...pattern.sequence],
          occurrences: pattern.occurrences,
          sessions: [pattern.session_id],
        });
        continue;
      }
      if (!sameSequence(seen.sequence, pattern.sequence)) {
        throw conflict(pattern.pattern_id, seen.sequence, pattern.sequence);
      }
      seen.occurrences = Math.max(seen.occurrences, pattern.occurrences);
      if (!seen.sessions.includes(pattern.session_id)) seen.sessions.push(pattern.session_id);
    }
    for (const input of merged.values()) {
      if (input.sessions.length > this.maxSessions) {
        input.sessions = input.sessions.slice(-this.maxSessions);
      }
    }
    return merged;
  }
}

function toRecord(row: PatternRow): PatternRecord {
  return {
    pattern_id: row.pattern_id,
    sequence: row.sequence,
    occurrences: row.occurrences,
    status: toStatus(row.status),
    first_seen_session: row.first_seen_session,
    sessions: row.sessions,
    transitions: row.transitions.map((entry) => ({
      from_status: toStatus(entry.from_status),
      to_status: toStatus(entry.to_status),
      reason: typeof entry.reason === 'string' ? entry.reason : null,
      cause: String(entry.cause),
      correlation_id: String(entry.correlation_id),
    })),
  };
}

function toStatus(value: unknown): PatternStatus {
  const status = PATTERN_STATUSES.find((known) => known === value);
  if (!status) throw new Error(`Unknown pattern status in the database: ${String(value)}`);
  return status;
}

function conflict(
  patternId: string,
  stored: readonly string[],
  given: readonly string[],
): PatternIdConflictError {
  return new PatternIdConflictError(
    `Pattern id ${patternId} is stored for ${JSON.stringify(stored)}, ` +
      `not ${JSON.stringify(given)}`,
  );
}

function sameSequence(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((tool, index) => tool === b[index]);
}
