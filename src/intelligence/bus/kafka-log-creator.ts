import { Logger } from '@nestjs/common';
import { logLevel, type logCreator } from 'kafkajs';
import type { LogSanitizer } from '../logging/log-sanitizer.js';

/** kafkajs warns about this every start when retries are bounded on purpose; we chose that. */
const EXPECTED_WARNINGS = ['Limiting retries for the idempotent producer'];

/**
 * kafkajs logs every error response of the protocol at ERROR, retriable ones included
 * ("coordinator not available", "group is rebalancing"). The operation that finally fails
 * surfaces on its own; the individual responses are debug material.
 */
function effectiveLevel(namespace: string, message: string, level: logLevel): logLevel {
  return namespace === 'Connection' && message.startsWith('Response ') ? logLevel.DEBUG : level;
}

/**
 * A kafkajs `logCreator` that hands kafkajs's structured fields to the Nest logger as an
 * object (so pino keeps them as fields), every string and secret-named key sanitized.
 */
export function kafkaLogCreator(sanitizer: LogSanitizer, context = 'KafkaJS'): logCreator {
  const logger = new Logger(context);
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
      if (EXPECTED_WARNINGS.some((text) => message.startsWith(text))) return;
      const entry = {
        msg: sanitizer.sanitize(message),
        namespace,
        ...(sanitizer.sanitizeValue(fields) as Record<string, unknown>),
      };
      switch (effectiveLevel(namespace, message, level)) {
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
