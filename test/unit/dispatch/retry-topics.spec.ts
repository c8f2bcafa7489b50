import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import type { OutgoingMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import { MessageDelivery } from '../../../src/intelligence/delivery/message.delivery.js';
import { retryTierTopic } from '../../../src/intelligence/delivery/retry-tiers.js';
import { parseTopic } from '../../../src/intelligence/wire/topic-name.js';
import type { DispatchContext } from '../../../src/intelligence/dispatch/dispatch-context.interface.js';
import { IntelligenceHandler } from '../../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import { IntelligenceNode } from '../../../src/intelligence/dispatch/intelligence-node.decorator.js';
import type { IntelligenceModuleOptions } from '../../../src/intelligence/intelligence.options.js';
import { IntelligenceRuntime } from '../../../src/intelligence/runtime/intelligence.runtime.js';
import { createEnvelope, toOutgoing } from '../../../src/intelligence/wire/envelope.js';
import type { IntelligenceEvent } from '../../../src/intelligence/wire/intelligence-event.interface.js';
import { FaultyBus } from '../../support/faulty-bus.js';
import { compileIntelligenceApp } from '../../support/intelligence-app.js';
import { waitFor } from '../../support/wait-for.js';

const IN = 'onex.cmd.test.tiered-work.v1';
const MIXED = 'onex.cmd.test.mixed-work.v1';
const OUT = 'onex.evt.test.tiered-done.v1';
const DLQ = 'onex.dlq.commands.v1';
const GROUP = 'omniintelligence-hooks';

const script = {
  failTimes: new Map<string, number>(),
  calls: [] as { call: string; at: number }[],
};

function fails(key: string): boolean {
  const left = script.failTimes.get(key) ?? 0;
  if (left <= 0) return false;
  script.failTimes.set(key, left - 1);
  return true;
}

@IntelligenceNode({ name: 'tiered', kind: 'effect', version: '1.0.0' })
@Injectable()
class TieredNode {
  @IntelligenceHandler(IN)
  async work(event: IntelligenceEvent<{ id: string }>, ctx: DispatchContext): Promise<void> {
    const id = event.payload.id;
    script.calls.push({ call: `work:${id}:${String(ctx.attempt)}`, at: Date.now() });
    if (fails(`work:${id}`)) throw new Error(`transient failure for ${id}`);
    await ctx.publish(OUT, { id });
  }

  @IntelligenceHandler(IN)
  audit(event: IntelligenceEvent<{ id: string }>): void {
    script.calls.push({ call: `audit:${event.payload.id}`, at: Date.now() });
  }

  @IntelligenceHandler(MIXED, { retry: { mode: 'topics', delaysMs: [40] } })
  slowPath(event: IntelligenceEvent<{ id: string }>, ctx: DispatchContext): void {
    script.calls.push({ call: `slow:${event.payload.id}:${String(ctx.attempt)}`, at: Date.now() });
    if (fails(`slow:${event.payload.id}`)) throw new Error('slow path down');
  }

  @IntelligenceHandler(MIXED)
  fastPath(event: IntelligenceEvent<{ id: string }>, ctx: DispatchContext): void {
    script.calls.push({ call: `fast:${event.payload.id}:${String(ctx.attempt)}`, at: Date.now() });
    if (fails(`fast:${event.payload.id}`)) throw new Error('fast path hiccup');
  }
}

@Injectable()
class BadRetryNode {
  @IntelligenceHandler(IN, { retry: { mode: 'topics', delaysMs: [] } })
  handle(): void {
    // never runs: discovery rejects the option
  }
}

@Injectable()
class OverlongRetryNode {
  @IntelligenceHandler(IN, { retry: { mode: 'topics', delaysMs: [1000, 2 ** 31] } })
  handle(): void {
    // never runs: discovery rejects the option (Node would fire the timer after 1 ms)
  }
}

describe('retry topics on the embedded bus', () => {
  let app: TestingModule | undefined;
  let bus: FaultyBus;

  const start = async (options: Partial<IntelligenceModuleOptions> = {}) => {
    script.failTimes.clear();
    script.calls.length = 0;
    bus = new FaultyBus();
    app = await compileIntelligenceApp(
      {
        serviceName: 'tiers',
        bus,
        introspection: { enabled: false },
        wiring: { retry: false },
        ...options,
        dispatch: {
          backoff: { initialMs: 5, maxMs: 20 },
          retry: { mode: 'topics', delaysMs: [60, 120] },
          ...options.dispatch,
        },
      },
      { providers: [TieredNode] },
    );
    await app.init();
    return app;
  };
  const send = (id: string, topic = IN, key = 'same-key') =>
    bus.publish(topic, toOutgoing(createEnvelope({ topic, payload: { id } }), key));
  const on = (topic: string) => bus.published.filter((entry) => entry.topic === topic);
  const calls = () => script.calls.map((entry) => entry.call);
  const at = (call: string) => script.calls.find((entry) => entry.call === call)?.at ?? NaN;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('names tier topics in the platform form, a command to the group, one per delay', () => {
    const tier = retryTierTopic('Omni.Hooks_v2', 10_000);
    expect(tier).toBe('onex.cmd.omni-hooks-v2.retry-10000ms.v1');
    expect(parseTopic(tier)).toEqual({
      kind: 'cmd',
      producer: 'omni-hooks-v2',
      eventName: 'retry-10000ms',
      version: 1,
    });
    expect(retryTierTopic('--', 500)).toBe('onex.cmd.group.retry-500ms.v1');
  });

  it('runs a message failing twice again from tier 1 and tier 2, while later messages of its key flow', async () => {
    await start();
    script.failTimes.set('work:t', 2);
    await send('t');
    await send('later');
    await waitFor(() => bus.envelopes(OUT).length === 2, 'both handled');
    expect(calls()).toEqual([
      'work:t:1',
      'audit:t',
      'work:later:1',
      'audit:later',
      'work:t:2',
      'work:t:3',
    ]);
    const tier1 = on(retryTierTopic(GROUP, 60));
    const tier2 = on(retryTierTopic(GROUP, 120));
    expect(tier1).toHaveLength(1);
    expect(tier2).toHaveLength(1);
    expect(tier2[0]?.message.headers).toMatchObject({
      retry_group: GROUP,
      retry_attempt: '2',
      retry_tier: '2',
      retry_handlers: JSON.stringify(['TieredNode.work']),
      retry_original_topic: IN,
      retry_original_offset: '0',
    });
    const history = JSON.parse(tier2[0]?.message.headers?.retry_history ?? '[]') as unknown[];
    expect(history).toEqual([
      expect.objectContaining({ attempt: 1, topic: IN, failureClass: 'Error' }),
      expect.objectContaining({ attempt: 2, topic: retryTierTopic(GROUP, 60) }),
    ]);
    // Each tier waits for its due time (a lower bound, not a speed assertion).
    expect(at('work:t:2') - at('work:t:1')).toBeGreaterThanOrEqual(55);
    expect(at('work:t:3') - at('work:t:2')).toBeGreaterThanOrEqual(115);
    expect(on(DLQ)).toHaveLength(0);
    expect(app?.get(MessageDelivery).stats()).toMatchObject({ retryTiered: 2, retried: 0 });
  });

  it('dead-letters a message failing on every tier, with its provenance and full history', async () => {
    await start();
    script.failTimes.set('work:x', 99);
    await send('x');
    await waitFor(() => on(DLQ).length === 1, 'dead letter');
    const original = on(IN)[0]?.message;
    const letter = on(DLQ)[0]?.message;
    expect(letter?.value).toEqual(Buffer.from(original?.value ?? ''));
    expect(letter?.headers).toMatchObject({
      original_topic: IN,
      original_offset: '0',
      consumer_group: GROUP,
      failure_class: 'Error',
      attempts: '3',
      correlation_id: original?.headers?.correlation_id,
    });
    const headers = Object.keys(letter?.headers ?? {}).filter((name) => name.startsWith('retry_'));
    expect(headers).toEqual(['retry_history']);
    const history = JSON.parse(letter?.headers?.retry_history ?? '[]') as { topic: string }[];
    expect(history.map((entry) => entry.topic)).toEqual([
      IN,
      retryTierTopic(GROUP, 60),
      retryTierTopic(GROUP, 120),
    ]);
    expect(calls().filter((call) => call.startsWith('work:x'))).toHaveLength(3);
    expect(calls().filter((call) => call.startsWith('audit:x'))).toHaveLength(1);
  });

  it('follows each handler its own policy: one through a tier, the other again in place', async () => {
    await start({ dispatch: { retry: { mode: 'in-place' }, maxAttempts: 3 } });
    script.failTimes.set('slow:m', 1);
    script.failTimes.set('fast:m', 1);
    await send('m', MIXED);
    await waitFor(() => calls().includes('slow:m:2') && calls().includes('fast:m:2'), 'both again');
    expect(calls().sort()).toEqual(['fast:m:1', 'fast:m:2', 'slow:m:1', 'slow:m:2']);
    expect(on(retryTierTopic(GROUP, 40))[0]?.message.headers?.retry_handlers).toBe(
      JSON.stringify(['TieredNode.slowPath']),
    );
    expect(app?.get(MessageDelivery).stats()).toMatchObject({ retryTiered: 1, retried: 1 });
  });

  it('keeps the message uncommitted while its tier publish fails, and publishes only that again', async () => {
    await start();
    const realPublishBatch = bus.publishBatch.bind(bus);
    let refusals = 2;
    bus.publishBatch = async (topic, messages) => {
      if (topic === retryTierTopic(GROUP, 60) && refusals > 0) {
        refusals -= 1;
        throw new Error('tier unavailable');
      }
      await realPublishBatch(topic, messages);
    };
    script.failTimes.set('work:f', 1);
    await send('f');
    await waitFor(() => bus.envelopes(OUT).length === 1, 'handled from the tier');
    expect(refusals).toBe(0);
    expect(calls()).toEqual(['work:f:1', 'audit:f', 'work:f:2']);
    expect(app?.get(MessageDelivery).stats()).toMatchObject({
      retryTierFailures: 2,
      retryTiered: 1,
    });
  });

  it('dead-letters a tier message whose retry headers are broken, untouched', async () => {
    await start();
    const broken: OutgoingMessage = {
      key: 'k',
      value: '{"not":"checked"}',
      headers: { retry_group: GROUP, retry_tier: 'one', retry_history: '{"broken": ' },
    };
    await bus.publish(retryTierTopic(GROUP, 60), broken);
    // No original topic to go by: the dead letters of the tier's kind (a command).
    await waitFor(() => on('onex.dlq.commands.v1').length === 1, 'dead letter');
    const letter = on('onex.dlq.commands.v1')[0]?.message;
    expect(letter?.headers?.failure_class).toBe('InvalidRetryHeaders');
    expect(letter?.headers?.failure_reason).toMatch(/retry_tier.*retry_history/);
    expect(letter?.headers?.failure_reason).not.toContain('JSON');
    expect(String(letter?.value)).toBe('{"not":"checked"}');
  });

  it.each([
    [
      BadRetryNode,
      /BadRetryNode\.handle ← onex\.cmd\.test\.tiered-work\.v1: option "retry\.delaysMs" needs at least one tier/,
    ],
    [
      OverlongRetryNode,
      /OverlongRetryNode\.handle ← .*: option "retry\.delaysMs\.1" must be at most 2147483647 ms/,
    ],
  ])(
    'rejects a handler retry option that is not valid, naming the handler and field (%p)',
    async (node, problem) => {
      const bad = await compileIntelligenceApp(
        {
          serviceName: 'tiers',
          bus: new FaultyBus(),
          introspection: { enabled: false },
          wiring: { retry: false },
        },
        { providers: [node] },
      );
      await bad.init();
      const result = bad.get(IntelligenceRuntime).status().lastResult;
      expect(result?.error).toMatch(problem);
      await bad.close();
    },
  );
});
