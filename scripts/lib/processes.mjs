// What the dev-server scripts (scripts/kafka, scripts/postgres) share: free ports, process
// liveness and stopping, log tails. Plain ESM, no dependencies.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Uses the requested ports; picks free ones (held open together so they differ) for the rest.
 * @param {...(number | undefined)} wanted
 * @returns {Promise<number[]>}
 */
export async function freePorts(...wanted) {
  const servers = wanted.map(() => createServer());
  try {
    return await Promise.all(
      servers.map(async (server, i) => {
        if (wanted[i] !== undefined) return wanted[i];
        await new Promise((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(undefined));
        });
        return /** @type {import('node:net').AddressInfo} */ (server.address()).port;
      }),
    );
  } finally {
    servers.forEach((server) => server.close());
  }
}

/**
 * Sends `signal` with `send` and waits for `pid` to exit; escalates to SIGKILL after
 * `timeoutMs`. Resolves at once if the process is not running.
 * @param {number} pid
 * @param {number} timeoutMs
 * @param {NodeJS.Signals} signal
 * @param {(pid: number, signal: NodeJS.Signals) => void} [send]
 */
export async function stopProcess(pid, timeoutMs, signal, send = (p, s) => process.kill(p, s)) {
  if (!isAlive(pid)) return;
  send(pid, signal);
  if (await waitForExit(pid, timeoutMs)) return;
  send(pid, 'SIGKILL');
  if (!(await waitForExit(pid, 10_000))) throw new Error(`process ${pid} survived SIGKILL`);
}

/** @param {number} pid */
export function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A server orphaned by the CLI is reparented to init; a minimal container init may never reap
  // it, leaving a zombie that still accepts signals.
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * @param {number} pid
 * @param {number} timeoutMs
 * @returns {Promise<boolean>} whether the process exited in time
 */
export async function waitForExit(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** @param {string} file */
export function logTail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** @param {unknown} error */
export function errorMessage(error) {
  return error instanceof Error ? error.message : String(error);
}
