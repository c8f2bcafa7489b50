import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DispatchEngine } from '../../src/intelligence/index.js';
import {
  PATTERN_LEARNING_TOPIC,
  PATTERN_LIFECYCLE_TRANSITION_TOPIC,
  PATTERN_LIFECYCLE_TRANSITIONED_TOPIC,
  PATTERN_STORED_TOPIC,
  patternIdOf,
  PatternStore,
  PostgresPatternStore,
} from '../../src/nodes/index.js';
import { useDatabaseServer } from '../support/postgres-env.js';
import { waitFor } from '../support/wait-for.js';
import {
  bootService,
  publish,
  recordTopics,
  SESSION,
  wiringState,
} from './support/postgres-service.js';

const REB_ID = patternIdOf(['Read', 'Edit', 'Bash']);

/** Messages of `topic` the lifecycle node finished (its last handler in the chain). */
const handled = (app: INestApplication, topic: string) =>
  app.get(DispatchEngine).metrics().perTopic[topic]?.success ?? 0;

describe('the service on PostgreSQL (DATABASE_URL): patterns survive a restart', () => {
  const server = useDatabaseServer();
  const logs: string[] = [];
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('finds its patterns after a restart: the same session is merged, not created, and the lifecycle is kept', async () => {
    const env = { DATABASE_URL: await server.migratedDatabase('restart') };
    const first = (app = await bootService(env, logs));
    expect(wiringState(first)).toBe('wired');
    expect(first.get(PatternStore)).toBeInstanceOf(PostgresPatternStore);
    const before = await recordTopics(
      first,
      [PATTERN_STORED_TOPIC, PATTERN_LIFECYCLE_TRANSITIONED_TOPIC],
      'restart-observer-1',
    );
    const stored = (seen: typeof before.seen) =>
      seen.filter((entry) => entry.topic === PATTERN_STORED_TOPIC).map((entry) => entry.payload);
    const transitioned = (seen: typeof before.seen) =>
      seen.filter((entry) => entry.topic === PATTERN_LIFECYCLE_TRANSITIONED_TOPIC);

    await publish(first, PATTERN_LEARNING_TOPIC, SESSION);
    await waitFor(
      () => stored(before.seen).length === 4 && transitioned(before.seen).length === 1,
      '4 patterns stored and one promoted',
    );
    expect(stored(before.seen).map((payload) => payload.created)).toEqual([true, true, true, true]);
    const wrap = stored(before.seen)
      .map((payload) => String(payload.pattern_id))
      .find((id) => id !== REB_ID);
    if (!wrap) throw new Error('no second pattern');
    await publish(
      first,
      PATTERN_LIFECYCLE_TRANSITION_TOPIC,
      { pattern_id: wrap, to_status: 'deprecated', reason: 'restart e2e' },
      wrap,
    );
    await waitFor(() => transitioned(before.seen).length === 2, 'the deprecation');
    const kept = await first.get(PatternStore).list();
    expect(kept).toHaveLength(4);
    await before.close();
    await first.close();

    const second = (app = await bootService(env, logs));
    expect(wiringState(second)).toBe('wired');
    const store = second.get(PatternStore);
    expect(await store.list()).toEqual(kept);
    const after = await recordTopics(
      second,
      [PATTERN_STORED_TOPIC, PATTERN_LIFECYCLE_TRANSITIONED_TOPIC],
      'restart-observer-2',
    );
    await publish(second, PATTERN_LEARNING_TOPIC, SESSION);
    await waitFor(() => stored(after.seen).length === 4, '4 patterns stored again');
    expect(stored(after.seen).map((payload) => payload.created)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    // The lifecycle node saw every stored event: nothing to promote, nothing re-applied.
    await waitFor(() => handled(second, PATTERN_STORED_TOPIC) === 4, 'the lifecycle node done');
    expect(transitioned(after.seen)).toEqual([]);
    expect(await store.list()).toEqual(kept);
    expect(await store.get(REB_ID)).toMatchObject({
      status: 'validated',
      occurrences: 3,
      sessions: [SESSION.session_id],
      transitions: [{ from_status: 'candidate', to_status: 'validated' }],
    });
    expect(await store.get(wrap)).toMatchObject({
      status: 'deprecated',
      transitions: [{ to_status: 'deprecated', reason: 'restart e2e' }],
    });
    await after.close();
  });
});
