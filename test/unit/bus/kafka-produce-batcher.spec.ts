import { describe, expect, it } from '@jest/globals';
import type { OutgoingMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import { ProduceBatcher } from '../../../src/intelligence/bus/kafka-produce-batcher.js';

function recorder(fail?: (batch: string[]) => boolean) {
  const sent: string[][] = [];
  let release: () => void = () => undefined;
  let gate: Promise<void> = Promise.resolve();
  const send = async (_topic: string, messages: OutgoingMessage[]) => {
    const batch = messages.map((message) => String(message.value));
    sent.push(batch);
    await gate;
    if (fail?.(batch)) throw new Error(`refused ${batch.join(',')}`);
  };
  const hold = () => {
    gate = new Promise<void>((resolve) => (release = resolve));
  };
  return {
    sent,
    send,
    hold,
    release: () => {
      release();
    },
  };
}

describe('ProduceBatcher', () => {
  it('sends at once when idle and packs what arrives while a request is in flight', async () => {
    const rec = recorder();
    rec.hold();
    const batcher = new ProduceBatcher(rec.send);
    const first = batcher.add('t', { value: 'a' });
    const rest = ['b', 'c', 'd'].map((value) => batcher.add('t', { value }));
    expect(rec.sent).toEqual([['a']]);
    rec.release();
    await Promise.all([first, ...rest]);
    expect(rec.sent).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('keeps topics independent and caps a request at maxBatch messages', async () => {
    const rec = recorder();
    rec.hold();
    const batcher = new ProduceBatcher(rec.send, 2);
    const sends = [batcher.add('x', { value: 'x1' }), batcher.add('y', { value: 'y1' })];
    sends.push(...['x2', 'x3', 'x4'].map((value) => batcher.add('x', { value })));
    expect(rec.sent).toEqual([['x1'], ['y1']]);
    rec.release();
    await Promise.all(sends);
    expect(rec.sent).toEqual([['x1'], ['y1'], ['x2', 'x3'], ['x4']]);
  });

  it('fails every publish of a failed request, and only those', async () => {
    const rec = recorder((batch) => batch.includes('bad'));
    rec.hold();
    const batcher = new ProduceBatcher(rec.send);
    const first = batcher.add('t', { value: 'ok' });
    const doomed = [batcher.add('t', { value: 'bad' }), batcher.add('t', { value: 'neighbour' })];
    rec.release();
    await expect(first).resolves.toBeUndefined();
    await expect(doomed[0]).rejects.toThrow('refused bad,neighbour');
    await expect(doomed[1]).rejects.toThrow('refused bad,neighbour');
    await expect(batcher.add('t', { value: 'later' })).resolves.toBeUndefined();
  });
});
