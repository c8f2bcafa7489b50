import { createHook } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import pg from 'pg';
import { startPostgres, type PostgresHandle } from '../../scripts/postgres/server.mjs';
import { IntelligenceDatabase, migrate, REQUIRED_TABLES } from '../../src/intelligence/index.js';
import { PATTERN_LEARNING_TOPIC, PatternStore } from '../../src/nodes/index.js';
import { activeHandles } from '../support/active-handles.js';
import { useDatabaseServer } from '../support/postgres-env.js';
import { waitFor } from '../support/wait-for.js';
import {
  bootService,
  FAST_RETRY,
  healthOf,
  publish,
  SESSION,
  wiringState,
} from './support/postgres-service.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Connections the module holds on `url`'s database, as the server sees them. */
async function backends(adminUrl: string, url: string): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const result = await client.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2',
      [decodeURIComponent(new URL(url).pathname.slice(1)), 'nestjs-intelligence'],
    );
    return result.rows[0]?.n ?? -1;
  } finally {
    await client.end();
  }
}

/** Timers and sockets made by pg or the library's database code, until they are destroyed. */
function trackDatabaseResources() {
  const made = new Map<number, string>();
  let socketsMade = 0;
  const hook = createHook({
    init(id, type) {
      const stack = new Error().stack ?? '';
      if (!/node_modules\/pg|intelligence\/database/.test(stack)) return;
      made.set(id, type);
      if (type.startsWith('TCP')) socketsMade += 1;
    },
    destroy(id) {
      made.delete(id);
    },
  }).enable();
  return {
    /** Timers and sockets still alive. */
    left: () => [...made.values()].filter((type) => type === 'Timeout' || type.startsWith('TCP')),
    /** Sockets made so far, closed or not. */
    socketsMade: () => socketsMade,
    stop: () => hook.disable(),
  };
}

const sockets = (handles: Record<string, number>) => handles.TCPSocketWrap ?? 0;

describe('the service on PostgreSQL: the database as a wired resource', () => {
  const server = useDatabaseServer();
  const logs: string[] = [];
  let app: INestApplication | undefined;
  let own: PostgresHandle | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await own?.cleanup();
    own = undefined;
  }, 30_000);

  it('fails the wiring naming the missing tables, and the retry wires once they are migrated', async () => {
    const url = await server.createDatabase('unmigrated');
    const booted = (app = await bootService({ DATABASE_URL: url }, logs, {
      overrides: { wiring: FAST_RETRY },
    }));
    const failed = await healthOf(booted);
    expect(failed.status).toBe(503);
    expect(failed.ready).toBe(503);
    expect(['failed', 'retrying']).toContain(failed.details.state);
    for (const table of REQUIRED_TABLES) expect(failed.details.lastError).toContain(table);
    expect(String(failed.details.lastError)).toContain('intelligence_patterns');
    expect(wiringState(booted)).not.toBe('wired');

    await migrate(url, { log: () => {} });
    await waitFor(() => wiringState(booted) === 'wired', 'wired after the migration', 10_000);
    const wired = await healthOf(booted);
    expect(wired.ready).toBe(200);
    expect(wired.details).not.toHaveProperty('lastError');
    expect(wired.details.database).toMatchObject({ status: 'up' });
    await publish(booted, PATTERN_LEARNING_TOPIC, SESSION);
    const store = booted.get(PatternStore);
    await waitFor(async () => (await store.list()).length === 4, 'the session stored');
  });

  it('is not ready while the database is down at boot, saying why, and wires once it is up', async () => {
    const port = await freePort();
    const password = randomBytes(12).toString('hex');
    const url = `postgres://postgres:${password}@127.0.0.1:${String(port)}/intelligence`;
    const booted = (app = await bootService(
      { DATABASE_URL: url, DATABASE_MIGRATE_ON_BOOT: 'true' },
      logs,
      { overrides: { wiring: FAST_RETRY } },
    ));
    const down = await healthOf(booted);
    expect(down.ready).toBe(503);
    expect(['failed', 'retrying']).toContain(down.details.state);
    expect(down.details.lastError).toMatch(/ECONNREFUSED|connect/i);
    expect(down.details.database).toMatchObject({
      target: `127.0.0.1:${String(port)}/intelligence`,
      lastError: { connection: true },
    });
    expect(down.text).not.toContain(password);

    own = await startPostgres({ port, password });
    // migrateOnBoot: the fresh server's empty database is migrated by the wiring itself.
    await waitFor(() => wiringState(booted) === 'wired', 'wired once the server is up', 30_000);
    const up = await healthOf(booted);
    expect(up.ready).toBe(200);
    expect(up.details.database).toMatchObject({ status: 'up' });
    await publish(booted, PATTERN_LEARNING_TOPIC, SESSION);
    const store = booted.get(PatternStore);
    await waitFor(async () => (await store.list()).length === 4, 'the session stored');
  });

  it('closes the pool on app.close(): no connection, timer or socket left', async () => {
    const url = await server.migratedDatabase('closing');
    const baseline = activeHandles();
    const tracked = trackDatabaseResources();
    try {
      const booted = (app = await bootService({ DATABASE_URL: url }, logs));
      expect(wiringState(booted)).toBe('wired');
      await publish(booted, PATTERN_LEARNING_TOPIC, SESSION);
      const store = booted.get(PatternStore);
      await waitFor(async () => (await store.list()).length === 4, 'the session stored');
      expect(tracked.socketsMade()).toBeGreaterThan(0);
      expect(await backends(server.url(), url)).toBeGreaterThan(0);
      const database = booted.get(IntelligenceDatabase);
      await booted.close();
      app = undefined;
      expect(database.health()?.status).toBe('closed');
      expect(database.health()?.totalCount).toBe(0);
      await waitFor(() => tracked.left().length === 0, 'the pool timers and sockets gone', 5_000);
      expect(sockets(activeHandles())).toBeLessThanOrEqual(sockets(baseline));
      await waitFor(
        async () => (await backends(server.url(), url)) === 0,
        'no backend left on the server',
        5_000,
      );
    } finally {
      tracked.stop();
    }
  });

  it('closes the pool after a failed wiring: status closed, nothing left open', async () => {
    const url = await server.createDatabase('failing');
    const baseline = activeHandles();
    const tracked = trackDatabaseResources();
    try {
      const booted = (app = await bootService({ DATABASE_URL: url }, logs, {
        overrides: { wiring: { retry: false } },
      }));
      expect(wiringState(booted)).toBe('failed');
      // The handshake ran on a real connection before the wiring failed.
      expect(tracked.socketsMade()).toBeGreaterThan(0);
      expect(booted.get(IntelligenceDatabase).health()?.status).toBe('closed');
      await waitFor(() => tracked.left().length === 0, 'the pool timers and sockets gone', 5_000);
      expect(sockets(activeHandles())).toBeLessThanOrEqual(sockets(baseline));
      expect(await backends(server.url(), url)).toBe(0);
      const health = await healthOf(booted); // (after counting: supertest's sockets linger)
      expect(health.details.database).toMatchObject({ status: 'closed', totalCount: 0 });
      expect(health.details.lastError).toContain('intelligence_patterns');
      // The app is still up (health says why); closing it has nothing more to close.
      await booted.close();
      app = undefined;
      expect(tracked.left()).toEqual([]);
    } finally {
      tracked.stop();
    }
  });
});
