import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { useDatabaseServer } from '../support/postgres-env.js';

const run = promisify(execFile);

describe('the demo on PostgreSQL (DATABASE_URL)', () => {
  const server = useDatabaseServer();

  const demo = async (url: string) => {
    const { stdout, stderr } = await run('node', ['dist/demo/demo.js'], {
      cwd: process.cwd(),
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: url },
      timeout: 60_000,
    });
    return stdout + stderr;
  };

  it('run twice on one empty database: migrated on boot, the second run finds its patterns merged, not new', async () => {
    const url = await server.createDatabase('demo');
    const parsed = new URL(url);
    const target = `127.0.0.1:${parsed.port}${parsed.pathname}`;

    const first = await demo(url);
    expect(first).toContain(`Pattern store: PostgreSQL at ${target}`);
    expect(first).toMatch(/Patterns stored: +7 \(3 new, 4 merged\)/);
    expect(first).toMatch(
      /Lifecycle transitions: candidate → validated ×3, validated → deprecated ×1/,
    );
    expect(first).toContain('Shut down cleanly');

    const second = await demo(url);
    expect(second).toMatch(/Patterns stored: +7 \(0 new, 7 merged\)/);
    expect(second).toMatch(new RegExp(`PostgreSQL at ${target}, 3 pattern\\(s\\) in it`));
    // The lifecycle is kept: nothing promoted twice, the deprecated pattern still final.
    expect(second).toMatch(/Lifecycle transitions: none/);
    expect(second).toMatch(/is deprecated already \(by an earlier run\)/);
    expect(second).toMatch(/Dead letters: +2/);
    expect(second).toContain('Health (GET /health):\n200');
    expect(second).toContain('Shut down cleanly');
    for (const output of [first, second]) expect(output).not.toContain(parsed.password);
  }, 120_000);
});
