import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { waitFor } from '../support/wait-for.js';

/** Boots the built service (embedded bus) with `HOST`; resolves with its logged bound address. */
async function boot(host: string | undefined) {
  const child = spawn('node', ['dist/main.js'], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...(host ? { HOST: host } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const bound = await waitFor(
    () => {
      const line = stdout.split('\n').find((text) => text.includes('Intelligence service on'));
      return line ? (JSON.parse(line) as { address: string; port: number }) : undefined;
    },
    'the service logs where it listens',
    30_000,
  );
  return { child, bound };
}

async function stop(child: ReturnType<typeof spawn>) {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

describe('the service binds the address HOST names', () => {
  it('listens on all interfaces with HOST=0.0.0.0, and on loopback only by default', async () => {
    const all = await boot('0.0.0.0');
    try {
      expect(all.bound.address).toBe('0.0.0.0');
      // Test traffic stays on loopback.
      const response = await fetch(`http://127.0.0.1:${String(all.bound.port)}/health/live`);
      expect(response.status).toBe(200);
    } finally {
      await stop(all.child);
    }
    const local = await boot(undefined);
    try {
      expect(local.bound.address).toBe('127.0.0.1');
    } finally {
      await stop(local.child);
    }
  }, 120_000);
});
