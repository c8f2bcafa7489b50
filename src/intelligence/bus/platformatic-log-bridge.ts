import { Logger } from '@nestjs/common';
import type { EventEmitter } from 'node:events';
import type { LogSanitizer } from '../logging/log-sanitizer.js';

interface BrokerPayload {
  broker?: { host?: unknown; port?: unknown };
}

/**
 * The events @platformatic/kafka emits on its way to an outcome the bus reports itself (a failed
 * connect, publish or consumer, its recovery): each is a debug line, the outcome is logged once
 * by the bus or its subscription. Payloads are reduced to names, counts and sanitized error
 * descriptions: never a message, a connection object or a credential.
 */
const STEPS: Record<string, (...args: unknown[]) => Record<string, unknown>> = {
  'client:broker:connect': (payload) => ({ msg: 'Connected to broker', ...broker(payload) }),
  'client:broker:disconnect': (payload) => ({
    msg: 'Disconnected from broker',
    ...broker(payload),
  }),
  'client:broker:failed': (payload) => ({ msg: 'Connection to broker failed', ...broker(payload) }),
  'client:performWithRetry:retry': (operation, attempt, retries, delay) => ({
    msg: 'Retrying a request',
    operation,
    attempt,
    retries,
    delayMs: delay,
  }),
  'client:performWithRetry:failed': (operation, retries, errors) => ({
    msg: 'A request failed after its retries',
    operation,
    retries,
    error: Array.isArray(errors) ? errors.at(-1) : undefined,
  }),
  'consumer:heartbeat:error': (payload) => ({
    msg: 'Consumer heartbeat failed',
    error: (payload as { error?: unknown } | undefined)?.error,
  }),
  'consumer:group:join': (payload) => ({ msg: 'Joined the consumer group', ...group(payload) }),
  'consumer:group:leave': (payload) => ({ msg: 'Left the consumer group', ...group(payload) }),
  'consumer:group:rebalance': (payload) => ({ msg: 'The group rebalances', ...group(payload) }),
  error: (error) => ({ msg: 'Client error', error }),
};

function broker(payload: unknown): Record<string, unknown> {
  const given = (payload as BrokerPayload | undefined)?.broker;
  return given ? { broker: `${String(given.host)}:${String(given.port)}` } : {};
}

function group(payload: unknown): Record<string, unknown> {
  const given = payload as { groupId?: unknown; generationId?: unknown } | undefined;
  return { groupId: given?.groupId, generationId: given?.generationId };
}

/**
 * Routes a @platformatic/kafka client's events to the Nest logger at debug, every field
 * sanitized (errors as `Name: message`). Also keeps an `error` event from being unhandled.
 * Returns a function that detaches the listeners.
 */
export function bridgePlatformaticLogs(
  client: EventEmitter,
  sanitizer: LogSanitizer,
  context = 'PlatformaticKafka',
): () => void {
  const logger = new Logger(context);
  const listeners = Object.entries(STEPS).map(([event, describe]) => {
    const listener = (...args: unknown[]) => {
      logger.debug({ event, ...(sanitizer.sanitizeValue(describe(...args)) as object) });
    };
    client.on(event, listener);
    return [event, listener] as const;
  });
  return () => {
    for (const [event, listener] of listeners) client.off(event, listener);
  };
}
