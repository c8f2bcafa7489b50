import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { startBroker, type BrokerHandle } from '../../scripts/kafka/broker.mjs';
import { waitFor } from '../support/wait-for.js';

/** The module's defaults: drain 10 s, then at most 5 s for each closing step (three of them). */
const SHUTDOWN_BOUND_MS = 10_000 + 3 * 5_000;

describe('the service shuts down in bounded time with the broker gone', () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await startBroker();
  }, 120_000);

  afterAll(async () => {
    await broker.cleanup();
  });

  it('exits within the drain and closing bounds after SIGTERM', async () => {
    const child = spawn('node', ['dist/main.js'], {
      cwd: process.cwd(),
      env: {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        KAFKA_BROKERS: broker.brokers.join(','),
        KAFKA_GROUP_ID: `shutdown-${String(Date.now())}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    await waitFor(() => stdout.includes('Intelligence wired'), 'wired', 60_000);
    await broker.kill9();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const started = Date.now();
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    const tookMs = Date.now() - started;
    // Nest re-raises the signal once its shutdown hooks ran: a clean stop ends by SIGTERM.
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(tookMs).toBeLessThan(SHUTDOWN_BOUND_MS);
    await broker.restart();
  }, 120_000);
});
