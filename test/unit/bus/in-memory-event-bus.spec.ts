import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { BusMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import { BusBufferFullError, RetryLaterError } from '../../../src/intelligence/bus/bus.errors.js';
import { InMemoryEventBus } from '../../../src/intelligence/bus/in-memory-event-bus.js';
import { pause, waitFor } from '../../support/wait-for.js';

describe('InMemoryEventBus', () => {
  const bus = new InMemoryEventBus({ partitions: 2, maxBufferedPerTopic: 5 });

  afterEach(async () => {
    await bus.disconnect();
  });

  const values = (messages: BusMessage[]) => messages.map((m) => m.value?.toString());

  it('starts a new group at the end of the topic unless it asks for the beginning', async () => {
    await bus.connect();
    await bus.publish('t.start', { key: 'k', value: 'old' });
    const late: BusMessage[] = [];
    const early: BusMessage[] = [];
    await bus.subscribe(['t.start'], 'late', (m) => Promise.resolve(void late.push(m)));
    await bus.subscribe(['t.start'], 'early', (m) => Promise.resolve(void early.push(m)), {
      fromBeginning: true,
    });
    await bus.publish('t.start', { key: 'k', value: 'new' });
    await waitFor(() => early.length === 2 && late.length === 1, 'deliveries');
    expect(values(late)).toEqual(['new']);
    expect(values(early)).toEqual(['old', 'new']);
  });

  it('refuses messages with a clear error when a group falls behind the buffer bound', async () => {
    await bus.connect();
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => (release = resolve));
    await bus.subscribe(['t.full'], 'slow', () => blocked);
    for (let i = 0; i < 5; i++) await bus.publish('t.full', { key: 'k', value: String(i) });
    await expect(bus.publish('t.full', { key: 'k', value: 'overflow' })).rejects.toThrow(
      BusBufferFullError,
    );
    await expect(bus.publish('t.full', { value: 'x' })).rejects.toThrow(/not keeping up/);
    release();
  });

  it('keeps only the newest messages of a topic no group reads, without failing publishers', async () => {
    await bus.connect();
    for (let i = 0; i < 20; i++) await bus.publish('t.unread', { key: 'k', value: String(i) });
    const seen: BusMessage[] = [];
    await bus.subscribe(['t.unread'], 'g', (m) => Promise.resolve(void seen.push(m)), {
      fromBeginning: true,
    });
    await waitFor(() => seen.length === 5, 'retained messages');
    expect(values(seen)).toEqual(['15', '16', '17', '18', '19']);
  });

  it('waits the delay a handler asks for with RetryLaterError, then delivers again', async () => {
    await bus.connect();
    const attempts: number[] = [];
    await bus.subscribe(['t.later'], 'g', () => {
      attempts.push(Date.now());
      return attempts.length === 1 ? Promise.reject(new RetryLaterError(150)) : Promise.resolve();
    });
    await bus.publish('t.later', { value: 'x' });
    await waitFor(() => attempts.length === 2, 'second attempt');
    expect((attempts[1] ?? 0) - (attempts[0] ?? 0)).toBeGreaterThanOrEqual(140);
  });

  it('leaves no timer behind when closed while waiting to redeliver', async () => {
    await bus.connect();
    const created: unknown[] = [];
    const cleared = new Set<unknown>();
    const realSetTimeout = globalThis.setTimeout;
    const realClearTimeout = globalThis.clearTimeout;
    const setSpy = jest
      .spyOn(globalThis, 'setTimeout')
      .mockImplementation((fn: () => void, ms?: number) => {
        const timer = realSetTimeout(fn, ms);
        if (ms === 60_000) created.push(timer);
        return timer;
      });
    const clearSpy = jest.spyOn(globalThis, 'clearTimeout').mockImplementation((timer) => {
      cleared.add(timer);
      realClearTimeout(timer);
    });
    try {
      const subscription = await bus.subscribe(['t.close'], 'g', () =>
        Promise.reject(new RetryLaterError(60_000)),
      );
      await bus.publish('t.close', { value: 'x' });
      await waitFor(() => created.length === 1, 'redelivery timer armed');
      await subscription.close();
      expect(created.filter((timer) => !cleared.has(timer))).toEqual([]);
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
  });

  it('never strands a message published while a partition pump is finishing', async () => {
    const hops = new InMemoryEventBus({ partitions: 4 });
    await hops.connect();
    const seen: number[] = [];
    const relay = async (message: BusMessage) => {
      const hop = Number(message.value?.toString());
      seen.push(hop);
      if (hop < 300)
        await hops.publish('t.relay', { key: `k${String(hop + 1)}`, value: String(hop + 1) });
    };
    await hops.subscribe(['t.relay'], 'a', relay);
    await hops.subscribe(['t.relay'], 'b', () => Promise.resolve());
    await hops.publish('t.relay', { key: 'k0', value: '0' });
    await waitFor(() => seen.at(-1) === 300, 'the relay reached hop 300', 5_000);
    await hops.disconnect();
  });

  it('waits for in-flight handlers when a subscription closes', async () => {
    await bus.connect();
    let finished = false;
    const subscription = await bus.subscribe(['t.drain'], 'g', async () => {
      await pause(50);
      finished = true;
    });
    await bus.publish('t.drain', { value: 'x' });
    await pause(5);
    await subscription.close();
    expect(finished).toBe(true);
  });
});
