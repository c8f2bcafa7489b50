import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { now, sleep } from './clock.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./fault-worker.mjs', import.meta.url));

/** Stderr kept in memory per worker (the file next to the journal has all of it). */
const STDERR_KEEP = 4 * 1024 * 1024;

export interface FaultWorkerOptions {
  name: string;
  brokers: string[];
  groupId: string;
  topic: string;
  /** Scenario directory: the journal `<name>.jsonl` and `<name>.stderr.log` go there. */
  dir: string;
  /** Extra environment (CONCURRENCY, HANDLE_MS, SESSION_TIMEOUT_MS, ...). */
  env?: Record<string, string | number>;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** What the worker told over IPC, with the worker's own timestamp. */
export interface StateReport {
  state: string;
  at: number;
}
export interface AssignmentReport {
  partitions: number[];
  at: number;
}

/** The group coordinator as the worker's subscription last saw it. */
export interface CoordinatorReport {
  nodeId?: number;
  state: 'found' | 'lost';
  at: number;
}

/** The bus's view of the cluster (`BusHealth.cluster`) each time it changed. */
export interface ClusterReport {
  state: 'healthy' | 'degraded';
  trouble: string[];
  leaderChanges: number;
  produceStalls: number;
  /** The trouble of the last spell that ended. */
  recovered?: string[];
  at: number;
}

interface WorkerMessage {
  type: 'starting' | 'state' | 'assigned' | 'coordinator' | 'cluster';
  at: number;
  state?: string;
  partitions?: number[];
  nodeId?: number;
  trouble?: string[];
  leaderChanges?: number;
  produceStalls?: number;
  recovered?: string[];
}

/** One `fault-worker.mjs` child process (forked with an IPC channel) seen from the test. */
export class FaultWorker {
  readonly name: string;
  readonly journal: string;
  readonly startedAt = now();
  readonly states: StateReport[] = [];
  readonly assignments: AssignmentReport[] = [];
  readonly coordinators: CoordinatorReport[] = [];
  readonly clusterReports: ClusterReport[] = [];
  /** Resolves when the process is gone, however it ended. */
  readonly exited: Promise<WorkerExit>;
  exit: WorkerExit | undefined;
  private stderrText = '';
  private readonly stderrLog: WriteStream;
  private readonly child: ChildProcess;

