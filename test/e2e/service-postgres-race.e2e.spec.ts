import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DispatchEngine } from '../../src/intelligence/index.js';
import {
  PATTERN_LIFECYCLE_TRANSITION_TOPIC,
  PATTERN_SQL_CLIENT,
  patternIdOf,
  PatternStore,
  PostgresPatternStore,
  type SqlClient,
  type StatusChange,
  type StatusChangeResult,
} from '../../src/nodes/index.js';
import { http } from '../support/http.js';
import { kafkaBrokers } from '../support/kafka-env.js';
import { useDatabaseServer } from '../support/postgres-env.js';
import { uniqueGroup } from '../support/unique-names.js';
import { waitFor } from '../support/wait-for.js';
import { bootService, publish } from './support/postgres-service.js';

const PATTERNS = 6;
const BARRIER_TIMEOUT_MS = 5_000;

/**
 * Holds each compare-and-set of a transition until the other app reaches the same one (same
 * pattern, same message): both decided from the same status, then both write at once. Shared
 * by the two apps of this process; gives up after 5 s (counted) so nothing hangs.
 */
class Barrier {
  readonly met = new Set<string>();
  readonly timedOut = new Set<string>();
  private readonly waiting = new Map<string, () => void>();

  arrive(key: string): Promise<void> {
    const other = this.waiting.get(key);
    if (other) {
      this.waiting.delete(key);
      this.met.add(key);
      other();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        this.timedOut.add(key);
        resolve();
      }, BARRIER_TIMEOUT_MS);
      this.waiting.set(key, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/** The app's own `PostgresPatternStore`, with the barrier before each status change. */
class RacingStore extends PostgresPatternStore {
  constructor(
    sql: SqlClient,
    private readonly barrier: Barrier,
  ) {
    super(sql);
  }

  override async setStatus(patternId: string, change: StatusChange): Promise<StatusChangeResult> {
    await this.barrier.arrive(`${patternId}|${change.cause}`);
    return super.setStatus(patternId, change);
  }
}

describe('two service instances on one database', () => {
  const server = useDatabaseServer();
  const logs: string[] = [];
  const apps: INestApplication[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('racing the same transitions through their lifecycle nodes lose no update and apply each once', async () => {
    const url = await server.migratedDatabase('race');
    const barrier = new Barrier();
    // Topics of this test only (as the demo does), so no other traffic reaches the nodes.
    const run = randomUUID().slice(0, 8);
    const topic = (name: string) =>
      name.replace('.omniintelligence.', `.omniintelligence-race-${run}.`);
    // Two consumer groups: each instance gets every command, so both handle each at once.
    const boot = (name: string) =>
      bootService(
        { DATABASE_URL: url, KAFKA_BROKERS: kafkaBrokers().join(','), KAFKA_GROUP_ID: name },
        logs,
        {
          overrides: { topicMap: topic },
          configure: (builder) =>
            builder.overrideProvider(PatternStore).useFactory({
              factory: (sql: SqlClient) => new RacingStore(sql, barrier),
              inject: [PATTERN_SQL_CLIENT],
            }),
        },
      );
    apps.push(...(await Promise.all([boot(uniqueGroup('race-a')), boot(uniqueGroup('race-b'))])));
    const [a, b] = apps as [INestApplication, INestApplication];
    for (const app of apps) {
      await waitFor(
        async () => (await http(app).get('/health/ready')).status === 200,
        'ready',
        60_000,
      );
    }

    const store = a.get(PatternStore);
    expect(store).toBeInstanceOf(RacingStore);
    const ids = Array.from({ length: PATTERNS }, (_, i) =>
      patternIdOf([`Race${String(i)}`, 'Edit']),
    );
    await store.upsertMany(
      ids.map((pattern_id, i) => ({
        pattern_id,
        sequence: [`Race${String(i)}`, 'Edit'],
        occurrences: 1,
        session_id: 'race-seed',
      })),
    );
    // Per pattern, in order (keyed by pattern): candidate -> validated, then -> deprecated.
    for (const id of ids) {
      for (const to_status of ['validated', 'deprecated']) {
        await publish(
          a,
          topic(PATTERN_LIFECYCLE_TRANSITION_TOPIC),
          { pattern_id: id, to_status, reason: `race ${to_status}` },
          id,
        );
      }
    }
    const transitionTopic = topic(PATTERN_LIFECYCLE_TRANSITION_TOPIC);
    const done = (app: INestApplication) =>
      app.get(DispatchEngine).metrics().perTopic[transitionTopic]?.success ?? 0;
    await waitFor(
      () => done(a) === 2 * PATTERNS && done(b) === 2 * PATTERNS,
      'both instances handled every command',
      40_000,
    );

    // Every compare-and-set was raced: both instances wrote from the same status at once.
    expect(barrier.timedOut.size).toBe(0);
    expect(barrier.met.size).toBe(2 * PATTERNS);
    for (const id of ids) {
      const record = await b.get(PatternStore).get(id);
      expect(record?.status).toBe('deprecated');
      // One transition per command, each once, a legal chain: no update lost or doubled.
      expect(
        record?.transitions.map((t) => `${t.from_status}>${t.to_status} ${String(t.reason)}`),
      ).toEqual(['candidate>validated race validated', 'validated>deprecated race deprecated']);
      expect(new Set(record?.transitions.map((t) => t.cause)).size).toBe(2);
    }
    // Each race had one loser: its compare-and-set failed, its retry found the change applied
    // (by the message's cause) and skipped it. Nothing was dead-lettered.
    const failedAttempts = apps.map(
      (app) => app.get(DispatchEngine).metrics().perTopic[transitionTopic]?.handler_error ?? 0,
    );
    expect(failedAttempts.reduce((sum, n) => sum + n, 0)).toBe(2 * PATTERNS);
  });
});
