import { beforeEach, describe, expect, it } from '@jest/globals';
import type { BusMessage } from '../../../src/intelligence/bus/bus-message.interface.js';
import { InMemoryEventBus } from '../../../src/intelligence/bus/in-memory-event-bus.js';
import type { DatabaseTransaction } from '../../../src/intelligence/database/database-transaction.js';
import {
  IdempotencyStore,
  type IdempotencyScope,
} from '../../../src/intelligence/delivery/idempotency-store.js';
import { InMemoryIdempotencyStore } from '../../../src/intelligence/delivery/in-memory-idempotency.store.js';
import type { DispatchContext } from '../../../src/intelligence/dispatch/dispatch-context.interface.js';
import { DispatchEngine } from '../../../src/intelligence/dispatch/dispatch.engine.js';
import { NoDatabaseError } from '../../../src/intelligence/dispatch/handler-context.js';
import { resolveIntelligenceConfig } from '../../../src/intelligence/intelligence.config.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';
import { createEnvelope, toOutgoing } from '../../../src/intelligence/wire/envelope.js';
import type { IntelligenceEvent } from '../../../src/intelligence/wire/intelligence-event.interface.js';

const TOPIC = 'onex.cmd.test.work-requested.v1';
const HANDLER = 'Worker.work';

/** A store that answers through promises, as a database does, and records what it was asked. */
class AsyncStore extends IdempotencyStore {
  readonly keys = new Set<string>();
  readonly calls: string[] = [];
  failSeen = false;
  failRecord = false;

  seen(scope: IdempotencyScope, key: string): Promise<boolean> {
    this.calls.push(`seen ${scope.groupId}/${scope.handler}/${key}`);
    if (this.failSeen) return Promise.reject(new Error('database unreachable'));
    return Promise.resolve(this.keys.has(key));
  }

  record(scope: IdempotencyScope, key: string, tx?: DatabaseTransaction): Promise<boolean> {
    this.calls.push(`record ${key}${tx ? ' in tx' : ''}`);
    if (this.failRecord) return Promise.reject(new Error('database unreachable'));
    const fresh = !this.keys.has(key);
    this.keys.add(key);
    return Promise.resolve(fresh);
  }
}

/** Runs `fn` with a stand-in transaction whose commit callbacks run when `fn` resolves. */
function transactionsOf(log: string[]) {
  return async <T>(fn: (tx: DatabaseTransaction) => Promise<T>): Promise<T> => {
    const callbacks: (() => void)[] = [];
    const tx = { onCommit: (callback: () => void) => callbacks.push(callback) };
    try {
      const result = await fn(tx as unknown as DatabaseTransaction);
      log.push('commit');
      for (const callback of callbacks) callback();
      return result;
    } catch (error) {
      log.push('rollback');
      throw error;
    }
  };
}

function message(id: string, offset = '0'): BusMessage {
  const outgoing = toOutgoing(createEnvelope({ topic: TOPIC, payload: { id } }));
  return {
    topic: TOPIC,
    partition: 0,
    offset,
    timestamp: String(Date.now()),
    key: null,
    value: Buffer.from(outgoing.value as string),
    headers: { ...outgoing.headers },
  };
}

describe('DispatchEngine idempotency', () => {
  const config = resolveIntelligenceConfig({ serviceName: 'test', groupId: 'g1' });
  let engine: DispatchEngine;
  let runs: string[];
  let handle: (event: IntelligenceEvent, ctx: DispatchContext) => Promise<void>;

  beforeEach(() => {
    engine = new DispatchEngine(config, new LogSanitizer());
    runs = [];
    handle = (event) => {
      runs.push((event.payload as { id: string }).id);
      return Promise.resolve();
    };
  });

  const load = (resources: Parameters<DispatchEngine['load']>[2]) => {
    engine.load(
      [
        {
          topic: TOPIC,
          name: HANDLER,
          node: 'worker',
          invoke: (event, ctx) => handle(event, ctx),
          idempotencyKey: (event) => (event.payload as { id: string }).id,
        },
      ],
      new InMemoryEventBus(),
      resources,
    );
  };
  const skipped = () => engine.metrics().perHandler[HANDLER]?.duplicatesSkipped ?? 0;

  it('asks an asynchronous store before the run, records after it, and skips a recorded key', async () => {
    const store = new AsyncStore();
    load({ idempotency: store });
    expect(await engine.dispatch(message('a'))).toMatchObject({ status: 'success' });
    expect(await engine.dispatch(message('a', '1'))).toMatchObject({ status: 'success' });
    expect(runs).toEqual(['a']);
    expect(store.calls).toEqual(['seen g1/Worker.work/a', 'record a', 'seen g1/Worker.work/a']);
    expect(skipped()).toBe(1);
  });

  it('does not run the handler when the store cannot answer: a transient failure, retried', async () => {
    const store = new AsyncStore();
    store.failSeen = true;
    load({ idempotency: store });
    const outcome = await engine.dispatch(message('a'));
    expect(outcome).toMatchObject({ status: 'handler_error' });
    expect(outcome.status === 'handler_error' && outcome.failures[0]?.permanent).toBe(false);
    expect(runs).toEqual([]);
  });

  it('counts a run whose key could not be recorded as handled (its effects stand)', async () => {
    const store = new AsyncStore();
    store.failRecord = true;
    load({ idempotency: store });
    expect(await engine.dispatch(message('a'))).toMatchObject({ status: 'success' });
    expect(runs).toEqual(['a']);
  });

  it('records the key in the handler transaction, once, and skips the redelivery', async () => {
    const store = new InMemoryIdempotencyStore();
    const log: string[] = [];
    load({ idempotency: store, transactions: transactionsOf(log) });
    handle = (event, ctx) =>
      ctx.transaction(() => {
        runs.push((event.payload as { id: string }).id);
        return Promise.resolve();
      });
    expect(await engine.dispatch(message('a'))).toMatchObject({ status: 'success' });
    expect(await engine.dispatch(message('a', '1'))).toMatchObject({ status: 'success' });
    expect(runs).toEqual(['a']);
    expect(log).toEqual(['commit']);
    expect(skipped()).toBe(1);
  });

  it('rolls the transaction back and skips the run when another delivery recorded the key first', async () => {
    const store = new AsyncStore();
    const log: string[] = [];
    load({ idempotency: store, transactions: transactionsOf(log) });
    handle = (_event, ctx) =>
      ctx.transaction(() => {
        // Another instance handles the same message meanwhile and commits its record first.
        store.keys.add('a');
        return Promise.resolve();
      });
    expect(await engine.dispatch(message('a'))).toMatchObject({ status: 'success' });
    expect(log).toEqual(['rollback']);
    expect(skipped()).toBe(1);
    expect(store.calls).toEqual(['seen g1/Worker.work/a', 'record a in tx']);
  });

  it('fails ctx.transaction without a database, naming the option', async () => {
    load({});
    let error: unknown;
    handle = (_event, ctx) =>
      ctx
        .transaction(() => Promise.resolve())
        .catch((caught: unknown) => {
          error = caught;
          throw caught;
        });
    expect(await engine.dispatch(message('a'))).toMatchObject({ status: 'handler_error' });
    expect(error).toBeInstanceOf(NoDatabaseError);
    expect(String(error)).toMatch(/`database` option/);
  });
});
