#!/usr/bin/env node
// `npm run db:migrate`: node dist/intelligence/database/db-migrate.cli.js [up|down|status]
import { runMigrateCommand } from './db-migrate.command.js';

process.exitCode = await runMigrateCommand({
  env: process.env,
  args: process.argv.slice(2),
  out: (line) => {
    process.stdout.write(`${line}\n`);
  },
  err: (line) => {
    process.stderr.write(`${line}\n`);
  },
});
