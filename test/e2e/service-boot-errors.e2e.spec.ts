import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SECRET = 'canary-boot-Pa55-w0rd';

/** Starts the built service with `env` on top of a clean environment; it must refuse to boot. */
async function boot(env: Record<string, string>) {
  try {
    await run('node', ['dist/main.js'], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
      timeout: 30_000,
    });
  } catch (error) {
    const failed = error as { code?: number; stderr?: string; stdout?: string };
    return { code: failed.code, stderr: failed.stderr ?? '', stdout: failed.stdout ?? '' };
  }
  throw new Error('the service booted although its configuration is invalid');
}

describe('the service refuses a bad configuration at boot', () => {
  it.each([
    ['KAFKA_BROKERS', { KAFKA_BROKERS: `nonsense-${SECRET}` }],
    ['PORT', { PORT: SECRET }],
    ['SERVICE_NAME', { SERVICE_NAME: `Not Kebab ${SECRET}` }],
    ['LOG_LEVEL', { LOG_LEVEL: SECRET }],
    ['HOST', { HOST: `not a host ${SECRET}` }],
    [
      'KAFKA_SASL_PASSWORD',
      {
        KAFKA_BROKERS: '127.0.0.1:9',
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: SECRET,
      },
    ],
    ['KAFKA_SASL_MECHANISM', { KAFKA_BROKERS: '127.0.0.1:9', KAFKA_SASL_PASSWORD: SECRET }],
  ])(
    'exits 1 with one line naming %s, no stack, no value',
    async (variable, env) => {
      const { code, stderr, stdout } = await boot(env);
      expect(code).toBe(1);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^Invalid environment variable ${variable}: `));
      expect(stderr + stdout).not.toContain(SECRET);
      expect(stderr).not.toMatch(/\n\s+at /);
    },
    30_000,
  );
});
