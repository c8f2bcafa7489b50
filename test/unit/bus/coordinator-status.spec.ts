import { describe, expect, it, jest } from '@jest/globals';
import { CoordinatorStatus } from '../../../src/intelligence/bus/coordinator-status.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';

describe('CoordinatorStatus', () => {
  it('reports nothing before the first join', () => {
    expect(new CoordinatorStatus(new LogSanitizer()).health()).toBeUndefined();
  });

  it('shows a loss while it lasts, and the failover once the coordinator is found', () => {
    jest.useFakeTimers({ now: Date.UTC(2026, 11, 2, 12, 0, 0) });
    try {
      const status = new CoordinatorStatus(new LogSanitizer());
      status.found(3);
      status.lost(new Error('connect ECONNREFUSED 127.0.0.1:9094 password=hunter2'));
      jest.advanceTimersByTime(1_500);
      status.lost(new Error('Broker 3 not found in the cached metadata'));
      const lost = status.health();
      expect(lost).toMatchObject({
        nodeId: 3,
        state: 'lost',
        lostSince: '2026-12-02T12:00:00.000Z',
        failovers: 0,
      });
      expect(lost?.lastError).toContain('Broker 3 not found');

      jest.advanceTimersByTime(1_000);
      status.found(1);
      expect(status.health()).toEqual({
        nodeId: 1,
        state: 'found',
        failovers: 1,
        lastFailover: { from: 3, to: 1, at: '2026-12-02T12:00:02.500Z', tookMs: 2_500 },
      });
    } finally {
      jest.useRealTimers();
    }
  });

  it('never shows a secret from the error that told of the loss', () => {
    const status = new CoordinatorStatus(new LogSanitizer());
    status.lost(new Error('SASL failed for postgres://svc:hunter2@db:5432/x password=hunter2'));
    expect(JSON.stringify(status.health())).not.toContain('hunter2');
  });

  it('counts a join that follows a loss as a failover, even on the same node', () => {
    const status = new CoordinatorStatus(new LogSanitizer());
    status.found(2);
    status.lost(new Error('NOT_COORDINATOR'));
    status.found(2);
    expect(status.health()).toMatchObject({ nodeId: 2, state: 'found', failovers: 1 });
  });
});
