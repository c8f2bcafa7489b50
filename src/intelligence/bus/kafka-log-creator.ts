import { Logger } from '@nestjs/common';
import { logLevel, type logCreator } from 'kafkajs';
import type { LogSanitizer } from '../logging/log-sanitizer.js';

/** kafkajs warns about this every start when retries are bounded on purpose; we chose that. */
const EXPECTED_WARNINGS = ['Limiting retries for the idempotent producer'];

/**
 * What kafkajs logs at ERROR (by namespace prefix and message prefix) on its way to an outcome
 * the bus reports itself: every error
 * response of the protocol (retriable ones included), every failed connection attempt, and
 * each consumer crash and restart. The operation that finally fails surfaces once (a failed
 * wiring from the runtime, a consumer's crash and recovery from its subscription); the
 * individual steps are debug material.
 */
const STEPS: readonly { namespace: string; prefix: string }[] = [
  { namespace: 'Connection', prefix: 'Response ' },
  { namespace: 'Connection', prefix: 'Connection error' },
  { namespace: 'Connection', prefix: 'Connection timeout' },
  // Every connect attempt's failure (refused, closed, SASL refused): the bus reports the last.
  { namespace: 'BrokerPool', prefix: '' },
  { namespace: 'SaslAuthenticator', prefix: '' },
  { namespace: 'Consumer', prefix: 'Crash: ' },
  { namespace: 'Consumer', prefix: 'Restarting the consumer' },
];

function effectiveLevel(namespace: string, message: string, level: logLevel): logLevel {
  const step = STEPS.some((s) => namespace.startsWith(s.namespace) && message.startsWith(s.prefix));
  return step ? logLevel.DEBUG : level;
}

/**
 * A kafkajs `logCreator` that hands kafkajs's structured fields to the Nest logger as an
 * object (so pino keeps them as fields), every string and secret-named key sanitized.
 */
export function kafkaLogCreator(sanitizer: LogSanitizer, context = 'KafkaJS'): logCreator {
  const logger = new Logger(context);
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, stack, ...fields } = log;
      if (EXPECTED_WARNINGS.some((text) => message.startsWith(text))) return;
      const effective = effectiveLevel(namespace, message, level);
      const entry = {
        msg: sanitizer.sanitize(message),
        namespace,
        ...(sanitizer.sanitizeValue(fields) as Record<string, unknown>),
        // Stacks only at debug: an outage must not fill the log with traces.
        ...(effective === logLevel.DEBUG && stack !== undefined
          ? { stack: sanitizer.sanitizeValue(stack) }
          : {}),
      };
      switch (effective) {
        case logLevel.ERROR:
          logger.error(entry);
          break;
        case logLevel.WARN:
          logger.warn(entry);
          break;
        case logLevel.INFO:
          logger.log(entry);
          break;
        default:
          logger.debug(entry);
      }
    };
}
