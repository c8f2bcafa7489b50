import type { BusOption } from './intelligence/index.js';

export interface ServiceConfig {
  serviceName: string;
  port: number;
  logLevel: string;
  bus: BusOption;
}

/** Reads the service's settings from environment variables (documented in README.md). */
export function loadServiceConfig(env: NodeJS.ProcessEnv): ServiceConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `PORT must be an integer between 0 and 65535 (got ${JSON.stringify(env.PORT)})`,
    );
  }
  const brokers = env.KAFKA_BROKERS?.split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  return {
    serviceName: env.SERVICE_NAME ?? 'omniintelligence',
    port,
    logLevel: env.LOG_LEVEL ?? 'info',
    bus: brokers && brokers.length > 0 ? { kind: 'kafka', brokers } : { kind: 'memory' },
  };
}
