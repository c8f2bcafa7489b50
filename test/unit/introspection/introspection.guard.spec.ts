import { describe, expect, it } from '@jest/globals';
import {
  IntrospectionAlreadyPublishedError,
  IntrospectionGuard,
} from '../../../src/intelligence/introspection/introspection.guard.js';

function deferred<T>() {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: Error) => void = () => undefined;
  const promise = new Promise<T>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

describe('IntrospectionGuard', () => {
  it('shares one in-flight publish between concurrent callers', async () => {
    const guard = new IntrospectionGuard();
    const publish = deferred<string>();
    let calls = 0;
    const run = () =>
      guard.run(() => {
        calls += 1;
        return publish.promise;
      });
    const first = run();
    const second = run();
    publish.resolve('published');
    await expect(Promise.all([first, second])).resolves.toEqual(['published', 'published']);
    expect(calls).toBe(1);
  });

  it('refuses a second publish once one succeeded, until reset', async () => {
    const guard = new IntrospectionGuard();
    await guard.run(() => Promise.resolve(1));
    await expect(guard.run(() => Promise.resolve(2))).rejects.toThrow(
      IntrospectionAlreadyPublishedError,
    );
    await expect(guard.run(() => Promise.resolve(2))).rejects.toThrow(/already called/);
    guard.reset();
    expect(guard.acquired).toBe(false);
    await expect(guard.run(() => Promise.resolve(3))).resolves.toBe(3);
  });

  it('is not left half-set by a failed publish', async () => {
    const guard = new IntrospectionGuard();
    await expect(guard.run(() => Promise.reject(new Error('broker down')))).rejects.toThrow(
      'broker down',
    );
    expect(guard.acquired).toBe(false);
    await expect(guard.run(() => Promise.resolve('retry works'))).resolves.toBe('retry works');
  });

  it('turns a synchronous throw into a rejection and stays open', async () => {
    const guard = new IntrospectionGuard();
    await expect(
      guard.run(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(guard.acquired).toBe(false);
  });

  it('is not set by a publish that finishes after a reset', async () => {
    const guard = new IntrospectionGuard();
    const publish = deferred<undefined>();
    const running = guard.run(() => publish.promise);
    expect(guard.acquired).toBe(true);
    guard.reset();
    publish.resolve(undefined);
    await running;
    expect(guard.acquired).toBe(false);
  });
});
