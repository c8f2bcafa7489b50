import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { PATTERN_LEARNING_TOPIC, PatternStore } from '../../src/nodes/index.js';
import { loadServiceConfig, ServiceConfigError } from '../../src/service.config.js';
import { http } from '../support/http.js';
import { useDatabaseServer, withDatabase } from '../support/postgres-env.js';
import { waitFor } from '../support/wait-for.js';
import {
  bootService,
  FAST_RETRY,
  healthOf,
  publish,
  SESSION,
  wiringState,
} from './support/postgres-service.js';

const CANARY = 'canary-Pa55w0rd-7c1e9b';

/** `url` with another password. */
function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = password;
  return parsed.toString();
}

describe('the service on PostgreSQL never shows the password of DATABASE_URL', () => {
  const server = useDatabaseServer();
  /** Every pino line (debug included) of every app of this file. */
  const logs: string[] = [];
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Logs, health and metrics of `booted` (then closed, and its shutdown logged too). */
  async function outputsOf(booted: INestApplication) {
    const health = await healthOf(booted);
    const metrics = (await http(booted).get('/metrics')).text;
    await booted.close();
    app = undefined;
    return { health, metrics, logs: logs.join('') };
  }

  it('not in logs, health or metrics while it works (migrated on boot, a session handled)', async () => {
    const url = await server.createDatabase('secret');
    const password = new URL(url).password;
    expect(password.length).toBeGreaterThan(8);
    const booted = (app = await bootService(
      { DATABASE_URL: url, DATABASE_MIGRATE_ON_BOOT: 'true' },
      logs,
    ));
    expect(wiringState(booted)).toBe('wired');
    await publish(booted, PATTERN_LEARNING_TOPIC, SESSION);
    const store = booted.get(PatternStore);
    await waitFor(async () => (await store.list()).length === 4, 'the session stored');
    const out = await outputsOf(booted);
    // The logs did talk about the database (by host and name only).
    const target = `127.0.0.1:${new URL(url).port}${new URL(url).pathname}`;
    expect(out.logs).toContain('Database migrated');
    expect(out.logs).toContain(target);
    expect(out.health.text).toContain(target);
    expect(out.metrics).toContain('intelligence_database_queries_total');
    for (const text of [out.logs, out.health.text, out.metrics]) {
      expect(text).not.toContain(password);
      expect(text).not.toMatch(/postgres(ql)?:\/\/[^\s"]*:[^\s"@]*@/);
    }
  });

  it('not when the password is refused: the reason is shown, the password is not', async () => {
    const url = withPassword(withDatabase(server.url(), 'postgres'), CANARY);
    const booted = (app = await bootService({ DATABASE_URL: url }, logs, {
      overrides: { wiring: FAST_RETRY },
    }));
    await waitFor(() => logs.join('').includes('password authentication failed'), 'the failure');
    const out = await outputsOf(booted);
    expect(String(out.health.details.lastError)).toMatch(/password authentication failed/);
    for (const text of [out.logs, out.health.text, out.metrics]) expect(text).not.toContain(CANARY);
  });

  it('not when the server is unreachable', async () => {
    const url = `postgres://svc:${CANARY}@127.0.0.1:1/intelligence`;
    const booted = (app = await bootService({ DATABASE_URL: url }, logs, {
      overrides: { wiring: FAST_RETRY },
    }));
    const out = await outputsOf(booted);
    expect(out.health.details.lastError).toMatch(/ECONNREFUSED|connect/i);
    expect(out.health.text).toContain('127.0.0.1:1/intelligence');
    for (const text of [out.logs, out.health.text, out.metrics]) expect(text).not.toContain(CANARY);
  });

  it.each([
    ['not a postgres URL', `mysql://svc:${CANARY}@db:3306/intelligence`],
    ['not a URL', `postgres://svc:${CANARY}@`],
    ['a bare word', CANARY],
  ])('refuses a bad DATABASE_URL (%s), naming the variable, never its value', (_, value) => {
    let error: unknown;
    try {
      loadServiceConfig({ DATABASE_URL: value });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ServiceConfigError);
    expect((error as ServiceConfigError).variable).toBe('DATABASE_URL');
    expect((error as Error).message).toMatch(/^Invalid environment variable DATABASE_URL: /);
    expect((error as Error).message).not.toContain(CANARY);
  });

  it('reads DATABASE_MIGRATE_ON_BOOT as true or false (default false); unset DATABASE_URL keeps memory', () => {
    const url = `postgresql://svc:${CANARY}@db.internal:5432/intelligence?sslmode=require`;
    expect(loadServiceConfig({ DATABASE_URL: url }).database).toEqual({
      connectionString: url,
      migrateOnBoot: false,
    });
    expect(
      loadServiceConfig({ DATABASE_URL: url, DATABASE_MIGRATE_ON_BOOT: 'true' }).database,
    ).toEqual({ connectionString: url, migrateOnBoot: true });
    expect(loadServiceConfig({}).database).toBeUndefined();
    expect(loadServiceConfig({ DATABASE_URL: '' }).database).toBeUndefined();
    expect(() => loadServiceConfig({ DATABASE_URL: url, DATABASE_MIGRATE_ON_BOOT: 'yes' })).toThrow(
      /^Invalid environment variable DATABASE_MIGRATE_ON_BOOT: /,
    );
  });
});
