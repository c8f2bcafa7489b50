import { EventBus } from './bus/event-bus.js';
import {
  IntelligenceOptionsError,
  type IntelligenceModuleOptions,
} from './intelligence.options.js';

const SERVICE_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** Checks the options at boot; throws `IntelligenceOptionsError` naming the first bad field. */
export function validateIntelligenceOptions(
  options: IntelligenceModuleOptions,
): IntelligenceModuleOptions {
  if (typeof options.serviceName !== 'string' || !SERVICE_NAME.test(options.serviceName)) {
    throw new IntelligenceOptionsError(
      'serviceName',
      'must be a non-empty kebab-case string (lowercase letters, digits, dashes)',
    );
  }
  const bus = options.bus;
  if (bus === undefined || bus instanceof EventBus) return options;
  if (bus.kind === 'memory') {
    if (bus.maxBufferedPerTopic !== undefined)
      positiveInteger('bus.maxBufferedPerTopic', bus.maxBufferedPerTopic);
    return options;
  }
  if ((bus.kind as string) !== 'kafka') {
    throw new IntelligenceOptionsError(
      'bus.kind',
      `must be 'memory' or 'kafka' (got ${JSON.stringify((bus as { kind?: unknown }).kind)})`,
    );
  }
  if (
    !Array.isArray(bus.brokers) ||
    bus.brokers.length === 0 ||
    bus.brokers.some((b) => typeof b !== 'string' || !/^[^\s:]+:\d+$/.test(b))
  ) {
    throw new IntelligenceOptionsError(
      'bus.brokers',
      'must be a non-empty list of "host:port" strings',
    );
  }
  for (const field of [
    'connectionTimeoutMs',
    'sessionTimeoutMs',
    'heartbeatIntervalMs',
    'commitIntervalMs',
    'partitionsConsumedConcurrently',
    'defaultPartitions',
  ] as const) {
    const value = bus[field];
    if (value !== undefined) positiveInteger(`bus.${field}`, value);
  }
  return options;
}

function positiveInteger(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new IntelligenceOptionsError(
      field,
      `must be a positive integer (got ${JSON.stringify(value)})`,
    );
  }
}
