import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import type { Message } from 'kafkajs';
import { IntelligenceHandler } from '../../../src/intelligence/dispatch/intelligence-handler.decorator.js';
import type { IntelligenceEvent } from '../../../src/intelligence/wire/intelligence-event.interface.js';
import type { DispatchContext } from '../../../src/intelligence/dispatch/dispatch-context.interface.js';
import { IntelligenceNode } from '../../../src/intelligence/dispatch/intelligence-node.decorator.js';
import { DEAD_LETTER_TOPICS } from '../../../src/intelligence/intelligence.constants.js';
import { captureLogs } from '../../support/capture-logs.js';
import { DispatchApps } from '../../support/dispatch-app.js';
import {
  createTopics,
  envelopeMessage,
  RawTopicReader,
  startGroupAtBeginning,
  TestProducer,
  type Placed,
  type RawMessage,
  freshTopic,
} from '../../support/dispatch-kafka.js';
import { uniqueTopic } from '../../support/unique-names.js';
import { pause, waitFor } from '../../support/wait-for.js';

const DLQ = DEAD_LETTER_TOPICS.event;
const CANARY = 'canary-xyz';
const PROVENANCE = [
  'original_topic',
  'original_partition',
  'original_offset',
  'original_timestamp',
  'consumer_group',
  'failure_reason',
  'failure_class',
  'failure_timestamp',
  'attempts',
] as const;

