import { afterEach, describe, expect, it } from '@jest/globals';
import type { OutgoingMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import {
  InMemoryPatternStore,
  PATTERN_LEARNING_TOPIC,
  PATTERN_LIFECYCLE_TRANSITIONED_TOPIC,
  patternIdOf,
  PatternNodesModule,
  type StatusChange,
  type StatusChangeResult,
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