  constructor(options: FaultWorkerOptions) {
    this.name = options.name;
    this.journal = path.join(options.dir, `${options.name}.jsonl`);
    this.stderrLog = createWriteStream(path.join(options.dir, `${options.name}.stderr.log`));
    const env: Record<string, string> = {
      ...stringEnv(process.env),
      KAFKA_BROKERS: options.brokers.join(','),
      GROUP_ID: options.groupId,
      TOPIC: options.topic,
      JOURNAL: this.journal,
      WORKER_NAME: options.name,
    };
    for (const [name, value] of Object.entries(options.env ?? {})) env[name] = String(value);
    this.child = fork(WORKER_SCRIPT, [], {
      env,
      execArgv: ['--no-warnings'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const keep = (chunk: Buffer) => {
      this.stderrLog.write(chunk);
      this.stderrText += chunk.toString('utf8');
      if (this.stderrText.length > STDERR_KEEP)
        this.stderrText = this.stderrText.slice(-STDERR_KEEP);
    };
    this.child.stderr?.on('data', keep);
    this.child.stdout?.on('data', keep);
    this.child.on('message', (message: WorkerMessage) => {
      if (message.type === 'state' && message.state !== undefined) {
        this.states.push({ state: message.state, at: message.at });
      } else if (message.type === 'assigned' && message.partitions) {
        this.assignments.push({ partitions: message.partitions, at: message.at });
      } else if (message.type === 'coordinator') {
        this.coordinators.push({
          ...(message.nodeId === undefined ? {} : { nodeId: message.nodeId }),
          state: message.state === 'lost' ? 'lost' : 'found',
          at: message.at,
        });
      } else if (message.type === 'cluster') {
        this.clusterReports.push({
          state: message.state === 'degraded' ? 'degraded' : 'healthy',
          trouble: message.trouble ?? [],
          leaderChanges: message.leaderChanges ?? 0,
          produceStalls: message.produceStalls ?? 0,
          ...(message.recovered ? { recovered: message.recovered } : {}),
          at: message.at,
        });
      }
    });
    this.exited = new Promise<WorkerExit>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: now() };
        this.stderrLog.end();
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  get state(): string | undefined {
    return this.states.at(-1)?.state;
  }

  /** Partitions of the topic assigned now, as last reported. */
  get assigned(): number[] {
    return this.assignments.at(-1)?.partitions ?? [];
  }

  /** The group coordinator as last reported. */
  get coordinator(): CoordinatorReport | undefined {
    return this.coordinators.at(-1);
  }

  /** Until the worker reports its coordinator found on a node other than `node`. */
  async waitForCoordinatorOff(node: number, timeoutMs: number): Promise<number> {
    await this.waitUntil(
      () => this.coordinator?.state === 'found' && this.coordinator.nodeId !== node,
      `a coordinator other than node ${String(node)}`,
      timeoutMs,
    );
    return this.coordinator?.at ?? now();
  }

  /** Whether the worker reported the cluster in trouble that matched `what`. */
  sawClusterTrouble(what: RegExp): boolean {
    return this.clusterReports.some(({ trouble }) => trouble.some((entry) => what.test(entry)));
  }

  /** Until the worker, having reported trouble that matched `what`, reports the cluster healthy. */
  async waitForClusterRecovered(what: RegExp, timeoutMs: number): Promise<ClusterReport> {
    const recovered = () =>
      this.sawClusterTrouble(what) && this.clusterReports.at(-1)?.state === 'healthy';
    await this.waitUntil(recovered, `the cluster healthy after ${String(what)}`, timeoutMs);
    return this.clusterReports.at(-1) as ClusterReport;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** When the worker first reported `state` (its own clock), if it did. */
  firstState(state: string): number | undefined {
    return this.states.find((report) => report.state === state)?.at;
  }

  async waitForState(state: string, timeoutMs = 60_000): Promise<number> {
    await this.waitUntil(() => this.state === state, `state '${state}'`, timeoutMs);
    return this.states.at(-1)?.at ?? now();
  }

  /** Until the assigned partitions satisfy `check` (default: at least one). */
  async waitForAssignment(
    check: (partitions: number[]) => boolean = (partitions) => partitions.length > 0,
    timeoutMs = 60_000,
  ): Promise<number[]> {
    await this.waitUntil(() => check(this.assigned), 'a partition assignment', timeoutMs);
    return this.assigned;
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill9(): Promise<WorkerExit> {
    if (this.alive) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Sends SIGTERM (without waiting). */
  sigterm(): void {
    if (this.alive) this.child.kill('SIGTERM');
  }

  /** Waits up to `timeoutMs` for the exit; rejects (saying so) if the process is still up. */
  async waitForExit(timeoutMs: number): Promise<WorkerExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`worker ${this.name} still running ${String(timeoutMs)} ms later`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  stderrTail(lines = 15): string {
    return this.stderrText.trimEnd().split('\n').slice(-lines).join('\n');
  }

  private async waitUntil(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = now() + timeoutMs;
    while (!check()) {
      if (!this.alive) {
        throw new Error(
          `worker ${this.name} exited (code ${String(this.exit?.code)}, signal ${String(this.exit?.signal)}) while waiting for ${what}\n${this.stderrTail()}`,
        );
      }
      if (now() > deadline) {
        throw new Error(
          `worker ${this.name}: no ${what} after ${String(timeoutMs)} ms (state ${String(this.state)}, assigned [${this.assigned.join(',')}])\n${this.stderrTail()}`,
        );
      }
      await sleep(25);
    }
  }
}

function stringEnv(source: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && name !== 'KAFKA_BROKERS') env[name] = value;
  }
  return env;
}
