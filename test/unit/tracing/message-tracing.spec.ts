import { afterEach, describe, expect, it } from '@jest/globals';
import { propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { BusMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import { MessageTracing } from '../../../src/intelligence/tracing/message-tracing.js';
import {
  registerTracing,
  spanNamed,
  TRACE_ID,
  traceparentOf,
  UPSTREAM_SPAN,
} from '../../support/tracing-sdk.js';

const TOPIC = 'onex.cmd.test.work-requested.v1';
const OUT = 'onex.evt.test.work-done.v1';
const INCOMING = `00-${TRACE_ID}-${UPSTREAM_SPAN}-01`;

function message(headers: Record<string, string> = {}, offset = '42'): BusMessage {
  return {
    topic: TOPIC,
    partition: 3,
    offset,
    timestamp: String(Date.now()),
    key: null,
    value: Buffer.from('{}'),
    headers,
  };
}

class ScoringError extends Error {
  override readonly name = 'ScoringError';
}

describe('MessageTracing', () => {
  afterEach(() => {
    trace.disable();
    propagation.disable();
  });

  it('is the no-op when tracing is off: no spans, the headers record untouched', async () => {
    const exporter = registerTracing();
    const tracing = await MessageTracing.load(false);
    expect(tracing).toBe(MessageTracing.disabled);
    const consume = tracing.startConsume(message({ traceparent: INCOMING }), 'g1', 1);
    consume.end('handler_error', new Error('boom'));
    const headers = { correlation_id: 'c1' };
    const publish = tracing.injectPublish(OUT, headers, consume.parent);
    publish.end();
    expect(consume.parent).toBeUndefined();
    expect(publish.headers).toBe(headers);
    expect(headers).toEqual({ correlation_id: 'c1' });
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('traces nothing while no SDK is registered, even with a propagator', async () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const tracing = await MessageTracing.load(true);
    const consume = tracing.startConsume(message({ traceparent: INCOMING }), 'g1', 1);
    const headers = { traceparent: INCOMING };
    expect(consume.parent).toBeUndefined();
    expect(tracing.injectPublish(OUT, headers, consume.parent).headers).toBe(headers);
  });

  it('starts a consumer span, a child of the incoming traceparent, with the messaging attributes', async () => {
    const exporter = registerTracing();
    const tracing = await MessageTracing.load(true);
    const consume = tracing.startConsume(message({ traceparent: INCOMING }), 'g1', 2, 'env-1');
    consume.end('success');
    const span = spanNamed(exporter, `process ${TOPIC}`);
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(UPSTREAM_SPAN);
    expect(span.parentSpanContext?.isRemote).toBe(true);
    expect(span.attributes).toEqual({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': TOPIC,
      'messaging.destination.partition.id': '3',
      'messaging.kafka.offset': 42,
      'messaging.consumer.group.name': 'g1',
      'messaging.message.id': 'env-1',
      'intelligence.attempt': 2,
      'intelligence.outcome': 'success',
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('starts a new trace without a traceparent, and keeps an offset past 2^53 as its string', async () => {
    const exporter = registerTracing();
    const tracing = await MessageTracing.load(true);
    tracing.startConsume(message({}, '9007199254740993'), 'g1', 1).end('success');
    const span = spanNamed(exporter, `process ${TOPIC}`);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.attributes['messaging.kafka.offset']).toBe('9007199254740993');
    expect(span.attributes['messaging.message.id']).toBeUndefined();
  });

  it('injects a producer span, a child of the consumer span, into a copy of the headers', async () => {
    const exporter = registerTracing();
    const tracing = await MessageTracing.load(true);
    const incoming = { traceparent: INCOMING, tracestate: 'vendor=upstream' };
    const consume = tracing.startConsume(message(incoming), 'g1', 1);
    const given = { correlation_id: 'c1', traceparent: 'stale', tracestate: 'stale=1' };
    const publish = tracing.injectPublish(OUT, given, consume.parent, 'dead_letter');
    publish.end();
    consume.end('success');

    const consumer = spanNamed(exporter, `process ${TOPIC}`);
    const producer = spanNamed(exporter, `send ${OUT}`);
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(producer.spanContext().traceId).toBe(TRACE_ID);
    expect(producer.parentSpanContext?.spanId).toBe(consumer.spanContext().spanId);
    expect(producer.attributes).toEqual({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.destination.name': OUT,
      'intelligence.publish.kind': 'dead_letter',
    });
    expect(publish.headers).not.toBe(given);
    expect(given).toEqual({ correlation_id: 'c1', traceparent: 'stale', tracestate: 'stale=1' });
    expect(publish.headers).toEqual({
      correlation_id: 'c1',
      traceparent: traceparentOf(producer),
      tracestate: 'vendor=upstream',
    });
  });

  it('parents a publish without a parent on the active context: a new trace', async () => {
    const exporter = registerTracing();
    const tracing = await MessageTracing.load(true);
    const publish = tracing.injectPublish(OUT, {}, undefined);
    publish.end();
    const producer = spanNamed(exporter, `send ${OUT}`);
    expect(producer.parentSpanContext).toBeUndefined();
    expect(producer.attributes['intelligence.publish.kind']).toBe('publish');
    expect(publish.headers).toEqual({ traceparent: traceparentOf(producer) });
  });

  it('records a failed outcome as status ERROR with the class name and a sanitized message', async () => {
    const exporter = registerTracing();
    const tracing = await MessageTracing.load(true);
    const consume = tracing.startConsume(message(), 'g1', 1);
    consume.end('handler_error', new ScoringError('login failed: password=hunter2'));
    consume.end('success');
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    const [span] = spans;
    expect(span?.attributes['intelligence.outcome']).toBe('handler_error');
    expect(span?.attributes['error.type']).toBe('ScoringError');
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.status.message).toContain('ScoringError: login failed');
    expect(JSON.stringify(span?.status)).not.toContain('hunter2');
    expect(span?.events).toEqual([]);
  });

  it('marks an outcome without an error by its name', async () => {
    const exporter = registerTracing();
    const tracing = await MessageTracing.load(true);
    tracing.startConsume(message(), 'g1', 1).end('no_handler');
    const span = spanNamed(exporter, `process ${TOPIC}`);
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no_handler' });
    expect(span.attributes['error.type']).toBe('no_handler');
  });

  it('records a failed publish once', async () => {
    const exporter = registerTracing();
    const tracing = await MessageTracing.load(true);
    const publish = tracing.injectPublish(OUT, {}, undefined, 'retry');
    publish.end(new Error('broker down, token=abc123secret'));
    publish.end();
    const [span] = exporter.getFinishedSpans();
    expect(exporter.getFinishedSpans()).toHaveLength(1);
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('Error');
    expect(span?.status.message).not.toContain('abc123secret');
  });

  it('starts recording once an SDK is registered after it loaded, and follows a new one', async () => {
    const tracing = await MessageTracing.load(true);
    const headers = { traceparent: INCOMING };
    expect(tracing.startConsume(message(headers), 'g1', 1).parent).toBeUndefined();
    expect(tracing.injectPublish(OUT, headers, undefined).headers).toBe(headers);

    const first = registerTracing();
    tracing.startConsume(message(headers), 'g1', 1).end('success');
    expect(first.getFinishedSpans()).toHaveLength(1);

    trace.disable();
    propagation.disable();
    const second = registerTracing();
    tracing.injectPublish(OUT, {}, undefined).end();
    expect(second.getFinishedSpans().map((span) => span.name)).toEqual([`send ${OUT}`]);
    expect(first.getFinishedSpans()).toHaveLength(1);
  });
});
