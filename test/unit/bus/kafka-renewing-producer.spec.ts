import { describe, expect, it } from '@jest/globals';
import type { Producer } from 'kafkajs';
import { RenewingProducer } from '../../../src/intelligence/bus/kafka-renewing-producer.js';

interface FakeProducer {
  id: number;
  connected: boolean;
  disconnects: number;
  producer: Producer;
}

function fleet(connectFails: (id: number) => boolean = () => false) {
  const made: FakeProducer[] = [];
  const create = (): Producer => {
    const fake: FakeProducer = {
      id: made.length,
      connected: false,
      disconnects: 0,
      producer: undefined as unknown as Producer,
    };
    fake.producer = {
      connect: () => {
        if (connectFails(fake.id)) return Promise.reject(new Error(`connect ${String(fake.id)}`));
        fake.connected = true;
        return Promise.resolve();
      },
      disconnect: () => {
        fake.disconnects += 1;
        fake.connected = false;
        return Promise.resolve();
      },
    } as unknown as Producer;
    made.push(fake);
    return fake.producer;
  };
  const idOf = (producer: Producer) => made.find((fake) => fake.producer === producer)?.id;
  return { made, create, idOf };
}

const fail = (error: Error) => () => Promise.reject(error);
const never = () => false;
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('RenewingProducer', () => {
  it('sends on a new, connected producer after a failed send of an idempotent one', async () => {
    const { made, create, idOf } = fleet();
    const producers = new RenewingProducer(create(), create, true);
    expect(await producers.run((p) => Promise.resolve(idOf(p)), never)).toBe(0);
    await expect(producers.run(fail(new Error('leader died')), never)).rejects.toThrow('died');
    expect(await producers.run((p) => Promise.resolve(idOf(p)), never)).toBe(1);
    expect(made[1]?.connected).toBe(true);
    await flush();
    expect(made[0]?.disconnects).toBe(1);
    // Healthy again: no further producer.
    expect(await producers.run((p) => Promise.resolve(idOf(p)), never)).toBe(1);
    expect(made).toHaveLength(2);
  });

  it('keeps the producer when the error says nothing was written, or when not idempotent', async () => {
    const kept = fleet();
    const producers = new RenewingProducer(kept.create(), kept.create, true);
    await expect(producers.run(fail(new Error('too large')), () => true)).rejects.toThrow();
    expect(await producers.run((p) => Promise.resolve(kept.idOf(p)), never)).toBe(0);

    const plain = fleet();
    const notIdempotent = new RenewingProducer(plain.create(), plain.create, false);
    await expect(notIdempotent.run(fail(new Error('leader died')), never)).rejects.toThrow();
    expect(await notIdempotent.run((p) => Promise.resolve(plain.idOf(p)), never)).toBe(0);
    expect(plain.made).toHaveLength(1);
  });

  it('lets the old producer finish its sends in flight before it is disconnected', async () => {
    const { made, create, idOf } = fleet();
    const producers = new RenewingProducer(create(), create, true);
    let finish: () => void = () => undefined;
    const slow = producers.run(
      (p) =>
        new Promise<number | undefined>((resolve) => {
          finish = () => {
            resolve(idOf(p));
          };
        }),
      never,
    );
    await expect(producers.run(fail(new Error('leader died')), never)).rejects.toThrow();
    // Both sends waiting for the renewal share one new producer.
    const [a, b] = await Promise.all([
      producers.run((p) => Promise.resolve(idOf(p)), never),
      producers.run((p) => Promise.resolve(idOf(p)), never),
    ]);
    expect([a, b]).toEqual([1, 1]);
    expect(made).toHaveLength(2);
    expect(made[0]?.disconnects).toBe(0);
    finish();
    expect(await slow).toBe(0);
    await flush();
    expect(made[0]?.disconnects).toBe(1);
  });

  it('fails the send when the new producer cannot connect, and tries again on the next one', async () => {
    const { made, create, idOf } = fleet((id) => id === 1);
    const producers = new RenewingProducer(create(), create, true);
    await expect(producers.run(fail(new Error('leader died')), never)).rejects.toThrow();
    await expect(producers.run((p) => Promise.resolve(idOf(p)), never)).rejects.toThrow(
      'connect 1',
    );
    expect(made[1]?.disconnects).toBe(1);
    expect(await producers.run((p) => Promise.resolve(idOf(p)), never)).toBe(2);
  });

  it('close disconnects the current producer and the retired ones still sending', async () => {
    const { made, create } = fleet();
    const producers = new RenewingProducer(create(), create, true);
    const slow = producers.run(() => new Promise<void>(() => undefined), never);
    void slow;
    await expect(producers.run(fail(new Error('leader died')), never)).rejects.toThrow();
    await producers.run(() => Promise.resolve(), never);
    await producers.close();
    expect(made.map(({ disconnects }) => disconnects)).toEqual([1, 1]);
  });
});