describe('Dispatch on the real broker: poison messages, retries, dead letters', () => {
  const apps = new DispatchApps();
  let producer: TestProducer;
  let dlq: RawTopicReader;

  beforeAll(async () => {
    producer = await new TestProducer().start();
    dlq = await new RawTopicReader().start([DLQ]);
  });

  afterAll(async () => {
    await Promise.all([producer.stop(), dlq.stop()]);
  });

  afterEach(async () => {
    await apps.closeAll();
  });

  it('dead-letters invalid JSON and invalid UTF-8 in mid-stream, once, byte for byte, and handles the rest', async () => {
    const { topic, groupId } = await freshTopic('poison');
    const handled: { seq: number; offset: string }[] = [];

    @IntelligenceNode({ name: 'poison-recorder', kind: 'compute', version: '1.0.0' })
    @Injectable()
    class PoisonRecorder {
      @IntelligenceHandler(topic)
      record(event: IntelligenceEvent<{ seq: number }>): void {
        handled.push({ seq: event.payload.seq, offset: event.offset });
      }
    }

    const key = 'one-partition';
    const badJson = Buffer.from('{"envelope_id": "e-1", "payload": {"seq": 25');
    const badUtf8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xc3, 0x28, 0xff, 0xfe, 0x7d]);
    const badJsonCorrelation = randomUUID();
    const good = Array.from({ length: 50 }, (_, seq) => envelopeMessage(topic, { seq }, key));
    const messages: Message[] = [
      ...good.slice(0, 25).map(({ message }) => message),
      { key, value: badJson, headers: { correlation_id: badJsonCorrelation, trace: 'poison-1' } },
      { key, value: badUtf8 },
      ...good.slice(25).map(({ message }) => message),
    ];
    const placed = await producer.sendToOnePartition(topic, messages);
    const [jsonAt, utf8At] = [placed[25], placed[26]];
    if (!jsonAt || !utf8At) throw new Error('poison messages not placed');

    const source = await new RawTopicReader().start([topic]);
    await apps.start({ groupId, providers: [PoisonRecorder] });
    try {
      await waitFor(() => handled.length === 50, 'every good message handled');
      await waitFor(() => dlq.deadLettersOf(DLQ, topic).length === 2, 'both poison dead-lettered');
      await waitFor(() => source.of(topic).length === 52, 'source topic read back');
      await pause(1_000);

      expect(handled.map(({ seq }) => seq)).toEqual(good.map((_, seq) => seq));
      const letters = dlq.deadLettersOf(DLQ, topic);
      expect(letters).toHaveLength(2);
      const original = (offset: string) => source.of(topic).find((m) => m.offset === offset);
      const letterOf = (offset: string) =>
        letters.find((letter) => letter.headers.original_offset === offset);

      const jsonLetter = letterOf(jsonAt.offset);
      const utf8Letter = letterOf(utf8At.offset);
      expect(jsonLetter?.value?.equals(badJson)).toBe(true);
      expect(utf8Letter?.value?.equals(badUtf8)).toBe(true);
      expect(original(jsonAt.offset)?.value?.equals(badJson)).toBe(true);
      expect(original(utf8At.offset)?.value?.equals(badUtf8)).toBe(true);

      const expectProvenance = (letter: RawMessage | undefined, at: Placed, kind: string) => {
        for (const name of PROVENANCE) expect(letter?.headers[name]).toMatch(/\S/);
        expect(letter?.key).toBe(key);
        expect(letter?.headers).toMatchObject({
          original_topic: topic,
          original_partition: String(at.partition),
          original_offset: at.offset,
          original_timestamp: original(at.offset)?.timestamp,
          consumer_group: groupId,
          failure_class: `InvalidMessage:${kind}`,
          attempts: '1',
        });
        expect(Number.isNaN(Date.parse(letter?.headers.failure_timestamp ?? ''))).toBe(false);
      };
      expectProvenance(jsonLetter, jsonAt, 'bad_json');
      expectProvenance(utf8Letter, utf8At, 'bad_utf8');
      expect(jsonLetter?.headers.correlation_id).toBe(badJsonCorrelation);
      expect(jsonLetter?.headers.trace).toBe('poison-1');
      const goodOffsets = placed.filter((_, i) => i !== 25 && i !== 26).map((at) => at.offset);
      expect(handled.map(({ offset }) => offset)).toEqual(goodOffsets);
    } finally {
      await source.stop();
    }
  });

  it('retries a failing handler until it succeeds, and dead-letters one that never does after maxAttempts, sanitized', async () => {
    const flakyTopic = uniqueTopic('flaky');
    const { topic: doomedTopic, groupId } = await freshTopic('doomed');
    await createTopics([flakyTopic]);
    await startGroupAtBeginning(groupId, flakyTopic);
    const flakyAttempts: number[] = [];
    const flakySuccesses: number[] = [];
    const doomedAttempts: number[] = [];

    @IntelligenceNode({ name: 'retry-node', kind: 'compute', version: '1.0.0' })
    @Injectable()
    class RetryNode {
      @IntelligenceHandler(flakyTopic)
      flaky(_event: IntelligenceEvent, ctx: DispatchContext): void {
        flakyAttempts.push(ctx.attempt);
        if (flakyAttempts.length < 3) throw new Error(`transient failure ${String(ctx.attempt)}`);
        flakySuccesses.push(ctx.attempt);
      }

      @IntelligenceHandler(doomedTopic)
      doomed(_event: IntelligenceEvent, ctx: DispatchContext): void {
        doomedAttempts.push(ctx.attempt);
        throw new Error(`database login failed: password=${CANARY} user=svc`);
      }
    }

    const logs = captureLogs();
    try {
      const app = await apps.start({
        groupId,
        providers: [RetryNode],
        dispatch: { maxAttempts: 3 },
        logger: logs.logger,
      });
      const flaky = envelopeMessage(flakyTopic, { job: 'flaky' });
      const doomed = envelopeMessage(doomedTopic, { job: 'doomed' });
      await producer.send(flakyTopic, [flaky.message]);
      await producer.send(doomedTopic, [doomed.message]);

      await waitFor(() => flakySuccesses.length === 1, 'flaky handler succeeded');
      await waitFor(
        () => dlq.deadLettersOf(DLQ, doomedTopic).length > 0,
        'doomed message dead-lettered',
      );
      await pause(1_000);
      await apps.close(app);

      expect(flakyAttempts).toEqual([1, 2, 3]);
      expect(flakySuccesses).toEqual([3]);
      expect(dlq.deadLettersOf(DLQ, flakyTopic)).toEqual([]);

      expect(doomedAttempts).toEqual([1, 2, 3]);
      const letters = dlq.deadLettersOf(DLQ, doomedTopic);
      expect(letters).toHaveLength(1);
      const letter = letters[0];
      expect(letter?.value?.toString()).toBe(doomed.message.value?.toString());
      expect(letter?.headers).toMatchObject({
        attempts: '3',
        failure_class: 'Error',
        consumer_group: groupId,
        correlation_id: doomed.envelope.correlation_id,
        original_topic: doomedTopic,
      });
      const reason = letter?.headers.failure_reason ?? '';
      expect(reason).toContain('RetryNode.doomed');
      expect(reason).toContain('database login failed');
      expect(reason).not.toContain(CANARY);
      expect(logs.text()).toContain('Handler failed; retrying');
      expect(logs.text()).toContain('Message dead-lettered');
      expect(logs.text()).not.toContain(CANARY);
    } finally {
      logs.restore();
    }
  });
});
