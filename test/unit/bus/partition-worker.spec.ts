import { describe, expect, it } from '@jest/globals';
import type {
  BusMessage,
  HandlerResult,
  MessageHandler,
} from '../../../src/intelligence/bus/bus-message.interface.js';
import { RetryLaterError } from '../../../src/intelligence/bus/bus.errors.js';
import {
  PartitionWorker,
  type PartitionWorkerOptions,
} from '../../../src/intelligence/bus/partition-worker.js';
import { pause, waitFor } from '../../support/wait-for.js';

function messages(keys: (string | null)[], from = 0): BusMessage[] {
  return keys.map((key, i) => ({
    topic: 't',
    partition: 0,
    offset: String(from + i),
    timestamp: '0',
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from(String(from + i)),
    headers: {},
  }));
}

/** A promise with its resolve and reject, for handlers the test finishes by hand. */
function deferred() {
  let resolve: () => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function worker(handler: MessageHandler, options: Partial<PartitionWorkerOptions> = {}) {
  const events = { room: 0, stuck: 0, unstuck: 0 };
  const created = new PartitionWorker('t', 0, handler, {
    concurrency: 1,
    capacity: 1_000,
    redelivery: { initialMs: 5, maxMs: 20 },
    onRoom: () => (events.room += 1),
    onStuck: () => (events.stuck += 1),
    onUnstuck: () => (events.unstuck += 1),
    ...options,
  });
  return { worker: created, events };
}

describe('PartitionWorker', () => {
  it('handles one message at a time, in offset order, with concurrency 1', async () => {
    const order: string[] = [];
    let active = 0;
    let peak = 0;
    const { worker: w } = worker(async (message) => {
      active += 1;
      peak = Math.max(peak, active);
      await pause(Number(message.offset) % 2 === 0 ? 6 : 1);
      order.push(message.offset);
      active -= 1;
    });
    w.push(messages(['a', 'b', 'c', null, 'a']));
    await waitFor(() => w.committable === '5', 'all handled');
    expect(order).toEqual(['0', '1', '2', '3', '4']);
    expect(peak).toBe(1);
  });

  it('runs different keys at once and each key in order, committing only the handled prefix', async () => {
    const gates = new Map<string, ReturnType<typeof deferred>>();
    const order: string[] = [];
    const { worker: w } = worker(
      (message) => {
        const gate = deferred();
        gates.set(message.offset, gate);
        return gate.promise.then(() => {
          order.push(message.offset);
        });
      },
      { concurrency: 3 },
    );
    w.push(messages(['a', 'b', 'a', 'c']));
    // a@0, b@1, c@3 start; a@2 waits for a@0.
    expect([...gates.keys()]).toEqual(['0', '1', '3']);
    gates.get('1')?.resolve();
    gates.get('3')?.resolve();
    await waitFor(() => order.length === 2, 'b and c handled');
    expect(w.committable).toBeUndefined(); // offset 0 still runs
    gates.get('0')?.resolve();
    await waitFor(() => gates.has('2'), 'a@2 started after a@0');
    expect(w.committable).toBe('2');
    gates.get('2')?.resolve();
    await waitFor(() => w.committable === '4', 'all handled');
    expect(order).toEqual(['1', '3', '0', '2']);
  });

  it('retries a failing message after the backoff; only its key waits meanwhile', async () => {
    let failures = 0;
    const order: string[] = [];
    const { worker: w, events } = worker(
      (message) => {
        if (message.offset === '0' && failures < 2) {
          failures += 1;
          return Promise.reject(new RetryLaterError(30));
        }
        order.push(message.offset);
        return Promise.resolve();
      },
      { concurrency: 2 },
    );
    w.push(messages(['slow', 'fast', 'slow', 'fast']));
    await waitFor(() => order.length === 2, 'the other key handled');
    expect(order).toEqual(['1', '3']);
    expect(w.committable).toBeUndefined();
    expect(events).toEqual({ room: 0, stuck: 1, unstuck: 0 });
    await waitFor(() => w.committable === '4', 'the failing key handled after its retries');
    expect(order).toEqual(['1', '3', '0', '2']);
    expect(failures).toBe(2);
    expect(events.unstuck).toBe(1);
  });

  it('holds the whole partition behind a failing message with concurrency 1', async () => {
    let failed = false;
    const order: string[] = [];
    const { worker: w } = worker((message) => {
      if (message.offset === '1' && !failed) {
        failed = true;
        return Promise.reject(new Error('once'));
      }
      order.push(message.offset);
      return Promise.resolve();
    });
    w.push(messages(['a', 'b', 'c']));
    await waitFor(() => w.committable === '3', 'all handled');
    expect(order).toEqual(['0', '1', '2']);
  });

  it('reports full at capacity and calls onRoom once drained to half', async () => {
    const gates: ReturnType<typeof deferred>[] = [];
    const { worker: w, events } = worker(
      () => {
        const gate = deferred();
        gates.push(gate);
        return gate.promise;
      },
      { capacity: 4 },
    );
    expect(w.push(messages(['a', 'b', 'c']))).toBe(false);
    expect(w.push(messages(['d'], 3))).toBe(true);
    expect(w.full).toBe(true);
    gates[0]?.resolve();
    await waitFor(() => gates.length === 2, 'second started');
    expect(events.room).toBe(0); // 3 held: above half
    gates[1]?.resolve();
    await waitFor(() => events.room === 1, 'room again at half');
    expect(w.buffered).toBe(2);
  });

  it('ignores messages at or below an offset already pushed', async () => {
    const seen: string[] = [];
    const { worker: w } = worker((message) => {
      seen.push(message.offset);
      return Promise.resolve();
    });
    w.push(messages(['a', 'b', 'c']));
    w.push(messages(['b', 'c', 'd'], 1));
    w.push(messages(['x'], 9));
    await waitFor(() => w.committable === '10', 'handled');
    expect(seen).toEqual(['0', '1', '2', '3', '9']);
  });

  it('starts nothing after revoke, cancels retries, and tells when running handlers are idle', async () => {
    const gate = deferred();
    const started: string[] = [];
    let attempts = 0;
    const { worker: w, events } = worker(
      (message) => {
        started.push(message.offset);
        if (message.offset === '1') {
          attempts += 1;
          return Promise.reject(new RetryLaterError(20));
        }
        return gate.promise;
      },
      { concurrency: 2 },
    );
    w.push(messages(['a', 'b', 'a']));
    await waitFor(() => attempts === 1, 'b failed once');
    w.revoke();
    expect(events.unstuck).toBe(events.stuck);
    let idle = false;
    const idlePromise = w.idle().then(() => (idle = true));
    await pause(40);
    expect(idle).toBe(false);
    gate.resolve();
    await idlePromise;
    await pause(40);
    expect(started).toEqual(['0', '1']); // a@2 never started, b never retried
    expect(attempts).toBe(1);
    expect(w.committable).toBe('1');
    expect(w.push(messages(['c'], 3))).toBe(false);
    expect(w.running).toBe(0);
  });

  it('goes on past a pending acknowledgement and commits it only once settled', async () => {
    const settles = [deferred(), deferred()];
    const order: string[] = [];
    let settleAttempts = 0;
    const { worker: w } = worker((message): HandlerResult => {
      order.push(message.offset);
      if (message.offset === '0') {
        const settle = settles[settleAttempts++];
        return Promise.resolve(settle ? { settled: settle.promise } : undefined);
      }
      return Promise.resolve();
    });
    w.push(messages(['a', 'b', 'c']));
    await waitFor(() => order.length === 3, 'later messages went on');
    expect(w.committable).toBeUndefined();
    expect(w.running).toBe(1);
    settles[0]?.reject(new RetryLaterError(5));
    await waitFor(() => order.length === 4, 'delivered again after the failed settle');
    expect(w.committable).toBeUndefined();
    settles[1]?.resolve();
    await waitFor(() => w.committable === '3', 'settled: the prefix moves past it');
    expect(order).toEqual(['0', '1', '2', '0']);
    expect(w.running).toBe(0);
  });

  it('lets timers run while it works a long queue of instant handlers', async () => {
    let handled = 0;
    const { worker: w } = worker(() => {
      handled += 1;
      return Promise.resolve();
    });
    let handledWhenTimerRan = -1;
    setTimeout(() => (handledWhenTimerRan = handled), 0);
    w.push(messages(Array.from({ length: 5_000 }, () => 'k')));
    await waitFor(() => w.committable === '5000', 'all handled');
    expect(handledWhenTimerRan).toBeGreaterThanOrEqual(0);
    expect(handledWhenTimerRan).toBeLessThan(5_000);
  });
});
