import { afterEach, describe, expect, it } from '@jest/globals';
import { logLevel, type LogEntry } from 'kafkajs';
import { kafkaLogCreator } from '../../../src/intelligence/bus/kafka-log-creator.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';
import { captureLogs, type CapturedLogs } from '../../support/capture-logs.js';

function entry(namespace: string, level: logLevel, message: string, extra = {}): LogEntry {
  return {
    namespace,
    level,
    label: 'ERROR',
    log: { timestamp: 't', logger: 'kafkajs', message, ...extra },
  };
}

describe('kafkaLogCreator', () => {
  let logs: CapturedLogs;
  afterEach(() => {
    logs.restore();
  });

  const write = (...entries: LogEntry[]) => {
    logs = captureLogs();
    const log = kafkaLogCreator(new LogSanitizer())(logLevel.DEBUG);
    for (const item of entries) log(item);
    return logs.lines;
  };

  it('logs the steps kafkajs retries on its own at debug, with their stacks there only', () => {
    const lines = write(
      entry('Connection', logLevel.ERROR, 'Connection error: connect ECONNREFUSED 127.0.0.1:1', {
        stack: 'Error: at connect (net.js:1)',
      }),
      entry('BrokerPool', logLevel.ERROR, 'Failed to connect to seed broker, trying another'),
      entry('Consumer', logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded: gone'),
      entry('Consumer', logLevel.ERROR, 'Restarting the consumer in 300ms'),
      entry('Producer', logLevel.ERROR, 'Failed to send messages: boom', { stack: 'Error: at x' }),
    );
    expect(lines.filter((line) => line.startsWith('error'))).toHaveLength(1);
    expect(lines.filter((line) => line.startsWith('debug'))).toHaveLength(4);
    const [error] = lines.filter((line) => line.startsWith('error'));
    expect(error).toContain('Failed to send messages');
    expect(error).not.toContain('stack');
    expect(lines.find((line) => line.includes('ECONNREFUSED'))).toContain('stack');
  });
});
