import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import postgresKafkaGlobalSetup from './postgres-kafka.global-setup.mjs';

/**
 * The e2e project runs the built app (`dist/`) as child processes: it is built once here,
 * while the broker and PostgreSQL start, instead of once per spec.
 */
export default async function e2eGlobalSetup() {
  const started = Date.now();
  const build = promisify(execFile)('npm', ['run', 'build', '--silent'], {
    cwd: new URL('../..', import.meta.url),
  }).then(() => process.stdout.write(`\ndist/ built in ${Date.now() - started} ms\n`));
  const results = await Promise.allSettled([build, postgresKafkaGlobalSetup()]);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}
