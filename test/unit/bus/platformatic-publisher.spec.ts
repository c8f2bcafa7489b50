import { describe, expect, it } from '@jest/globals';
import {
  sendBatch,
  type BusProducer,
} from '../../../src/intelligence/bus/platformatic-publisher.js';

/** A failure as @platformatic/kafka reports it: `findBy` searches the error chain. */
function clientError(message: string, canRetry: boolean): Error {
  return Object.assign(new Error(message), {
    findBy: (name: string, value: unknown) =>
      name === 'canRetry' && value === canRetry ? {} : undefined,
  });
}

/** A producer whose sends fail with `failures`, in order, then succeed. */
function fakeProducer(failures: Error[] = []) {
  const calls: string[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const producer = {
    send: async ({ messages }: { messages: { value: unknown }[] }) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      calls.push(`send ${messages.map(({ value }) => String(value)).join(',')}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      const failure = failures.shift();
      if (failure) throw failure;
      return {};
    },
    clearMetadata: () => calls.push('clearMetadata'),
    initIdempotentProducer: () => {
      calls.push('renew');
      return Promise.resolve();
    },
  };
  return { producer: producer as unknown as BusProducer, calls, mostInFlight: () => mostInFlight };
}

describe('sendBatch on @platformatic/kafka', () => {
  it('sends again on fresh metadata, with a new producer id, until the new leader takes it', async () => {
    const dead = () => clientError('connect ECONNREFUSED (the old leader)', true);
    const { producer, calls } = fakeProducer([dead(), dead(), dead()]);

    await sendBatch(producer, 't', [{ value: 'a' }], true);

    expect(calls.filter((call) => call === 'send a')).toHaveLength(4);
    expect(calls.filter((call) => call === 'renew')).toHaveLength(3);
    expect(calls.filter((call) => call === 'clearMetadata')).toHaveLength(3);
  });

  it('gives up after one resend on an error the client will not retry', async () => {
    const refused = clientError('TOPIC_AUTHORIZATION_FAILED', false);
    const { producer, calls } = fakeProducer([refused, refused, refused]);

    await expect(sendBatch(producer, 't', [{ value: 'a' }], true)).rejects.toBe(refused);
    expect(calls.filter((call) => call === 'send a')).toHaveLength(2);
  });

  it('never resends a batch the broker refuses as too large', async () => {
    const tooLarge = Object.assign(new Error('too large'), { apiId: 'MESSAGE_TOO_LARGE' });
    const { producer, calls } = fakeProducer([tooLarge]);

    await expect(sendBatch(producer, 't', [{ value: 'big' }], true)).rejects.toBeDefined();
    expect(calls.filter((call) => call.startsWith('send'))).toHaveLength(1);
  });

  it('has one send of an idempotent producer in flight at a time, in order; others at once', async () => {
    const idempotent = fakeProducer();
    await Promise.all(
      ['a', 'b', 'c'].map((value) => sendBatch(idempotent.producer, 't', [{ value }], true)),
    );
    expect(idempotent.mostInFlight()).toBe(1);
    expect(idempotent.calls).toEqual(['send a', 'send b', 'send c']);

    const plain = fakeProducer();
    await Promise.all(
      ['a', 'b'].map((value) => sendBatch(plain.producer, 't', [{ value }], false)),
    );
    expect(plain.mostInFlight()).toBe(2);
  });

  it('goes on with the next send after one failed for good', async () => {
    const refused = clientError('refused', false);
    const { producer, calls } = fakeProducer([refused, refused]);
    const first = sendBatch(producer, 't', [{ value: 'a' }], true);
    const second = sendBatch(producer, 't', [{ value: 'b' }], true);

    await expect(first).rejects.toBe(refused);
    await expect(second).resolves.toBeUndefined();
    expect(calls.filter((call) => call.startsWith('send'))).toEqual(['send a', 'send a', 'send b']);
  });
});
