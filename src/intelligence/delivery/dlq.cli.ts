#!/usr/bin/env node
// `npm run dlq -- list|replay|purge-report [options]`: node dist/intelligence/delivery/dlq.cli.js
import { Logger } from '@nestjs/common';
import { runDlqCommand } from './dlq.command.js';

// Standard output is the command's (tables, or JSON with --json): the clients' warnings and
// errors (already sanitized) go to standard error, the rest is dropped.
const toStderr = (message: unknown) => {
  process.stderr.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
};
Logger.overrideLogger({ log: () => undefined, warn: toStderr, error: toStderr });

process.exitCode = await runDlqCommand({
  env: process.env,
  args: process.argv.slice(2),
  out: (line) => {
    process.stdout.write(`${line}\n`);
  },
  err: (line) => {
    process.stderr.write(`${line}\n`);
  },
});
