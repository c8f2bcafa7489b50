import { afterEach, describe, expect, it } from '@jest/globals';
import {
  InMemoryPatternStore,
  PATTERN_LEARNING_TOPIC,
  PATTERN_LIFECYCLE_TRANSITION_TOPIC,
  PATTERN_LIFECYCLE_TRANSITIONED_TOPIC,
  patternIdOf,
  PatternNodesModule,
  type PatternTransitionedPayload,
} from '../../../src/nodes/index.js';
import { waitFor } from '../../support/wait-for.js';
import { PatternChain } from './pattern-chain.harness.js';
import { READ_EDIT_BASH_X3, sessionPayload } from './pattern-sessions.js';

const REB_ID = patternIdOf(['Read', 'Edit', 'Bash']);
const WRAP_ID = patternIdOf(['Bash', 'Read', 'Edit', 'Bash']);

describe('pattern lifecycle through the real module', () => {
  let chain: PatternChain | undefined;

  afterEach(async () => {
    await chain?.close();
    chain = undefined;
  });

  it('applies explicit transitions, ignores same-status requests, dead-letters illegal ones', async () => {
    const c = (chain = await PatternChain.start());
    await c.send(PATTERN_LEARNING_TOPIC, sessionPayload('s-1', READ_EDIT_BASH_X3));
    await c.settled(4, 1);
    const announced = (correlationId: string) =>
      c.correlated(PATTERN_LIFECYCLE_TRANSITIONED_TOPIC, correlationId);

    const deprecate = await c.transition(REB_ID, 'deprecated', 'superseded');
    await waitFor(() => announced(deprecate.correlation_id).length === 1, 'deprecated');
    expect(announced(deprecate.correlation_id)).toEqual([
      expect.objectContaining({
        causation_id: deprecate.envelope_id,
        payload: {
          pattern_id: REB_ID,
          from_status: 'validated',
          to_status: 'deprecated',
          reason: 'superseded',
        },
      }),
    ]);

    // Same key: the no-op is handled before the illegal request is dead-lettered.
    const same = await c.transition(REB_ID, 'deprecated');
    const illegal = await c.transition(REB_ID, 'validated');
    await waitFor(() => c.deadLetters().length === 1, 'illegal transition dead-lettered');
    const [dead] = c.deadLetters();
    expect(dead?.headers).toMatchObject({
      original_topic: PATTERN_LIFECYCLE_TRANSITION_TOPIC,
      failure_class: 'PermanentHandlerError',
      attempts: '1',
      correlation_id: illegal.correlation_id,
    });
    expect(dead?.headers.failure_reason).toContain(
      `Illegal lifecycle transition of pattern ${REB_ID}: deprecated -> validated is not allowed`,
    );
    expect(JSON.parse(dead?.value ?? '{}')).toMatchObject({ envelope_id: illegal.envelope_id });
    expect(announced(same.correlation_id)).toEqual([]);
    expect(await c.store.get(REB_ID)).toMatchObject({ status: 'deprecated' });

    const direct = await c.transition(WRAP_ID, 'deprecated');
    await waitFor(() => announced(direct.correlation_id).length === 1, 'candidate deprecated');
    expect(c.payloads<PatternTransitionedPayload>(PATTERN_LIFECYCLE_TRANSITIONED_TOPIC)).toEqual([
      {
        pattern_id: REB_ID,
        from_status: 'candidate',
        to_status: 'validated',
        reason: expect.any(String),
      },
      {
        pattern_id: REB_ID,
        from_status: 'validated',
        to_status: 'deprecated',
        reason: 'superseded',
      },
      { pattern_id: WRAP_ID, from_status: 'candidate', to_status: 'deprecated', reason: null },
    ]);
  });

  it('dead-letters a request for an unknown pattern or an unknown status', async () => {
    const c = (chain = await PatternChain.start());
    await c.send(PATTERN_LEARNING_TOPIC, sessionPayload('s-1', READ_EDIT_BASH_X3));
    await c.settled(4, 1);
    await c.transition('0123456789abcdef', 'validated');
    await waitFor(() => c.deadLetters().length === 1, 'unknown pattern dead-lettered');
    await c.transition(REB_ID, 'archived');
    await waitFor(() => c.deadLetters().length === 2, 'unknown status dead-lettered');
    expect(c.deadLetters().map((letter) => letter.headers.failure_class)).toEqual([
      'PermanentHandlerError',
      'PermanentHandlerError',
    ]);
    const [unknown, archived] = c.deadLetters().map((letter) => letter.headers.failure_reason);
    expect(unknown).toContain('Unknown pattern 0123456789abcdef: cannot move it to validated');
    expect(archived).toContain(
      'Invalid pattern-lifecycle-transition command: to_status: Invalid option',
    );
    expect(await c.store.get(REB_ID)).toMatchObject({ status: 'validated' });
  });

  it('register() replaces the store and the promotion threshold', async () => {
    const mine = new InMemoryPatternStore();
    const c = (chain = await PatternChain.start(
      PatternNodesModule.register({ store: mine, promotionThreshold: 2 }),
    ));
    expect(c.store).toBe(mine);
    await c.send(PATTERN_LEARNING_TOPIC, sessionPayload('s-2x', READ_EDIT_BASH_X3.slice(0, 6)));
    await c.settled(1, 1);
    expect(await mine.get(REB_ID)).toMatchObject({ status: 'validated', occurrences: 2 });
    expect(() => PatternNodesModule.register({ promotionThreshold: 0 })).toThrow(RangeError);
  });
});
