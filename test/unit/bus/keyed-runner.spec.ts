import { describe, expect, it } from '@jest/globals';
import type { BusMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import { runKeyed } from '../../../src/intelligence/bus/keyed-runner.js';
import { pause } from '../../support/wait-for.js';

function messages(keys: (string | null)[]): BusMessage[] {
  return keys.map((key, i) => ({
    topic: 't',
    partition: 0,
    offset: String(i),
    timestamp: '0',
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from(String(i)),
    headers: {},
  }));
}

describe('runKeyed', () => {
  it('runs different keys concurrently, the same key in order', async () => {
    const batch = messages(['a', 'b', 'a', 'c', 'b', 'a']);
    const order: string[] = [];
    let active = 0;
    let peak = 0;
    const result = await runKeyed(batch, 3, async (message) => {
      active += 1;
      peak = Math.max(peak, active);
      await pause(Number(message.offset) % 2 === 0 ? 15 : 5);
      order.push(`${message.key?.toString() ?? ''}${message.offset}`);
      active -= 1;
    });
    expect(result).toEqual({ handled: 6 });
    expect(peak).toBeGreaterThan(1);
    expect(order.filter((entry) => entry.startsWith('a'))).toEqual(['a0', 'a2', 'a5']);
    expect(order.filter((entry) => entry.startsWith('b'))).toEqual(['b1', 'b4']);
  });

  it('runs up to the concurrency at once, never more', async () => {
    let active = 0;
    let peak = 0;
    await runKeyed(messages([null, 'a', 'b', null, 'c', 'd']), 3, async () => {
      active += 1;
      peak = Math.max(peak, active);
      await pause(5);
      active -= 1;
    });
    expect(peak).toBe(3);
  });

  it('reports only the handled prefix after a failure and starts nothing new', async () => {
    const started: string[] = [];
    const result = await runKeyed(messages(['a', 'b', 'c', 'd', 'e', 'f']), 2, async (message) => {
      started.push(message.offset);
      await pause(5);
      if (message.offset === '2') throw new Error('boom');
    });
    expect(result.handled).toBe(2);
    expect((result.error as Error).message).toBe('boom');
    expect(started).not.toContain('5');
  });

  it('stops taking messages when told to', async () => {
    let calls = 0;
    const result = await runKeyed(
      messages(['a', 'b', 'c', 'd']),
      1,
      () => {
        calls += 1;
        return Promise.resolve();
      },
      () => calls < 2,
    );
    expect(result).toEqual({ handled: 2 });
  });
});
