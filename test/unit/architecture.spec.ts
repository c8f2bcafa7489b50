import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const FIXTURES = 'test/fixtures/architecture/src';

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** Runs dependency-cruiser with the project's rules; resolves to the violations it found. */
async function cruise(...paths: string[]): Promise<Violation[]> {
  const { stdout } = await run(
    'npx',
    ['depcruise', ...paths, '--config', '.dependency-cruiser.cjs', '--output-type', 'json'],
    { maxBuffer: 64 * 1024 * 1024 },
  ).catch((error: unknown) => error as { stdout: string });
  const report = JSON.parse(stdout) as { summary: { violations: Violation[] } };
  return report.summary.violations;
}

/** Runs ESLint with the project's config; resolves to the rule ids it reported. */
async function lint(file: string): Promise<string[]> {
  const { stdout } = await run('npx', ['eslint', '--no-ignore', '--format', 'json', file]).catch(
    (error: unknown) => error as { stdout: string },
  );
  const [result] = JSON.parse(stdout) as { messages: { ruleId: string | null }[] }[];
  return (result?.messages ?? []).map((message) => message.ruleId ?? 'parse-error');
}

describe('architecture', () => {
  it('holds for the source tree: nodes do no I/O, only the bus adapters import Kafka clients, folders import downward', async () => {
    expect(await cruise('src')).toEqual([]);
  }, 60_000);

  it('catches node code that imports I/O, kafkajs used outside the Kafka bus, a folder importing upward', async () => {
    const found = (await cruise(FIXTURES)).map(({ rule, from, to }) => ({
      rule: rule.name,
      from: from.replace(`${FIXTURES}/`, ''),
      to: to.replace(/^node_modules\/([^/]+)\/.*$/, '$1'),
    }));
    expect(found).toEqual(
      expect.arrayContaining([
        { rule: 'nodes-no-io', from: 'nodes/leaky.node.ts', to: 'fs' },
        { rule: 'nodes-no-io', from: 'nodes/leaky.node.ts', to: 'http' },
        { rule: 'nodes-no-io-libraries', from: 'nodes/leaky.node.ts', to: 'kafkajs' },
        {
          rule: 'only-kafka-bus-imports-kafka-clients',
          from: 'intelligence/dispatch/sneaky.engine.ts',
          to: 'kafkajs',
        },
        {
          rule: 'wire-imports-downward',
          from: 'intelligence/wire/upward.codec.ts',
          to: 'test/fixtures/architecture/src/intelligence/dispatch/sneaky.engine.ts',
        },
      ]),
    );
  }, 60_000);

  it('catches node code that reads the environment or reaches the network through globals', async () => {
    const rules = await lint(`${FIXTURES}/nodes/leaky.node.ts`);
    expect(rules.filter((rule) => rule === 'no-restricted-globals')).toHaveLength(2);
  }, 60_000);
});
