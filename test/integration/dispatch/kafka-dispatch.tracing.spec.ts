import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KafkaClientName } from '../../../src/intelligence/bus/kafka-bus.options.js';
import { Injectable } from '@nestjs/common';
import { propagation, SpanKind, trace } from '@opentelemetry/api';
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { retryGroupId, retryTierTopic } from '../../../src/intelligence/delivery/retry-tiers.js';
import type { DispatchContext } from '../../../src/intelligence/dispatch/dispatch-context.interface.js';
import { IntelligenceHandler } from '../../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import { IntelligenceNode } from '../../../src/intelligence/dispatch/intelligence-node.decorator.js';
import { DEAD_LETTER_TOPICS } from '../../../src/intelligence/intelligence.constants.js';
import type { IntelligenceEvent } from '../../../src/intelligence/wire/intelligence-event.interface.js';
import { DispatchApps } from '../../support/dispatch-app.js';
import {
  envelopeMessage,
  freshTopic,
  RawTopicReader,
  TestProducer,
  type RawMessage,
} from '../../support/dispatch-kafka.js';
import {
  registerTracing,
  TRACE_ID,
  traceparentOf,
  UPSTREAM_SPAN,
} from '../../support/tracing-sdk.js';
import { uniqueTopic } from '../../support/unique-names.js';
import { waitFor } from '../../support/wait-for.js';

const DLQ = DEAD_LETTER_TOPICS.event;
const DELAY = 500;
const TRACESTATE = 'upstream=kept';

