import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ClusterWatch } from '../../../src/intelligence/bus/cluster-watch.js';
import {
  PartitionWatch,
  type PartitionState,
} from '../../../src/intelligence/bus/partition-watch.js';
import { ProduceStalls } from '../../../src/intelligence/bus/produce-stalls.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';

const ALL = [1, 2, 3];

function partition(p: number, leader: number, isr: number[] = ALL): PartitionState {
  return { topic: 't', partition: p, leader, replicas: ALL, isr };
}

describe('PartitionWatch', () => {
  it('names under-replicated and leaderless partitions, and counts leader moves across an election', () => {
    const watch = new PartitionWatch();
    watch.observe([partition(0, 1), partition(1, 2)], 0);
    expect(watch.trouble()).toEqual([]);
    expect(watch.health().leaderChanges).toBe(0);

    watch.observe([partition(0, -1, [2, 3]), partition(1, 2, [2, 3])], 1_000);
    expect(watch.trouble()).toEqual(['under-replicated t-1', 'leaderless t-0']);
    expect(watch.health().leaderChanges).toBe(0);

    watch.observe([partition(0, 3, [2, 3]), partition(1, 2, [2, 3])], 2_000);
    expect(watch.health()).toEqual({
      underReplicated: ['t-0', 't-1'],
      leaderless: [],
      leaderChanges: 1,
      lastLeaderChange: { partition: 't-0', from: 1, to: 3, at: new Date(2_000).toISOString() },
    });

    watch.observe([partition(0, 3), partition(1, 2)], 3_000);
    expect(watch.trouble()).toEqual([]);
    expect(watch.health().leaderChanges).toBe(1);
  });
});

describe('ProduceStalls', () => {
  it('counts a publish as stalled once it waits past the threshold, and records it when it ends', () => {
    const stalls = new ProduceStalls(1_000);
    const quick = stalls.begin('a', 0);
    const slow = stalls.begin('b', 100);
    expect(stalls.end(quick, 999)).toBeUndefined();
    expect(stalls.stalled(1_099)).toBeUndefined();
    expect(stalls.stalled(1_100)).toEqual({ topics: ['b'], since: 100 });
    expect(stalls.health(1_100)).toEqual({
      stalled: true,
      stalledSince: new Date(100).toISOString(),
      inFlight: 1,
      stalls: 0,
    });
    expect(stalls.end(slow, 3_100, 'Error: timed out')).toEqual({
      topic: 'b',
      startedAt: 100,
      endedAt: 3_100,
    });
    expect(stalls.health(3_200)).toEqual({
      stalled: false,
      inFlight: 0,
      stalls: 1,
      lastStall: {
        topic: 'b',
        at: new Date(3_100).toISOString(),
        tookMs: 3_000,
        error: 'Error: timed out',
      },
    });
    expect(stalls.end(slow, 4_000)).toBeUndefined();
  });
});

