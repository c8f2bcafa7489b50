import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { DispatchEngine } from '../../../src/intelligence/dispatch/dispatch.engine.js';
import { PermanentHandlerError } from '../../../src/intelligence/delivery/dispatch-outcome.interface.js';
import { createEnvelope, toOutgoing } from '../../../src/intelligence/wire/envelope.js';
import { IntelligenceHandler } from '../../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import type { IntelligenceEvent } from '../../../src/intelligence/wire/intelligence-event.interface.js';
import type { DispatchContext } from '../../../src/intelligence/dispatch/dispatch-context.interface.js';
import { IntelligenceNode } from '../../../src/intelligence/dispatch/intelligence-node.decorator.js';
import { MessageDelivery } from '../../../src/intelligence/delivery/message.delivery.js';
import { RetryLaterError } from '../../../src/intelligence/bus/bus.errors.js';
import type { BusMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import type { IntelligenceModuleOptions } from '../../../src/intelligence/intelligence.options.js';
import { FaultyBus } from '../../support/faulty-bus.js';
import { compileIntelligenceApp } from '../../support/intelligence-app.js';
import { pause, waitFor } from '../../support/wait-for.js';

const IN = 'onex.cmd.test.work-requested.v1';
const TYPED = 'onex.cmd.test.typed-work.v1';
const OUT = 'onex.evt.test.work-done.v1';
const DLQ = 'onex.dlq.commands.v1';

/** Behaviour switches the handlers read; reset per test. */
const script = {
  failTimes: new Map<string, number>(),
  permanent: new Set<string>(),
  /** Ids whose handler runs until its signal is aborted. */
  hang: new Set<string>(),
  aborted: [] as string[],
  calls: [] as string[],
};

@IntelligenceNode({ name: 'worker', kind: 'effect', version: '1.0.0' })
@Injectable()
class WorkerNode {
  @IntelligenceHandler(IN)
  async work(event: IntelligenceEvent<{ id: string }>, ctx: DispatchContext): Promise<void> {
    const id = event.payload.id;
    script.calls.push(`work:${id}:${String(ctx.attempt)}`);
    if (script.permanent.has(id)) throw new PermanentHandlerError(`cannot process ${id}`);
    if (script.hang.has(id)) {
      await new Promise((resolve) => {
        ctx.signal.addEventListener('abort', resolve);
      });
      script.aborted.push(`${id}:${String(ctx.attempt)}`);
      return;
    }
    const left = script.failTimes.get(id) ?? 0;
    if (left > 0) {
      script.failTimes.set(id, left - 1);
      throw new Error(`transient failure for ${id}`);
    }
    await ctx.publish(OUT, { id });
  }

  @IntelligenceHandler(IN)
  audit(event: IntelligenceEvent<{ id: string }>): void {
    script.calls.push(`audit:${event.payload.id}`);
  }

  @IntelligenceHandler(TYPED, {
    eventType: 'special',
    idempotencyKey: (event) => (event.payload as { id: string }).id,
  })
  special(event: IntelligenceEvent<{ id: string }>): void {
    script.calls.push(`special:${event.payload.id}`);
  }
}

describe('dispatch policy on the embedded bus', () => {
  let app: TestingModule | undefined;
  let bus: FaultyBus;

  const start = async (options: Partial<IntelligenceModuleOptions> = {}) => {
    script.failTimes.clear();
    script.permanent.clear();
    script.hang.clear();
    script.aborted.length = 0;
    script.calls.length = 0;
    bus = new FaultyBus();
    app = await compileIntelligenceApp(
      {
        serviceName: 'policy',
        bus,
        introspection: { enabled: false },
        wiring: { retry: false },
        dispatch: { maxAttempts: 3, backoff: { initialMs: 5, maxMs: 20 }, ...options.dispatch },
        ...options,
      },
      { providers: [WorkerNode] },
    );
    await app.init();
    return app;
  };
  const send = (id: string, eventType?: string, topic = IN) =>
    bus.publish(
      topic,
      toOutgoing(
        createEnvelope({ topic, payload: { id }, ...(eventType ? { eventType } : {}) }),
        id,
      ),
    );
  const deadLetters = () => bus.published.filter((entry) => entry.topic === DLQ);

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('fans out to every handler of the topic once, and correlates the outputs', async () => {
    await start();
    const envelope = createEnvelope({ topic: IN, payload: { id: 'a' } });
    await bus.publish(IN, toOutgoing(envelope));
    await waitFor(() => script.calls.length === 2 && bus.envelopes(OUT).length === 1, 'both ran');
    expect(script.calls.sort()).toEqual(['audit:a', 'work:a:1']);
    const [output] = bus.envelopes(OUT);
    expect(output).toMatchObject({
      correlation_id: envelope.correlation_id,
      causation_id: envelope.envelope_id,
      event_type: 'work-done',
      metadata: { tags: { message_category: 'event' }, source: 'policy' },
    });
  });

  it('routes by event type: a typed handler sees only its type, topic-wide ones see all', async () => {
    await start();
    await send('s', 'special', TYPED);
    await send('o', 'other');
    await waitFor(() => script.calls.length === 3, 'three calls');
    expect(script.calls.sort()).toEqual(['audit:o', 'special:s', 'work:o:1']);
  });

  it('retries a transient failure with backoff, without re-running handlers that succeeded', async () => {
    await start();
    script.failTimes.set('t', 2);
    await send('t');
    await waitFor(() => bus.envelopes(OUT).length === 1, 'handled on the third attempt');
    expect(script.calls).toEqual(['work:t:1', 'audit:t', 'work:t:2', 'work:t:3']);
    expect(deadLetters()).toHaveLength(0);
    expect(app?.get(MessageDelivery).stats()).toMatchObject({ retried: 2, deadLettered: 0 });
  });

  it('dead-letters after maxAttempts with provenance, keeping the original bytes', async () => {
    await start();
    script.failTimes.set('x', 99);
    await send('x');
    await waitFor(() => deadLetters().length === 1, 'dead letter');
    const [letter] = deadLetters();
    const original = bus.published.find((entry) => entry.topic === IN)?.message;
    expect(letter?.message.value).toEqual(Buffer.from(original?.value ?? ''));
    expect(letter?.message.headers).toMatchObject({
      original_topic: IN,
      original_partition: expect.stringMatching(/^\d$/),
      original_offset: '0',
      consumer_group: 'omniintelligence-hooks',
      failure_class: 'Error',
      failure_reason: 'WorkerNode.work: Error: transient failure for x',
      attempts: '3',
      correlation_id: original?.headers?.correlation_id,
      content_type: 'application/json',
    });
    expect(script.calls.filter((call) => call.startsWith('work'))).toHaveLength(3);
  });

  it('dead-letters a permanent handler error at once', async () => {
    await start();
    script.permanent.add('p');
    await send('p');
    await waitFor(() => deadLetters().length === 1, 'dead letter');
    expect(deadLetters()[0]?.message.headers).toMatchObject({
      failure_class: 'PermanentHandlerError',
      attempts: '1',
    });
  });

  it('dead-letters invalid messages and events nobody handles', async () => {
    await start();
    await bus.publish(IN, { key: 'k', value: Buffer.from([0xc3, 0x28]) });
    await bus.publish(IN, { key: 'k', value: '{"broken": ' });
    await bus.publish(TYPED, {
      value: JSON.stringify({ id: 'q' }),
      headers: { event_type: 'nobody-handles-this' },
    });
    await waitFor(() => deadLetters().length === 3, 'three dead letters');
    expect(
      deadLetters()
        .map((entry) => entry.message.headers?.failure_class)
        .sort(),
    ).toEqual(['InvalidMessage:bad_json', 'InvalidMessage:bad_utf8', 'NoHandler']);
    expect(
      deadLetters().find((e) => e.message.headers?.failure_class === 'InvalidMessage:bad_utf8')
        ?.message.value,
    ).toEqual(Buffer.from([0xc3, 0x28]));
  });

  it('keeps a message uncommitted while its dead-letter publish fails, then dead-letters it', async () => {
    await start();
    const realPublishBatch = bus.publishBatch.bind(bus);
    let refusals = 3;
    bus.publishBatch = async (topic, messages) => {
      if (topic === DLQ && refusals > 0) {
        refusals -= 1;
        throw new Error('dlq unavailable');
      }
      await realPublishBatch(topic, messages);
    };
    script.permanent.add('d');
    await send('d');
    await waitFor(() => deadLetters().length === 1, 'dead letter after refusals');
    expect(refusals).toBe(0);
    expect(app?.get(MessageDelivery).stats()).toMatchObject({
      deadLetterFailures: 3,
      deadLettered: 1,
    });
    expect(script.calls.filter((call) => call.startsWith('work'))).toHaveLength(1);
  });

  it('skips a redelivered message its idempotency key has seen, and counts it', async () => {
    await start();
    await send('i', 'special', TYPED);
    await send('i', 'special', TYPED);
    const stats = () => app?.get(DispatchEngine).metrics().perHandler['WorkerNode.special'];
    await waitFor(() => stats()?.duplicatesSkipped === 1, 'the duplicate recognised');
    expect(script.calls.filter((c) => c === 'special:i')).toHaveLength(1);
    expect(stats()).toMatchObject({
      succeeded: 1,
      duplicatesSkipped: 1,
    });
  });

  it('drops after logging when dead letters are off', async () => {
    await start({ dispatch: { deadLetter: false, maxAttempts: 1 } });
    script.permanent.add('z');
    await send('z');
    await waitFor(() => app?.get(MessageDelivery).stats().dropped === 1, 'dropped');
    expect(deadLetters()).toHaveLength(0);
  });

  it('counts outcomes per topic and keeps a latency histogram per handler', async () => {
    await start();
    await send('m1');
    await send('m2');
    await waitFor(() => bus.envelopes(OUT).length === 2, 'two outputs');
    await pause(5);
    const metrics = app?.get(DispatchEngine).metrics();
    expect(metrics?.perTopic[IN]).toMatchObject({ success: 2 });
    const work = metrics?.perHandler['WorkerNode.work'];
    expect(work).toMatchObject({ invoked: 2, succeeded: 2, failed: 0 });
    expect(work?.latencyBuckets.at(-1)).toBe(2);
  });

  it('gives up a handler past handlerTimeoutMs as a transient failure: retried, then dead-lettered', async () => {
    await start({
      dispatch: { handlerTimeoutMs: 40, maxAttempts: 2, backoff: { initialMs: 5, maxMs: 5 } },
    });
    script.hang.add('h');
    await send('h');
    await waitFor(() => deadLetters().length === 1, 'dead letter after two timeouts');
    expect(deadLetters()[0]?.message.headers).toMatchObject({
      failure_class: 'HandlerTimeoutError',
      failure_reason:
        'WorkerNode.work: HandlerTimeoutError: WorkerNode.work did not finish within 40 ms',
      attempts: '2',
    });
    await waitFor(() => script.aborted.length === 2, 'both attempts aborted');
    expect(script.aborted).toEqual(['h:1', 'h:2']);
    expect(bus.envelopes(OUT)).toHaveLength(0);
  });

  it('hands a dead letter back as a pending acknowledgement that settles with the publish', async () => {
    await start();
    const delivery = app?.get(MessageDelivery);
    const realPublishBatch = bus.publishBatch.bind(bus);
    const gates: { release: (ok: boolean) => void }[] = [];
    bus.publishBatch = async (topic, messages) => {
      if (topic === DLQ) {
        const ok = await new Promise<boolean>((release) => gates.push({ release }));
        if (!ok) throw new Error('dlq refused');
      }
      await realPublishBatch(topic, messages);
    };
    const poison: BusMessage = {
      topic: IN,
      partition: 0,
      offset: '41',
      timestamp: '0',
      key: null,
      value: Buffer.from('{"broken": '),
      headers: {},
    };
    const first = await delivery?.deliver(poison);
    expect(first).toEqual({ settled: expect.any(Promise) });
    await waitFor(() => gates.length === 1, 'dead-letter publish started');
    gates[0]?.release(false);
    await expect(first?.settled).rejects.toBeInstanceOf(RetryLaterError);
    const second = await delivery?.deliver(poison);
    await waitFor(() => gates.length === 2, 'published again on redelivery');
    gates[1]?.release(true);
    await expect(second?.settled).resolves.toBeUndefined();
    expect(deadLetters()).toHaveLength(1);
    expect(delivery?.stats()).toMatchObject({ deadLettered: 1, deadLetterFailures: 1 });
  });
});
