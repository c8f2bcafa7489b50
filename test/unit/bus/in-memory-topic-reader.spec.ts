import { describe, expect, it } from '@jest/globals';
import type {
  BusHealth,
  Subscription,
} from '../../../src/intelligence/bus/bus-message.interface.js';
import { UnsupportedBusCapabilityError } from '../../../src/intelligence/bus/bus.errors.js';
import { EventBus } from '../../../src/intelligence/bus/event-bus.js';
import { InMemoryEventBus } from '../../../src/intelligence/bus/in-memory-event-bus.js';
import { describeTopicReaderContract, readAll } from '../../support/topic-reader-contract.js';
import { uniqueGroup, uniqueTopic } from '../../support/unique-names.js';
import { waitFor } from '../../support/wait-for.js';

describeTopicReaderContract('InMemoryEventBus', {
  createBus: () => new InMemoryEventBus({ partitions: 3 }),
  createTopic: () => Promise.resolve(uniqueTopic()),
  partitions: 3,
});

describe('InMemoryEventBus reader history', () => {
  it('still reads messages every group consumed, up to readerHistory per partition', async () => {
    const bus = new InMemoryEventBus({ partitions: 1, readerHistory: 5 });
    await bus.connect();
    const topic = uniqueTopic();
    let handled = 0;
    const subscription: Subscription = await bus.subscribe([topic], uniqueGroup(), () => {
      handled += 1;
      return Promise.resolve();
    });
    await bus.publishBatch(
      topic,
      Array.from({ length: 12 }, (_, i) => ({ value: `m${String(i)}` })),
    );
    await waitFor(
      () => handled === 12 && bus.health().subscriptions[0]?.lag[topic]?.[0] === 0,
      'every message consumed and acknowledged',
    );
    const reader = await bus.openReader();
    const read = await readAll(reader, topic);
    expect(read.map((m) => m.value?.toString())).toEqual(['m7', 'm8', 'm9', 'm10', 'm11']);
    expect(read.map((m) => m.offset)).toEqual(['7', '8', '9', '10', '11']);
    await subscription.close();
    await reader.close();
    await bus.disconnect();
  });

  it('reads unconsumed messages beyond the history, and nothing consumed with readerHistory 0', async () => {
    const bus = new InMemoryEventBus({ partitions: 1, readerHistory: 0 });
    await bus.connect();
    const unread = uniqueTopic('unread');
    await bus.publishBatch(unread, [{ value: 'a' }, { value: 'b' }]);
    const reader = await bus.openReader();
    await expect(readAll(reader, unread)).resolves.toHaveLength(2);
    const consumed = uniqueTopic('consumed');
    let handled = 0;
    const subscription = await bus.subscribe([consumed], uniqueGroup(), () => {
      handled += 1;
      return Promise.resolve();
    });
    await bus.publish(consumed, { value: 'gone' });
    await waitFor(
      () => handled === 1 && bus.health().subscriptions[0]?.lag[consumed]?.[0] === 0,
      'consumed and acknowledged',
    );
    await expect(readAll(reader, consumed)).resolves.toEqual([]);
    await subscription.close();
    await bus.disconnect();
  });
});

describe('EventBus.openReader on an adapter without it', () => {
  class MinimalBus extends EventBus {
    connect = () => Promise.resolve();
    publish = () => Promise.resolve();
    publishBatch = () => Promise.resolve();
    subscribe = (): Promise<Subscription> => Promise.reject(new Error('not needed'));
    disconnect = () => Promise.resolve();
    health = (): BusHealth => ({
      kind: 'minimal',
      connected: true,
      brokers: [],
      subscriptions: [],
    });
  }

  it('rejects with UnsupportedBusCapabilityError naming the adapter', async () => {
    const error = await new MinimalBus().openReader().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnsupportedBusCapabilityError);
    expect((error as Error).message).toBe(
      'MinimalBus does not support reading topics (openReader)',
    );
  });
});
