export interface BrokerHandle {
  brokers: string[];
  port: number;
  controllerPort: number;
  dataDir: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

export interface StartBrokerOptions {
  port?: number;
  controllerPort?: number;
  dataDir?: string;
  heapMb?: number;
  readyTimeoutMs?: number;
  extraProps?: Record<string, string | number | boolean>;
  formatArgs?: string[];
}

export function startBroker(opts?: StartBrokerOptions): Promise<BrokerHandle>;
export function waitForBroker(brokers: string[], timeoutMs: number, pid?: number): Promise<void>;
export function stopPid(pid: number, timeoutMs?: number, signal?: NodeJS.Signals): Promise<void>;

export function fetchJars(): void;
export function writeServerProperties(
  file: string,
  cfg: {
    port: number;
    controllerPort: number;
    dataDir: string;
    nodeId?: number;
    quorumVoters?: string;
    extraProps?: Record<string, string | number | boolean>;
  },
): void;
export function randomClusterId(): string;
export function java(args: string[]): string;
export function javaAsync(args: string[]): Promise<string>;
export function spawnBroker(configFile: string, logFile: string, heapMb: number): number;
