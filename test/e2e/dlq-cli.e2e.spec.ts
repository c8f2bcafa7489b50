import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DeadLetterEntry } from '../../src/intelligence/delivery/dead-letter-entry.js';
import type { ReplayReport } from '../../src/intelligence/delivery/replay-report.js';
import { createTopics, RawTopicReader, TestProducer } from '../support/dispatch-kafka.js';
import { kafkaBrokers } from '../support/kafka-env.js';
import { uniqueTopic } from '../support/unique-names.js';
import { waitFor } from '../support/wait-for.js';

const execute = promisify(execFile);
const CLI = 'dist/intelligence/delivery/dlq.cli.js';

/** Runs the built `intelligence-dlq` on a clean environment plus `env`. */
async function dlq(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await execute('node', [CLI, ...args], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '', KAFKA_BROKERS: kafkaBrokers().join(','), ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('the intelligence-dlq command on the real broker', () => {
  const topic = uniqueTopic('cli-orders');
  const deadLetters = `onex.dlq.test.cli-${randomUUID().slice(0, 8)}.v1`;
  let original: RawTopicReader;

  beforeAll(async () => {
    await createTopics([topic, deadLetters]);
    const producer = await new TestProducer().start();
    await producer.send(deadLetters, [
      {
        key: 'order-1',
        value: '{"order":1}',
        headers: {
          original_topic: topic,
          original_partition: '0',
          original_offset: '41',
          original_timestamp: String(Date.now()),
          consumer_group: 'orders-group',
          failure_reason: 'Orders.handle: PermanentHandlerError: closed',
          failure_class: 'PermanentHandlerError',
          failure_timestamp: new Date().toISOString(),
          attempts: '1',
        },
      },
    ]);
    await producer.stop();
    original = await new RawTopicReader().start([topic]);
  }, 180_000);

  afterAll(async () => {
    await original.stop();
  });

  it('lists, replays once, and sends nothing on the second replay', async () => {
    const listed = await dlq(['list', '--topic', deadLetters, '--json']);
    expect(listed.code).toBe(0);
    const entries = JSON.parse(listed.stdout) as DeadLetterEntry[];
    expect(entries).toMatchObject([
      { original: { topic, offset: '41' }, failureClass: 'PermanentHandlerError', attempts: 1 },
    ]);

    const first = await dlq(['replay', '--topic', deadLetters, '--original-topic', topic]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Replayed 1 dead letter');
    await waitFor(() => original.of(topic).length === 1, 'the replay on the original topic');
    expect(original.of(topic)[0]).toMatchObject({
      key: 'order-1',
      headers: { replayed_from: entries[0]?.id },
    });

    const second = await dlq(['replay', '--topic', deadLetters, '--json']);
    expect(second.code).toBe(0);
    const report = JSON.parse(second.stdout) as ReplayReport;
    expect(report.sent).toEqual([]);
    expect(report.skipped).toHaveLength(1);
  }, 120_000);

  it('exits 2 on bad arguments and 1 when the broker cannot be reached', async () => {
    const bad = await dlq(['replay', '--since', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since must be an ISO-8601 time');
    const unreachable = await dlq(['list', '--topic', deadLetters], {
      KAFKA_BROKERS: '127.0.0.1:1',
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('intelligence-dlq list failed');
  }, 60_000);
});