describe.each<KafkaClientName>(['kafkajs', 'platformatic'])(
  'Tracing on the real broker (%s): one trace from the input through a retry tier to the output or the DLQ',
  (client) => {
    const apps = new DispatchApps();
    let exporter: InMemorySpanExporter;
    let producer: TestProducer;
    let reader: RawTopicReader;
    let topic: string;
    let groupId: string;
    const out = uniqueTopic(`traced-out-${client}`);

    beforeAll(async () => {
      exporter = registerTracing();
      ({ topic, groupId } = await freshTopic(`traced-${client}`));
      producer = await new TestProducer().start();
      reader = await new RawTopicReader().start([out, DLQ, retryTierTopic(groupId, DELAY)]);
    });

    afterAll(async () => {
      await apps.closeAll();
      await Promise.all([producer.stop(), reader.stop()]);
      trace.disable();
      propagation.disable();
    });

    it('links consumer, retry-tier and output or dead-letter spans, and the headers name them', async () => {
      const tried = new Map<string, number>();

      @IntelligenceNode({ name: `traced-worker-${client}`, kind: 'effect', version: '1.0.0' })
      @Injectable()
      class TracedWorker {
        @IntelligenceHandler(topic)
        async handle(
          event: IntelligenceEvent<{ id: string }>,
          ctx: DispatchContext,
        ): Promise<void> {
          const { id } = event.payload;
          tried.set(id, (tried.get(id) ?? 0) + 1);
          if (id === 'doomed' || ctx.attempt === 1) throw new Error(`downstream refused ${id}`);
          await ctx.publish(out, { id });
        }
      }

      /** Sends one traced input; where it landed and its envelope id. */
      const sendTraced = async (id: string, span: string) => {
        const { envelope, message } = envelopeMessage(topic, { id }, id);
        const [placed] = await producer.send(topic, [
          {
            ...message,
            headers: {
              ...message.headers,
              traceparent: `00-${TRACE_ID}-${span}-01`,
              tracestate: TRACESTATE,
            },
          },
        ]);
        if (!placed) throw new Error(`${id} was not placed`);
        return {
          ...placed,
          envelopeId: envelope.envelope_id,
          correlationId: envelope.correlation_id,
        };
      };
      const doomedUpstream = 'c7ad6b7169203332';
      const healedInput = await sendTraced('healed', UPSTREAM_SPAN);
      const doomedInput = await sendTraced('doomed', doomedUpstream);
      await apps.start({
        groupId,
        providers: [TracedWorker],
        bus: { client },
        dispatch: { retry: { mode: 'topics', delaysMs: [DELAY] } },
      });
      await waitFor(() => reader.of(out).length === 1, 'the output after the retry', 30_000);
      await waitFor(() => reader.deadLettersOf(DLQ, topic).length === 1, 'the dead letter', 30_000);
      await waitFor(
        () =>
          exporter.getFinishedSpans().filter((span) => span.name === `send ${DLQ}`).length === 1,
        'the dead-letter span ended',
      );

      const spans = exporter
        .getFinishedSpans()
        .filter((span) => span.spanContext().traceId === TRACE_ID);
      const childOf = (parent: string, name: string, kind: SpanKind): ReadableSpan => {
        const found = spans.filter(
          (span) =>
            span.parentSpanContext?.spanId === parent && span.name === name && span.kind === kind,
        );
        expect(found).toHaveLength(1);
        return found[0] as ReadableSpan;
      };
      const tier = retryTierTopic(groupId, DELAY);
      const chain = (upstream: string, input: Awaited<ReturnType<typeof sendTraced>>) => {
        const consumer = childOf(upstream, `process ${topic}`, SpanKind.CONSUMER);
        expect(consumer.attributes).toMatchObject({
          'messaging.system': 'kafka',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': String(input.partition),
          'messaging.kafka.offset': Number(input.baseOffset),
          'messaging.consumer.group.name': groupId,
          'messaging.message.id': input.envelopeId,
          'intelligence.attempt': 1,
          'intelligence.outcome': 'handler_error',
        });
        expect(consumer.spanContext().traceState?.serialize()).toBe(TRACESTATE);
        const handover = childOf(consumer.spanContext().spanId, `send ${tier}`, SpanKind.PRODUCER);
        expect(handover.attributes).toMatchObject({ 'intelligence.publish.kind': 'retry' });
        const tiered = reader
          .of(tier)
          .filter(({ headers }) => headers.correlation_id === input.correlationId);
        expect(tiered).toHaveLength(1);
        const [onTier] = tiered as [RawMessage];
        expect(onTier.headers.traceparent).toBe(traceparentOf(handover));
        expect(onTier.headers.tracestate).toBe(TRACESTATE);
        // Run again from the tier: the span names where it was consumed, by the retry group.
        const retried = childOf(
          handover.spanContext().spanId,
          `process ${tier}`,
          SpanKind.CONSUMER,
        );
        expect(retried.attributes).toMatchObject({
          'messaging.destination.name': tier,
          'messaging.destination.partition.id': String(onTier.partition),
          'messaging.kafka.offset': Number(onTier.offset),
          'messaging.consumer.group.name': retryGroupId(groupId),
          'messaging.message.id': input.envelopeId,
          'intelligence.attempt': 2,
        });
        return retried;
      };

      const healed = chain(UPSTREAM_SPAN, healedInput);
      expect(healed.attributes).toMatchObject({ 'intelligence.outcome': 'success' });
      const output = childOf(healed.spanContext().spanId, `send ${out}`, SpanKind.PRODUCER);
      const [published] = reader.of(out);
      expect(published?.headers.traceparent).toBe(traceparentOf(output));
      expect(published?.headers.tracestate).toBe(TRACESTATE);

      const doomed = chain(doomedUpstream, doomedInput);
      expect(doomed.attributes).toMatchObject({ 'intelligence.outcome': 'handler_error' });
      const deadLetter = childOf(doomed.spanContext().spanId, `send ${DLQ}`, SpanKind.PRODUCER);
      expect(deadLetter.attributes).toMatchObject({ 'intelligence.publish.kind': 'dead_letter' });
      const [letter] = reader.deadLettersOf(DLQ, topic);
      expect(letter?.headers.traceparent).toBe(traceparentOf(deadLetter));
      expect(letter?.headers.tracestate).toBe(TRACESTATE);
      expect(tried).toEqual(
        new Map([
          ['healed', 2],
          ['doomed', 2],
        ]),
      );
    }, 60_000);
  },
);
