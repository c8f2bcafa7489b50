import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  committedOffsets,
  createTopics,
  envelopeMessage,
  TestProducer,
} from '../support/dispatch-kafka.js';
import { kafkaBrokers } from '../support/kafka-env.js';
import { useDatabaseServer } from '../support/postgres-env.js';
import { uniqueGroup, uniqueTopic } from '../support/unique-names.js';
import { waitFor } from '../support/wait-for.js';

const WORKER = new URL('./support/idempotent-worker.mjs', import.meta.url);
const HANDLER = 'RedeliveryNode.handle';

interface WorkerMessage {
  type: 'state' | 'assigned' | 'handled' | 'metrics';
  state?: string;
  partitions?: number[];
  id?: string;
  duplicatesSkipped?: number;
  invoked?: number;
}

/** One idempotent-worker.mjs process: what it reported over IPC, and its stderr. */
class Worker {
  readonly messages: WorkerMessage[] = [];
  stderr = '';
  private readonly exited: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    child.on('message', (message: WorkerMessage) => this.messages.push(message));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        resolve();
      });
    });
  }

  static start(env: Record<string, string>): Worker {
    return new Worker(
      fork(WORKER, [], {
        env: { PATH: process.env.PATH ?? '', ...env },
        execArgv: ['--no-warnings'],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      }),
    );
  }

  get metrics(): WorkerMessage | undefined {
    return this.messages.filter((message) => message.type === 'metrics').at(-1);
  }

  handled(id: string): boolean {
    return this.messages.some((message) => message.type === 'handled' && message.id === id);
  }

  /** Wired and assigned the topic's partition. */
  async consuming(what: string): Promise<void> {
    await waitFor(
      () =>
        this.messages.filter((m) => m.type === 'assigned').at(-1)?.partitions?.length === 1 &&
        this.messages.filter((m) => m.type === 'state').at(-1)?.state === 'wired',
      `${what} consuming (stderr: ${this.stderr.slice(-2_000)})`,
      30_000,
    );
  }

  /** kill -9: no drain, no commit, no shutdown hook. */
  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

describe('a message redelivered after its worker was killed between handling and commit', () => {
  const server = useDatabaseServer();
  const workers: Worker[] = [];
  let producer: TestProducer;
  let db: pg.Client | undefined;
  let dir: string;

  beforeAll(async () => {
    producer = await new TestProducer().start();
    dir = mkdtempSync(path.join(tmpdir(), 'redelivery-'));
  }, 120_000);

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    await db?.end();
    db = undefined;
  }, 30_000);

  afterAll(async () => {
    await producer.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Worker A handles one message and is SIGKILLed as soon as it is handled and its key
   * recorded (offsets are committed every 10 minutes: never, here); worker B of the same group
   * gets the redelivery. Resolves to the second worker, consuming.
   */
  async function killAfterHandlingThenRedeliver(
    env: Record<string, string>,
    recorded: (group: string, envelopeId: string) => Promise<boolean>,
  ) {
    const topic = uniqueTopic('redelivery', 'cmd');
    const group = uniqueGroup('redelivery');
    await createTopics([topic], 1);
    const common = { KAFKA_BROKERS: kafkaBrokers().join(','), GROUP_ID: group, TOPIC: topic };
    const first = Worker.start({ ...common, ...env, WORKER_NAME: 'a' });
    workers.push(first);
    await first.consuming('worker a');

    const { envelope, message } = envelopeMessage(topic, { id: 'm-1' });
    await producer.send(topic, [message]);
    await waitFor(() => first.handled('m-1'), 'worker a handled m-1');
    await waitFor(
      () => recorded(group, envelope.envelope_id),
      'm-1 and its key recorded',
      5_000,
      5,
    );
    await first.kill9();
    // Handled, but its offset never committed: the group will deliver m-1 again.
    expect(await committedOffsets(group, topic)).toEqual(['-1']);

    const second = Worker.start({ ...common, ...env, WORKER_NAME: 'b' });
    workers.push(second);
    await second.consuming('worker b');
    return { second, topic };
  }

  async function database() {
    const url = await server.migratedDatabase('redelivery');
    db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.query(
      'CREATE TABLE handled_messages (message_id text NOT NULL, worker text NOT NULL)',
    );
    const client = db;
    return {
      url,
      rows: async () =>
        (
          await client.query<{ message_id: string; worker: string }>(
            'SELECT message_id, worker FROM handled_messages ORDER BY message_id, worker',
          )
        ).rows,
      recorded: async (group: string, key: string) =>
        (
          await client.query(
            'SELECT 1 FROM intelligence_idempotency_keys WHERE consumer_group = $1 AND handler = $2 AND idempotency_key = $3',
            [group, HANDLER, key],
          )
        ).rowCount === 1,
    };
  }

  /** The journal's lines (mode `journal`), one per run of the handler: `id@worker`. */
  const journalOf = (file: string): string[] => {
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { id: string; worker: string })
      .map((entry) => `${entry.id}@${entry.worker}`);
  };

  it('is skipped by the PostgreSQL idempotency store (the row and the key in one ctx.transaction)', async () => {
    const store = await database();
    const { second, topic } = await killAfterHandlingThenRedeliver(
      { DATABASE_URL: store.url, MODE: 'transaction' },
      async (group, key) => (await store.rows()).length === 1 && (await store.recorded(group, key)),
    );
    await waitFor(() => (second.metrics?.duplicatesSkipped ?? 0) >= 1, 'worker b skipped m-1');
    expect(second.handled('m-1')).toBe(false);
    expect(second.metrics?.invoked).toBe(0);
    expect(await store.rows()).toEqual([{ message_id: 'm-1', worker: 'a' }]);
    // Worker b handles what is new.
    await producer.send(topic, [envelopeMessage(topic, { id: 'm-2' }).message]);
    await waitFor(() => second.handled('m-2'), 'worker b handled m-2');
    expect(await store.rows()).toEqual([
      { message_id: 'm-1', worker: 'a' },
      { message_id: 'm-2', worker: 'b' },
    ]);
  });

  it('is skipped when the key was recorded after the handler returned (no transaction of its own)', async () => {
    const store = await database();
    const journal = path.join(dir, 'recorded-after.jsonl');
    const { second } = await killAfterHandlingThenRedeliver(
      { DATABASE_URL: store.url, MODE: 'journal', JOURNAL: journal },
      (group, key) => store.recorded(group, key),
    );
    await waitFor(() => (second.metrics?.duplicatesSkipped ?? 0) >= 1, 'worker b skipped m-1');
    expect(second.metrics?.invoked).toBe(0);
    expect(journalOf(journal)).toEqual(['m-1@a']);
  });

  it('is handled again without a database (control: the in-memory window dies with its worker)', async () => {
    const journal = path.join(dir, 'in-memory.jsonl');
    const { second } = await killAfterHandlingThenRedeliver(
      { MODE: 'journal', JOURNAL: journal },
      () => Promise.resolve(true), // recorded in the worker's memory once the handler returned
    );
    await waitFor(() => second.handled('m-1'), 'worker b handled m-1 again');
    expect(second.metrics?.duplicatesSkipped ?? 0).toBe(0);
    expect(journalOf(journal)).toEqual(['m-1@a', 'm-1@b']);
  });
});