describe('ClusterWatch', () => {
  const sanitizer = new LogSanitizer();
  let described: PartitionState[] | Error;
  let calls: string[][];
  let other: string[];
  const sources = {
    describe: (topics: readonly string[]) => {
      calls.push([...topics]);
      return described instanceof Error ? Promise.reject(described) : Promise.resolve(described);
    },
    otherTrouble: () => other,
  };

  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    described = [partition(0, 1)];
    calls = [];
    other = [];
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('describes nothing until it has topics, then every interval; a spell of trouble ends as recovered', async () => {
    const watch = new ClusterWatch(sources, sanitizer, 1_000);
    watch.start();
    await jest.advanceTimersByTimeAsync(2_000);
    expect(calls).toEqual([]);
    watch.watch(['t']);
    watch.watch(['t']);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(calls).toEqual([['t']]);
    expect(watch.health()).toMatchObject({
      state: 'healthy',
      checkedAt: new Date(3_000).toISOString(),
    });

    described = [partition(0, 1, [1, 2])];
    await jest.advanceTimersByTimeAsync(1_000);
    expect(watch.health()).toMatchObject({
      state: 'degraded',
      degradedSince: new Date(4_000).toISOString(),
      trouble: ['under-replicated t-0'],
    });

    described = [partition(0, 1)];
    await jest.advanceTimersByTimeAsync(2_000);
    const health = watch.health();
    expect(health.state).toBe('healthy');
    expect(health.trouble).toBeUndefined();
    expect(health.recovered).toEqual({
      trouble: ['under-replicated t-0'],
      since: new Date(4_000).toISOString(),
      recoveredAt: new Date(5_000).toISOString(),
      tookMs: 1_000,
    });
    watch.stop();
  });

  it('shows a failing describe as lastError (sanitized) without calling the cluster degraded', async () => {
    const watch = new ClusterWatch(sources, sanitizer, 1_000);
    watch.watch(['t']);
    watch.start();
    described = new Error('connect ECONNREFUSED to sasl://user:hunter2@broker-1:9092');
    await jest.advanceTimersByTimeAsync(1_000);
    const failing = watch.health();
    expect(failing.state).toBe('healthy');
    expect(failing.lastError).toContain('ECONNREFUSED');
    expect(failing.lastError).not.toContain('hunter2');
    described = [partition(0, 1)];
    await jest.advanceTimersByTimeAsync(1_000);
    expect(watch.health().lastError).toBeUndefined();
    watch.stop();
  });

  it('never overlaps two describes, and changes nothing after stop()', async () => {
    let release: (value: PartitionState[]) => void = () => undefined;
    const slow = {
      describe: (topics: readonly string[]) => {
        calls.push([...topics]);
        return new Promise<PartitionState[]>((resolve) => (release = resolve));
      },
      otherTrouble: () => [],
    };
    const watch = new ClusterWatch(slow, sanitizer, 1_000);
    watch.watch(['t']);
    watch.start();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(1);
    release([partition(0, 1)]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveLength(2);
    watch.stop();
    release([partition(0, -1)]);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(2);
    expect(watch.health().leaderless).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('shows a publish stalled while it waits, and a stall that began and ended between looks as recovered', async () => {
    const watch = new ClusterWatch(sources, sanitizer, 0);
    const first = watch.publishStarted('t');
    await jest.advanceTimersByTimeAsync(1_500);
    expect(watch.health()).toMatchObject({
      state: 'degraded',
      degradedSince: new Date(0).toISOString(),
      trouble: ['produce stalled t'],
      produce: { stalled: true, inFlight: 1, stalls: 0 },
    });
    watch.publishEnded(first);
    const second = watch.publishStarted('u');
    await jest.advanceTimersByTimeAsync(2_000);
    watch.publishEnded(second, new Error('NOT_ENOUGH_REPLICAS'));
    await jest.advanceTimersByTimeAsync(100);
    const health = watch.health();
    expect(health.state).toBe('healthy');
    expect(health.produce).toMatchObject({ stalled: false, inFlight: 0, stalls: 2 });
    expect(health.produce.lastStall).toMatchObject({ topic: 'u', tookMs: 2_000 });
    expect(health.produce.lastStall?.error).toContain('NOT_ENOUGH_REPLICAS');
    expect(health.recovered).toEqual({
      trouble: ['produce stalled u'],
      since: new Date(1_500).toISOString(),
      recoveredAt: new Date(3_500).toISOString(),
      tookMs: 2_000,
    });
    expect(calls).toEqual([]);
  });

  it('takes in the other sources of trouble for the spell', () => {
    const watch = new ClusterWatch(sources, sanitizer, 0);
    other = ['coordinator lost g'];
    expect(watch.health()).toMatchObject({ state: 'degraded', trouble: ['coordinator lost g'] });
    other = [];
    expect(watch.health().recovered?.trouble).toEqual(['coordinator lost g']);
  });
});
