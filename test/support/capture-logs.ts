import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { inspect } from 'node:util';

export interface CapturedLogs {
  /** Install with `Logger.overrideLogger` or a testing module's `setLogger`. */
  logger: ConsoleLogger;
  lines: string[];
  text(): string;
  restore(): void;
}

/** Everything the Nest logger writes at every level (debug included), captured in memory. */
export function captureLogs(): CapturedLogs {
  const lines: string[] = [];
  class CapturingLogger extends ConsoleLogger {
    protected override printMessages(messages: unknown[], context = '', level: LogLevel = 'log') {
      for (const message of messages) {
        const text = typeof message === 'string' ? message : inspect(message, { depth: 10 });
        lines.push(`${level} [${context}] ${text}`);
      }
    }
  }
  const logger = new CapturingLogger({
    logLevels: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
  });
  Logger.overrideLogger(logger);
  return {
    logger,
    lines,
    text: () => lines.join('\n'),
    restore: () => {
      Logger.overrideLogger(process.env.TEST_LOGS ? ['error', 'warn', 'log'] : false);
    },
  };
}
