import { afterEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DispatchEngine } from '../../../src/intelligence/dispatch/dispatch.engine.js';
import { toOutgoing } from '../../../src/intelligence/wire/envelope.js';
import {
  PATTERN_LEARNED_TOPIC,
  PATTERN_LEARNING_TOPIC,
  PATTERN_LIFECYCLE_TRANSITION_TOPIC,
  PATTERN_LIFECYCLE_TRANSITIONED_TOPIC,
  PATTERN_STORED_TOPIC,
  patternIdOf,
  type PatternLearnedPayload,
  type PatternStoredPayload,
} from '../../../src/nodes/index.js';
import { pause, waitFor } from '../../support/wait-for.js';
import { PatternChain } from './pattern-chain.harness.js';
import { READ_EDIT_BASH_X3, sessionPayload, sessionWith120Patterns } from './pattern-sessions.js';

const REB_ID = patternIdOf(['Read', 'Edit', 'Bash']);
const WRAP_ID = patternIdOf(['Bash', 'Read', 'Edit', 'Bash']);

describe('the pattern chain on the embedded bus', () => {
  let chain: PatternChain | undefined;
  const start = async () => (chain = await PatternChain.start());

  afterEach(async () => {
    await chain?.close();
    chain = undefined;
  });

  it('routes the four input topics to the three nodes', async () => {
    const { app } = await start();
    expect(app.get(DispatchEngine).topics().sort()).toEqual(
      [
        PATTERN_LEARNING_TOPIC,
        PATTERN_LEARNED_TOPIC,
        PATTERN_STORED_TOPIC,
        PATTERN_LIFECYCLE_TRANSITION_TOPIC,
      ].sort(),
    );
  });

  it('carries a session through learned -> stored -> transitioned under its correlation id', async () => {
    const c = await start();
    const input = await c.send(PATTERN_LEARNING_TOPIC, sessionPayload('s-1', READ_EDIT_BASH_X3));
    await c.settled(4, 1);

    const [learned, ...moreLearned] = c.bus.envelopes(PATTERN_LEARNED_TOPIC);
    expect(moreLearned).toEqual([]);
    expect(learned).toMatchObject({
      correlation_id: input.correlation_id,
      causation_id: input.envelope_id,
      event_type: 'pattern-learned',
      payload: { session_id: 's-1', batch_index: 0, batch_count: 1 },
    });
    const patterns = (learned?.payload as PatternLearnedPayload).patterns;
    expect(patterns.map((pattern) => [pattern.sequence.join(' '), pattern.occurrences])).toEqual([
      ['Read Edit Bash', 3],
      ['Bash Read Edit Bash', 2],
      ['Edit Bash Read Edit', 2],
      ['Read Edit Bash Read', 2],
    ]);

    const stored = c.bus.envelopes(PATTERN_STORED_TOPIC);
    for (const envelope of stored) {
      expect(envelope).toMatchObject({
        correlation_id: input.correlation_id,
        causation_id: learned?.envelope_id,
        payload: { status: 'candidate', created: true },
      });
    }
    const storedKeys = c.bus.published
      .filter((entry) => entry.topic === PATTERN_STORED_TOPIC)
      .map((entry) => String(entry.message.key));
    expect(storedKeys).toEqual(patterns.map((pattern) => pattern.pattern_id));

    const storedReb = stored.find(
      (envelope) => (envelope.payload as PatternStoredPayload).pattern_id === REB_ID,
    );
    expect(c.bus.envelopes(PATTERN_LIFECYCLE_TRANSITIONED_TOPIC)).toEqual([
      expect.objectContaining({
        correlation_id: input.correlation_id,
        causation_id: storedReb?.envelope_id,
        payload: {
          pattern_id: REB_ID,
          from_status: 'candidate',
          to_status: 'validated',
          reason: 'occurrences 3 reached the promotion threshold 3',
        },
      }),
    ]);

    const records = await c.store.list();
    expect(records.map((record) => record.pattern_id).sort()).toEqual(
      patterns.map((pattern) => pattern.pattern_id).sort(),
    );
    expect(await c.store.get(REB_ID)).toMatchObject({
      status: 'validated',
      occurrences: 3,
      first_seen_session: 's-1',
      sessions: ['s-1'],
      transitions: [{ from_status: 'candidate', to_status: 'validated' }],
    });
    expect(records.filter((record) => record.status === 'candidate')).toHaveLength(3);
  });

  it('takes the hooks’ flat payloads, correlated by their correlation_id', async () => {
    const c = await start();
    const correlationId = randomUUID();
    const flat = { ...sessionPayload('s-flat', READ_EDIT_BASH_X3), correlation_id: correlationId };
    await c.bus.publish(PATTERN_LEARNING_TOPIC, { key: 's-flat', value: JSON.stringify(flat) });
    await c.settled(4, 1);
    for (const topic of [
      PATTERN_LEARNED_TOPIC,
      PATTERN_STORED_TOPIC,
      PATTERN_LIFECYCLE_TRANSITIONED_TOPIC,
    ]) {
      const correlations = c.bus.envelopes(topic).map((envelope) => envelope.correlation_id);
      expect(new Set(correlations)).toEqual(new Set([correlationId]));
    }
  });

  it('replays a session idempotently: no duplicate record, no second transition', async () => {
    const c = await start();
    await c.send(PATTERN_LEARNING_TOPIC, sessionPayload('s-1', READ_EDIT_BASH_X3));
    await c.settled(4, 1);

    const replay = await c.send(PATTERN_LEARNING_TOPIC, sessionPayload('s-1', READ_EDIT_BASH_X3));
    const replayed = () => c.correlated(PATTERN_STORED_TOPIC, replay.correlation_id);
    await waitFor(() => replayed().length === 4, 'replay stored');
    await pause(100);
    expect(c.bus.envelopes(PATTERN_LIFECYCLE_TRANSITIONED_TOPIC)).toHaveLength(1);
    expect(replayed().map((envelope) => envelope.payload)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pattern_id: REB_ID, status: 'validated', created: false }),
        expect.objectContaining({ pattern_id: WRAP_ID, status: 'candidate', created: false }),
      ]),
    );
    expect(await c.store.list()).toHaveLength(4);
    expect(await c.store.get(REB_ID)).toMatchObject({ sessions: ['s-1'], transitions: [{}] });

    // The very same message again (a redelivery) is recognised by its envelope id and skipped.
    await c.bus.publish(PATTERN_LEARNING_TOPIC, toOutgoing(replay));
    await pause(100);
    expect(c.correlated(PATTERN_LEARNED_TOPIC, replay.correlation_id)).toHaveLength(1);

    // Another session with the pattern merges into its record.
    await c.send(PATTERN_LEARNING_TOPIC, sessionPayload('s-2', READ_EDIT_BASH_X3.slice(0, 6)));
    await c.settled(9, 1);
    expect(await c.store.get(REB_ID)).toMatchObject({ occurrences: 3, sessions: ['s-1', 's-2'] });
    expect(await c.store.list()).toHaveLength(4);
  });

  it('publishes at most 50 of a 120-pattern session, in 2 batches of 25', async () => {
    const c = await start();
    const input = await c.send(
      PATTERN_LEARNING_TOPIC,
      sessionPayload('s-big', sessionWith120Patterns()),
    );
    await c.settled(50, 0);
    const batches = c
      .correlated(PATTERN_LEARNED_TOPIC, input.correlation_id)
      .map((envelope) => envelope.payload as PatternLearnedPayload);
    expect(
      batches.map((batch) => [batch.batch_index, batch.batch_count, batch.patterns.length]),
    ).toEqual([
      [0, 2, 25],
      [1, 2, 25],
    ]);
    const ids = batches.flatMap((batch) => batch.patterns.map((pattern) => pattern.pattern_id));
    expect(new Set(ids).size).toBe(50);
    await pause(50);
    expect(c.bus.envelopes(PATTERN_STORED_TOPIC)).toHaveLength(50);
    expect(await c.store.list()).toHaveLength(50);
  });

  it('dead-letters an invalid session at once, naming the bad field', async () => {
    const c = await start();
    const bad = await c.send(PATTERN_LEARNING_TOPIC, {
      session_id: 's-bad',
      events: [{ tool: 'Read' }, { tool: 42 }],
    });
    await waitFor(() => c.deadLetters().length === 1, 'invalid session dead-lettered');
    const [dead] = c.deadLetters();
    expect(dead?.headers).toMatchObject({
      original_topic: PATTERN_LEARNING_TOPIC,
      failure_class: 'PermanentHandlerError',
      attempts: '1',
      correlation_id: bad.correlation_id,
    });
    expect(dead?.headers.failure_reason).toContain(
      'Invalid pattern-learning command: events[1].tool: Invalid input: expected string, received number',
    );
    expect(JSON.parse(dead?.value ?? '{}')).toMatchObject({ envelope_id: bad.envelope_id });
    expect(c.bus.envelopes(PATTERN_LEARNED_TOPIC)).toEqual([]);
  });
});
