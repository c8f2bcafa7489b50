import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { inspect } from 'node:util';

/** Everything the Nest logger writes at every level, captured in memory until `restore()`. */
export function captureLogs() {
  const lines: string[] = [];
  class CapturingLogger extends ConsoleLogger {
    protected override printMessages(messages: unknown[], context = '', level: LogLevel = 'log') {
      for (const message of messages) {
        lines.push(
          `${level} [${context}] ${typeof message === 'string' ? message : inspect(message, { depth: 10 })}`,
        );
      }
    }
  }
  Logger.overrideLogger(new CapturingLogger());
  return {
    lines,
    text: () => lines.join('\n'),
    restore: () => {
      Logger.overrideLogger(process.env.TEST_LOGS ? ['error', 'warn', 'log'] : false);
    },
  };
}
