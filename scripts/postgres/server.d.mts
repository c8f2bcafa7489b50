export interface PostgresHandle {
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  dir: string;
  dataDir: string;
  logFile: string;
  pid: number;
  urlFor(name: string): string;
  createDatabase(name: string): Promise<string>;
  start(): Promise<void>;
  stop(): Promise<void>;
  kill9(): Promise<void>;
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface StartPostgresOptions {
  port?: number;
  dir?: string;
  ephemeral?: boolean;
  password?: string;
  database?: string;
  readyTimeoutMs?: number;
  settings?: Record<string, string | number>;
}

export function startPostgres(opts?: StartPostgresOptions): Promise<PostgresHandle>;
export function waitForPostgres(url: string, timeoutMs: number, pid?: number): Promise<void>;
export function stopPid(pid: number, timeoutMs?: number, signal?: NodeJS.Signals): Promise<void>;
export function removeStaleServerDirs(): void;
