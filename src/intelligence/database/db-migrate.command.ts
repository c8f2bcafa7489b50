import { LogSanitizer } from '../logging/log-sanitizer.js';
import { DatabasePool } from './database-pool.js';
import { migrate } from './database-migrations.js';

export interface MigrateCommandIo {
  env: Readonly<Record<string, string | undefined>>;
  args: readonly string[];
  out: (line: string) => void;
  err: (line: string) => void;
}

const USAGE = 'usage: db-migrate [up | down | status]   (reads DATABASE_URL)';

/**
 * `npm run db:migrate [-- up|down|status]`: applies (or reverts the last, or checks) the
 * shipped migrations on `DATABASE_URL`. Says where by host, port and database only; errors
 * are sanitized. Resolves to the exit code.
 */
export async function runMigrateCommand(io: MigrateCommandIo): Promise<number> {
  const command = io.args[0] ?? 'up';
  if (!['up', 'down', 'status'].includes(command) || io.args.length > 1) {
    io.err(USAGE);
    return 2;
  }
  const url = io.env.DATABASE_URL;
  if (!url) {
    io.err(`DATABASE_URL is not set\n${USAGE}`);
    return 2;
  }
  const sanitizer = new LogSanitizer();
  const pool = new DatabasePool({ connectionString: url, poolSize: 1 }, sanitizer);
  try {
    if (command === 'status') {
      const status = await pool.handshake().catch((error: unknown) => {
        io.err(sanitizer.describeError(error));
        return undefined;
      });
      if (!status) return 1;
      io.out(`${pool.target}: schema ready at ${status.foundMigration ?? 'none'}`);
      return 0;
    }
    const run = await migrate(pool, {
      direction: command as 'up' | 'down',
      sanitizer,
      log: () => {},
    });
    const verb = command === 'up' ? 'applied' : 'reverted';
    io.out(
      run.applied.length > 0
        ? `${pool.target}: ${verb} ${run.applied.join(', ')}`
        : `${pool.target}: nothing to ${command === 'up' ? 'apply, up to date' : 'revert'}`,
    );
    return 0;
  } catch (error) {
    io.err(`Migration failed on ${pool.target}: ${sanitizer.describeError(error)}`);
    return 1;
  } finally {
    await pool.close();
  }
}
