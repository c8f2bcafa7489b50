import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { BusMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import type { DispatchOutcome } from '../../../src/intelligence/delivery/dispatch-outcome.interface.js';
import type { DispatchContext } from '../../../src/intelligence/dispatch/dispatch-context.interface.js';
import { DispatchEngine } from '../../../src/intelligence/dispatch/dispatch.engine.js';
import { IntelligenceHandler } from '../../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import { IntelligenceNode } from '../../../src/intelligence/dispatch/intelligence-node.decorator.js';
import { resolveIntelligenceConfig } from '../../../src/intelligence/intelligence.config.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';
import { MessageTracing } from '../../../src/intelligence/tracing/message-tracing.js';
import { createEnvelope, toOutgoing } from '../../../src/intelligence/wire/envelope.js';
import type { IntelligenceEvent } from '../../../src/intelligence/wire/intelligence-event.interface.js';
import { FaultyBus } from '../../support/faulty-bus.js';
import { compileIntelligenceApp } from '../../support/intelligence-app.js';
import { waitFor } from '../../support/wait-for.js';
import {
  registerTracing,
  spanNamed,
  TRACE_ID,
  traceparentOf,
  UPSTREAM_SPAN,
} from '../../support/tracing-sdk.js';

const IN = 'onex.cmd.test.traced-work.v1';
const OUT = 'onex.evt.test.traced-done.v1';
const INCOMING = `00-${TRACE_ID}-${UPSTREAM_SPAN}-01`;

@IntelligenceNode({ name: 'traced', kind: 'effect', version: '1.0.0' })
@Injectable()
class TracedNode {
  @IntelligenceHandler(IN)
  async work(event: IntelligenceEvent<{ id: string }>, ctx: DispatchContext): Promise<void> {
    if (event.payload.id === 'bad') throw new Error('cannot score, api_key=sk-live-123456');
    await ctx.publish(OUT, { id: event.payload.id });
  }
}

function incoming(id: string, headers: Record<string, string> = { traceparent: INCOMING }) {
  const outgoing = toOutgoing(createEnvelope({ topic: IN, payload: { id } }));
  return { ...outgoing, headers: { ...outgoing.headers, ...headers } };
}

describe('tracing through the dispatch', () => {
  let app: TestingModule | undefined;
  let bus: FaultyBus;

  const start = async (enabled = true) => {
    bus = new FaultyBus();
    app = await compileIntelligenceApp(
      {
        serviceName: 'traced',
        bus,
        introspection: { enabled: false },
        wiring: { retry: false },
        dispatch: { maxAttempts: 1 },
        tracing: { enabled },
      },
      { providers: [TracedNode] },
    );
    await app.init();
  };
  const published = (topic: string) => bus.published.filter((entry) => entry.topic === topic);

  afterEach(async () => {
    await app?.close();
    app = undefined;
    trace.disable();
    propagation.disable();
  });

  it('runs one trace from the incoming traceparent through the consumer span to the output', async () => {
    const exporter = registerTracing();
    await start();
    await bus.publish(IN, incoming('ok'));
    await waitFor(() => exporter.getFinishedSpans().length === 2, 'consumer and producer spans');

    const consumer = spanNamed(exporter, `process ${IN}`);
    const producer = spanNamed(exporter, `send ${OUT}`);
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.spanContext().traceId).toBe(TRACE_ID);
    expect(consumer.parentSpanContext?.spanId).toBe(UPSTREAM_SPAN);
    expect(consumer.attributes).toMatchObject({
      'messaging.destination.name': IN,
      'messaging.consumer.group.name': 'omniintelligence-hooks',
      'intelligence.attempt': 1,
      'intelligence.outcome': 'success',
    });
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(producer.spanContext().traceId).toBe(TRACE_ID);
    expect(producer.parentSpanContext?.spanId).toBe(consumer.spanContext().spanId);
    const [output] = published(OUT);
    expect(output?.message.headers?.traceparent).toBe(traceparentOf(producer));
    expect(output?.message.headers?.correlation_id).toBeDefined();
  });

  it('ends the consumer span of a failing handler with status ERROR, its reason sanitized', async () => {
    const exporter = registerTracing();
    await start();
    await bus.publish(IN, incoming('bad'));
    await waitFor(() => exporter.getFinishedSpans().length === 1, 'the consumer span');
    const consumer = spanNamed(exporter, `process ${IN}`);
    expect(consumer.attributes['intelligence.outcome']).toBe('handler_error');
    expect(consumer.status.code).toBe(SpanStatusCode.ERROR);
    expect(consumer.status.message).toContain('cannot score');
    expect(consumer.status.message).not.toContain('sk-live-123456');
  });

  it('passes no trace context on with tracing off', async () => {
    const exporter = registerTracing();
    await start(false);
    await bus.publish(IN, incoming('ok'));
    await waitFor(() => published(OUT).length === 1, 'the output');
    expect(published(OUT)[0]?.message.headers?.traceparent).toBeUndefined();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});

describe('DispatchEngine with tracing', () => {
  afterEach(() => {
    trace.disable();
    propagation.disable();
  });

  const config = resolveIntelligenceConfig({ serviceName: 'test', groupId: 'g1' });
  const message = (id: string): BusMessage => {
    const outgoing = incoming(id);
    return {
      topic: IN,
      partition: 0,
      offset: '7',
      timestamp: String(Date.now()),
      key: null,
      value: Buffer.from(outgoing.value as string),
      headers: outgoing.headers,
    };
  };

  it('keeps the synchronous path synchronous and hands the span on with the outcome', async () => {
    const exporter = registerTracing();
    const tracing = await MessageTracing.load(true);
    const engine = new DispatchEngine(config, new LogSanitizer(), tracing);
    const bus = new FaultyBus();
    engine.load([{ topic: IN, name: 'Sync.handle', node: 'sync', invoke: () => undefined }], bus);

    const outcome = engine.handle(message('ok'), 1);
    expect(outcome).not.toBeInstanceOf(Promise);
    const consumer = spanNamed(exporter, `process ${IN}`);
    expect(consumer.attributes['messaging.message.id']).toEqual(expect.any(String));

    const child = tracing.injectPublish(OUT, {}, (outcome as DispatchOutcome).trace, 'retry');
    child.end();
    const producer = spanNamed(exporter, `send ${OUT}`);
    expect(producer.parentSpanContext?.spanId).toBe(consumer.spanContext().spanId);
  });

  it('traces an invalid message, and adds nothing to the outcome without tracing', async () => {
    const exporter = registerTracing();
    const traced = new DispatchEngine(config, new LogSanitizer(), await MessageTracing.load(true));
    const plain = new DispatchEngine(config, new LogSanitizer());
    for (const engine of [traced, plain]) {
      engine.load(
        [{ topic: IN, name: 'Sync.handle', node: 'sync', invoke: () => undefined }],
        new FaultyBus(),
      );
    }
    const broken = { ...message('x'), value: Buffer.from('{not json') };

    const outcome = traced.handle(broken, 1);
    expect(outcome).toMatchObject({ status: 'invalid_message', trace: expect.anything() });
    const consumer = spanNamed(exporter, `process ${IN}`);
    expect(consumer.attributes['intelligence.outcome']).toBe('invalid_message');
    expect(consumer.status.code).toBe(SpanStatusCode.ERROR);

    expect(Object.keys(plain.handle(message('ok'), 1) as object)).not.toContain('trace');
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });
});
