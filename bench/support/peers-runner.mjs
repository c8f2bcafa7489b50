// Runs one job of `npm run bench` in a child process of its own (bench/support/peers-worker.mjs):
// a fresh heap and JIT per contender run. The job goes in as JSON in argv, the result comes back
// over IPC; a child that overruns `timeoutMs` is killed (SIGKILL) and the run reported failed.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const WORKER = path.join(here, 'peers-worker.mjs');
const STDERR_TAIL = 2_000;
/** `BENCH_CPU_PROF=<dir>`: every child writes a V8 CPU profile there (node --cpu-prof). */
const PROFILE_ARGS = process.env.BENCH_CPU_PROF
  ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`]
  : [];

/** Children alive now, so a Ctrl-C can kill them (by pid, each one we forked). */
const children = new Set();

export function killChildren() {
  for (const child of children) child.kill('SIGKILL');
}

/**
 * @param {object} job
 * @param {number} timeoutMs
 * @returns {Promise<{ ok: boolean, unavailable?: boolean, error?: string, [key: string]: unknown }>}
 */
export function runJob(job, timeoutMs) {
  return new Promise((resolve) => {
    const child = fork(WORKER, [JSON.stringify(job)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      execArgv: ['--no-warnings', ...PROFILE_ARGS],
    });
    children.add(child);
    let stderr = '';
    /** @type {object | undefined} */
    let result;
    let timedOut = false;
    child.stderr?.on('data', (data) => {
      stderr = (stderr + String(data)).slice(-STDERR_TAIL);
      if (process.env.BENCH_LOGS) process.stderr.write(data);
    });
    child.on('message', (message) => {
      result = /** @type {object} */ (message);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (result) {
        resolve(/** @type {any} */ (result));
        return;
      }
      const why = timedOut
        ? `killed after ${Math.round(timeoutMs / 1000)} s`
        : `exited (${signal ?? code}) without a result`;
      resolve({ ok: false, error: `${why}${stderr ? `; stderr: ${stderr.trim()}` : ''}` });
    });
  });
}
