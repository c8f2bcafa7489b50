import { mkdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import {
  startBroker,
  type BrokerHandle,
  type StartBrokerOptions,
} from '../../../scripts/kafka/broker.mjs';
import { uniqueGroup, uniqueTopic } from '../../support/unique-names.js';
import { now, sleep } from './clock.js';
import type { FaultClient } from './fault-clients.js';
import { createTopic } from './fault-kafka.js';
import {
  FaultProducer,
  type NumberedMessage,
  type ProduceOptions,
  type ProduceReport,
} from './fault-producer.js';
import { FAULTS_DIR, msOrNever, Verdict, type FaultRow } from './fault-table.js';
import { FaultWorker } from './fault-worker-process.js';
import {
  audit,
  describeOverlap,
  Journals,
  type Audit,
  type JournalEntry,
} from './journal-audit.js';

export const PARTITIONS = 6;
export const ALL_PARTITIONS = Array.from({ length: PARTITIONS }, (_, partition) => partition);

/** `count` numbered messages 0..count-1, keyed `k<n % keys>`. */
export function numbered(count: number, keys = 200): NumberedMessage[] {
  return Array.from({ length: count }, (_, n) => ({ n, key: `k${String(n % keys)}` }));
}

/** A free loopback port, released again (for a broker started later on it). */
export async function reservePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export type Production = Promise<{ report?: ProduceReport; error?: Error }>;

/**
 * One scenario on one Kafka client: its dedicated broker, a fresh 6-partition topic and group,
 * its workers (`bus.client` = `client`, through `KAFKA_CLIENT`) and producer, and its directory
 * of journals and worker logs (`.cache/faults/<name>/<client>/`). `teardown()` kills whatever
 * is still running, test failed or not.
 */
export class Scenario {
  readonly dir: string;
  readonly topic: string;
  groupId: string;
  readonly journals: Journals;
  readonly workers: FaultWorker[] = [];
  /** When the scenario began (its broker started, or its broker address was set). */
  private startedAt: number | undefined;
  broker: BrokerHandle | undefined;
  private brokerList: string[] | undefined;
  private producer: FaultProducer | undefined;

  constructor(
    readonly name: string,
    readonly client: FaultClient = 'kafkajs',
  ) {
    this.dir = path.join(FAULTS_DIR, name, client);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    this.topic = uniqueTopic(`faults-${name}-${client}`);
    this.groupId = uniqueGroup(`faults-${name}-${client}`);
    this.journals = new Journals(this.dir);
  }

  get brokers(): string[] {
    if (!this.brokerList) throw new Error(`${this.name}: no broker address yet`);
    return this.brokerList;
  }

  /** The group the workers started from now on join (before the first of them starts). */
  useGroup(groupId: string): void {
    if (this.workers.length > 0) throw new Error(`${this.name}: workers joined ${this.groupId}`);
    this.groupId = groupId;
  }

  /** Workers point here before a broker runs (headless-broker-down). */
  useBrokers(brokers: string[]): void {
    this.startedAt ??= now();
    this.brokerList = brokers;
  }

  async startBroker(options: StartBrokerOptions = {}): Promise<BrokerHandle> {
    this.startedAt ??= now();
    this.broker = await startBroker(options);
    this.brokerList = this.broker.brokers;
    return this.broker;
  }

  createTopic(): Promise<void> {
    return createTopic(this.brokers, this.topic, PARTITIONS);
  }

  startWorker(name: string, env: Record<string, string | number> = {}): FaultWorker {
    const worker = new FaultWorker({
      name,
      brokers: this.brokers,
      groupId: this.groupId,
      topic: this.topic,
      dir: this.dir,
      env: { KAFKA_CLIENT: this.client, ...env },
    });
    this.workers.push(worker);
    return worker;
  }

  alive(): FaultWorker[] {
    return this.workers.filter((worker) => worker.alive);
  }

  /** For `Journals.waitForAll`: gives up once no worker is left to handle anything. */
  readonly noWorkerLeft = (): string | undefined =>
    this.alive().length === 0 ? 'every worker has exited' : undefined;

  /**
   * Until `workers` are all wired and share the topic's partitions between them (each has
   * some, none twice, none left), unchanged for a second.
   */
  async waitForGroup(workers: FaultWorker[], timeoutMs = 60_000): Promise<void> {
    const deadline = now() + timeoutMs;
    let stableSince: number | undefined;
    for (;;) {
      const dead = workers.find((worker) => !worker.alive);
      if (dead) {
        throw new Error(
          `worker ${dead.name} exited (code ${String(dead.exit?.code)}) before the group formed\n${dead.stderrTail()}`,
        );
      }
      const assigned = workers.flatMap((worker) => worker.assigned);
      const balanced =
        workers.every((worker) => worker.state === 'wired' && worker.assigned.length > 0) &&
        assigned.length === PARTITIONS &&
        new Set(assigned).size === PARTITIONS;
      if (!balanced) stableSince = undefined;
      else stableSince ??= now();
      if (stableSince !== undefined && now() - stableSince >= 1_000) return;
      if (now() > deadline) {
        const seen = workers
          .map((worker) => `${worker.name}: ${String(worker.state)} [${worker.assigned.join(',')}]`)
          .join('; ');
        throw new Error(
          `Timed out after ${String(timeoutMs)} ms waiting for ${String(workers.length)} wired workers sharing ${String(PARTITIONS)} partitions (${seen})`,
        );
      }
      await sleep(50);
    }
  }

  /** Starts producing in the background; never rejects (the error is in the result). */
  produce(options: Omit<ProduceOptions, 'topic'>): Production {
    this.producer = new FaultProducer(this.brokers);
    const producer = this.producer;
    return producer.produce({ topic: this.topic, ...options }).then(
      (report) => ({ report }),
      (error: unknown) => ({ error: error instanceof Error ? error : new Error(String(error)) }),
    );
  }

  /** Messages the running producer has had acknowledged so far. */
  get produced(): number {
    return this.producer?.sent ?? 0;
  }

  /** The journal audit plus the checks every scenario makes: 0 lost, no overlap. */
  audit(expected: readonly number[]): { result: Audit; entries: JournalEntry[] } {
    const entries = this.journals.refresh().entries;
    return { result: audit(entries, expected, PARTITIONS), entries };
  }

  /** Checks lost === 0 and overlaps === 0 on `result`, naming the first offenders. */
  checkNoLossNoOverlap(verdict: Verdict, result: Audit): Verdict {
    verdict.check(
      result.lost.length === 0,
      `lost === 0 (actual ${String(result.lost.length)}; first: ${result.lost.slice(0, 10).join(',')})`,
    );
    verdict.check(
      result.overlaps.length === 0,
      `overlaps === 0 (actual ${String(result.overlaps.length)}; first: ${result.overlaps
        .slice(0, 3)
        .map(describeOverlap)
        .join(' | ')})`,
    );
    return verdict;
  }

  /** The table row of this scenario from its audit. */
  row(
    n: number,
    result: Audit,
    recover: { ms: number | null; from: string },
    notes: string[],
  ): Omit<FaultRow, 'result' | 'failed'> {
    return {
      scenario: this.name,
      client: this.client,
      n,
      lost: result.lost.length,
      duplicates: result.duplicates,
      overlaps: result.overlaps.length,
      recoverMs: recover.ms === null ? null : msOrNever(recover.ms),
      recoverFrom: recover.from,
      gapsMs: ALL_PARTITIONS.map((partition) => result.longestGapMs[partition] ?? 0),
      seconds: Math.round((now() - (this.startedAt ?? now())) / 100) / 10,
      notes: [
        ...notes,
        ...(result.duplicates === 0
          ? []
          : [
              `duplicates: ${String(result.redeliveries)} redelivered offsets, ${String(result.duplicates - result.redeliveries)} numbers the producer had re-sent (in Kafka twice)`,
            ]),
      ],
    };
  }

  /** Stops the producer, SIGKILLs every worker still running, deletes the broker and its data. */
  async teardown(): Promise<void> {
    await this.producer?.stop();
    await Promise.all(this.workers.map((worker) => worker.kill9()));
    await this.broker?.cleanup();
  }
}

/**
 * One scenario per Kafka client, for a spec that runs its clients at the same time
 * (`it.concurrent.each(set.clients)`): each has its own broker, topic, group and workers.
 */
export class ScenarioSet {
  private readonly scenarios: Map<FaultClient, Scenario>;

  constructor(
    name: string,
    readonly clients: FaultClient[],
  ) {
    this.scenarios = new Map(clients.map((client) => [client, new Scenario(name, client)]));
  }

  get all(): Scenario[] {
    return [...this.scenarios.values()];
  }

  of(client: FaultClient): Scenario {
    const scenario = this.scenarios.get(client);
    if (!scenario) throw new Error(`no scenario for client ${client}`);
    return scenario;
  }

  /** Starts every scenario's broker and creates its topic, all at once. */
  async startBrokers(): Promise<void> {
    await Promise.all(
      this.all.map(async (scenario) => {
        await scenario.startBroker();
        await scenario.createTopic();
      }),
    );
  }

  async teardown(): Promise<void> {
    await Promise.all(this.all.map((scenario) => scenario.teardown()));
  }
}
