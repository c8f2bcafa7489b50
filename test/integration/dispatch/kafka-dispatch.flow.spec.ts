import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { IntelligenceHandler } from '../../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import type { IntelligenceEvent } from '../../../src/intelligence/wire/intelligence-event.interface.js';
import type { DispatchContext } from '../../../src/intelligence/dispatch/dispatch-context.interface.js';
import { IntelligenceNode } from '../../../src/intelligence/dispatch/intelligence-node.decorator.js';
import { DispatchApps, work } from '../../support/dispatch-app.js';
import { envelopeMessage, TestProducer, freshTopic } from '../../support/dispatch-kafka.js';
import { KafkaTopicReader } from '../../support/kafka-topic-reader.js';
import { uniqueTopic } from '../../support/unique-names.js';
import { pause, waitFor } from '../../support/wait-for.js';

interface Question {
  question: string;
}

interface Keyed {
  key: string;
  seq: number;
}

describe('Dispatch on the real broker: per-key order, @EventPattern handlers', () => {
  const apps = new DispatchApps();
  let producer: TestProducer;

  beforeAll(async () => {
    producer = await new TestProducer().start();
  });

  afterAll(async () => {
    await producer.stop();
  });

  afterEach(async () => {
    await apps.closeAll();
  });

  it('keeps each key in produced order with concurrency 4, handling every message once', async () => {
    const { topic, groupId } = await freshTopic('keyed');
    const keys = Array.from({ length: 10 }, (_, k) => `key-${String(k)}`);
    const handled = new Map<string, number[]>(keys.map((key) => [key, []]));
    const activeKeys = new Set<string>();
    const active = new Map<number, number>();
    let mostActiveInPartition = 0;
    let overlaps = 0;

    @IntelligenceNode({ name: 'keyed-recorder', kind: 'compute', version: '1.0.0' })
    @Injectable()
    class KeyedRecorder {
      @IntelligenceHandler(topic)
      async record(event: IntelligenceEvent<Keyed>): Promise<void> {
        const { key, seq } = event.payload;
        if (activeKeys.has(key)) overlaps += 1;
        activeKeys.add(key);
        const now = (active.get(event.partition) ?? 0) + 1;
        active.set(event.partition, now);
        mostActiveInPartition = Math.max(mostActiveInPartition, now);
        await work(1 + Math.floor(Math.random() * 6));
        handled.get(key)?.push(seq);
        active.set(event.partition, (active.get(event.partition) ?? 1) - 1);
        activeKeys.delete(key);
      }
    }

    await apps.start({ groupId, providers: [KeyedRecorder], dispatch: { concurrency: 4 } });
    const interleaved = Array.from({ length: 30 }, (_, seq) =>
      keys.map((key) => envelopeMessage<Keyed>(topic, { key, seq }, key).message),
    ).flat();
    for (let i = 0; i < interleaved.length; i += 60) {
      await producer.send(topic, interleaved.slice(i, i + 60));
    }
    const total = () => [...handled.values()].reduce((sum, seqs) => sum + seqs.length, 0);
    await waitFor(() => total() === 300, 'all 300 handled', 60_000);
    await pause(500);

    const inOrder = Array.from({ length: 30 }, (_, seq) => seq);
    for (const key of keys) expect({ key, seqs: handled.get(key) }).toEqual({ key, seqs: inOrder });
    expect(total()).toBe(300);
    expect(overlaps).toBe(0);
    // Ten keys share three partitions: several at once in one partition is the concurrency.
    expect(mostActiveInPartition).toBeGreaterThan(1);
  });

  it('dispatches to an @EventPattern method of a plain provider, whose ctx.publish is correlated', async () => {
    const { topic, groupId } = await freshTopic('pattern-in');
    const output = uniqueTopic('pattern-out');
    const reader = await new KafkaTopicReader().start([output]);
    const received: unknown[] = [];
    const attempts: number[] = [];

    @Injectable()
    class PatternConsumer {
      @EventPattern<Record<string, Question>>(topic)
      async echo(payload: Question, context: unknown): Promise<void> {
        const ctx = context as DispatchContext;
        received.push(payload);
        attempts.push(ctx.attempt);
        await ctx.publish(output, { answer: payload.question.toUpperCase() });
      }
    }

    try {
      await apps.start({ groupId, providers: [PatternConsumer] });
      const input = envelopeMessage(topic, { question: 'ping' });
      await producer.send(topic, [input.message]);
      await waitFor(() => reader.messages.length > 0, 'output on Kafka');
      const [published] = reader.messages;

      expect(received).toEqual([{ question: 'ping' }]);
      expect(attempts).toEqual([1]);
      expect(published?.topic).toBe(output);
      expect(published?.payload).toEqual({ answer: 'PING' });
      expect(published?.envelope).toMatchObject({
        correlation_id: input.envelope.correlation_id,
        causation_id: input.envelope.envelope_id,
      });
      expect(published?.headers.correlation_id).toBe(input.envelope.correlation_id);
      expect(published?.envelope.envelope_id).not.toBe(input.envelope.envelope_id);
      await pause(500);
      expect(reader.messages).toHaveLength(1);
    } finally {
      await reader.stop();
    }
  });
});
