import { afterEach, describe, expect, it } from '@jest/globals';
import type { OutgoingMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import {
  InMemoryPatternStore,
  PATTERN_LEARNED_TOPIC,
  PATTERN_LEARNING_TOPIC,
  PATTERN_LIFECYCLE_TRANSITIONED_TOPIC,
  PATTERN_STORED_TOPIC,
  patternIdOf,
  PatternNodesModule,
  type LearnedPattern,
  type StatusChange,
  type StatusChangeResult,
  type UpsertResult,
} from '../../../src/nodes/index.js';
import { FaultyBus } from '../../support/faulty-bus.js';
import { pause, waitFor } from '../../support/wait-for.js';
import { PatternChain } from './pattern-chain.harness.js';
import { READ_EDIT_BASH_X3, sessionPayload } from './pattern-sessions.js';

const REB_ID = patternIdOf(['Read', 'Edit', 'Bash']);
const WRAP_ID = patternIdOf(['Bash', 'Read', 'Edit', 'Bash']);

/** Fails the first publishes on one topic, as a broker hiccup would. */
class FlakyTopicBus extends FaultyBus {
  failures = 0;
  constructor(
    private readonly flakyTopic: string,
    private failuresLeft: number,
  ) {
    super();
  }

  override async publishBatch(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (topic === this.flakyTopic && this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      this.failures += 1;
      throw new Error(`broker unavailable for ${topic}`);
    }
    await super.publishBatch(topic, messages);
  }
}

/** A store where another writer moves the pattern first, once, right before our change. */
class RacingStore extends InMemoryPatternStore {
  raced = false;
  constructor(private readonly rival: StatusChange) {
    super();
  }

  override async setStatus(patternId: string, change: StatusChange): Promise<StatusChangeResult> {
    if (!this.raced && change.cause !== this.rival.cause) {
      this.raced = true;
      await super.setStatus(patternId, this.rival);
    }
    return super.setStatus(patternId, change);
  }
}

/** Counts the store calls the storage node makes. */
class CountingStore extends InMemoryPatternStore {
  readonly batches: number[] = [];
  override upsertMany(patterns: readonly LearnedPattern[]): Promise<UpsertResult[]> {
    this.batches.push(patterns.length);
    return super.upsertMany(patterns);
  }
}

describe('pattern storage', () => {
  let chain: PatternChain | undefined;

  afterEach(async () => {
    await chain?.close();
    chain = undefined;
  });

  it('stores a learned batch with one upsertMany, then announces each pattern', async () => {
    const store = new CountingStore();
    const c = (chain = await PatternChain.start(PatternNodesModule.register({ store })));
    await c.send(PATTERN_LEARNING_TOPIC, sessionPayload('s-1', READ_EDIT_BASH_X3));
    await c.settled(4, 1);
    expect(store.batches).toEqual([4]);
    expect(c.bus.envelopes(PATTERN_STORED_TOPIC).map((e) => e.payload)).toEqual(
      expect.arrayContaining([expect.objectContaining({ pattern_id: REB_ID, created: true })]),
    );
  });

  it('dead-letters a batch whose pattern id is stored with another sequence', async () => {
    const store = new CountingStore();
    await store.upsert({
      pattern_id: REB_ID,
      sequence: ['Grep'],
      occurrences: 1,
      session_id: 's-0',
    });
    const c = (chain = await PatternChain.start(PatternNodesModule.register({ store })));
    await c.send(PATTERN_LEARNING_TOPIC, sessionPayload('s-1', READ_EDIT_BASH_X3));
    const deadLetters = () =>
      c.bus.published.filter((entry) => entry.topic === 'onex.dlq.events.v1');
    await waitFor(() => deadLetters().length === 1, 'the learned batch dead-lettered');
    expect(deadLetters()[0]?.message.headers).toMatchObject({
      original_topic: PATTERN_LEARNED_TOPIC,
      failure_class: 'PermanentHandlerError',
      attempts: '1',
    });
    expect(deadLetters()[0]?.message.headers?.failure_reason).toContain(
      `Pattern id ${REB_ID} is stored for ["Grep"]`,
    );
    expect(c.bus.envelopes(PATTERN_STORED_TOPIC)).toEqual([]);
  });
});

describe('pattern lifecycle under faults', () => {
  let chain: PatternChain | undefined;

  afterEach(async () => {
    await chain?.close();
    chain = undefined;
  });

  it('announces an applied transition once more when its first announcement failed', async () => {
    const bus = new FlakyTopicBus(PATTERN_LIFECYCLE_TRANSITIONED_TOPIC, 1);
    const c = (chain = await PatternChain.start(PatternNodesModule, bus));
    await c.send(PATTERN_LEARNING_TOPIC, sessionPayload('s-1', READ_EDIT_BASH_X3));
    await c.settled(4, 1);
    await pause(100);
    expect(bus.failures).toBe(1);
    expect(c.bus.envelopes(PATTERN_LIFECYCLE_TRANSITIONED_TOPIC)).toHaveLength(1);
    expect(await c.store.get(REB_ID)).toMatchObject({
      status: 'validated',
      transitions: [{ from_status: 'candidate', to_status: 'validated' }],
    });
    expect(c.deadLetters()).toEqual([]);
  });

  it('decides again from the new status when another writer changed it first', async () => {
    const store = new RacingStore({
      from_status: 'candidate',
      to_status: 'validated',
      reason: 'rival',
      cause: 'rival',
      correlation_id: 'rival',
    });
    const c = (chain = await PatternChain.start(
      PatternNodesModule.register({ store, promotionThreshold: 99 }),
    ));
    await c.send(PATTERN_LEARNING_TOPIC, sessionPayload('s-1', READ_EDIT_BASH_X3));
    await c.settled(4, 0);

    const request = await c.transition(WRAP_ID, 'deprecated', 'obsolete');
    const announced = () =>
      c.correlated(PATTERN_LIFECYCLE_TRANSITIONED_TOPIC, request.correlation_id);
    await waitFor(() => announced().length === 1, 'deprecated after the race');
    expect(store.raced).toBe(true);
    expect(announced()[0]?.payload).toEqual({
      pattern_id: WRAP_ID,
      from_status: 'validated',
      to_status: 'deprecated',
      reason: 'obsolete',
    });
    expect(await store.get(WRAP_ID)).toMatchObject({
      status: 'deprecated',
      transitions: [{ cause: 'rival' }, { to_status: 'deprecated' }],
    });
  });
});
