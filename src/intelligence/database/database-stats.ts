import type { LogSanitizer } from '../logging/log-sanitizer.js';
import { isConnectionError } from './database.errors.js';

/** The last error seen, sanitized: never a password, never a connection string. */
export interface DatabaseError {
  message: string;
  /** ISO-8601 UTC. */
  at: string;
  /** The database could not be used (unreachable, refused, down), not one bad statement. */
  connection: boolean;
}

/**
 * `unknown`: nothing ran yet; `up`: the last statement reached the server; `down`: the last
 * attempt failed to reach it (a failing statement alone never makes it `down`).
 */
export type DatabaseReachability = 'unknown' | 'up' | 'down';

/** Counts statements and errors of a pool and its transactions; remembers the last error. */
export class DatabaseStats {
  queries = 0;
  errors = 0;
  lastError: DatabaseError | undefined;
  reachability: DatabaseReachability = 'unknown';

  constructor(private readonly sanitizer: LogSanitizer) {}

  /** Counts one statement, settled by `result`. */
  track<T>(result: Promise<T>): Promise<T> {
    this.queries += 1;
    return result.then(
      (value) => {
        this.reachability = 'up';
        return value;
      },
      (error: unknown) => {
        this.failed(error);
        throw error;
      },
    );
  }

  /** `Name: message` of `error`, sanitized. */
  describe(error: unknown): string {
    return this.sanitizer.describeError(error);
  }

  /** Records an error that happened outside a statement (an idle connection dropped). */
  failed(error: unknown): void {
    this.errors += 1;
    const connection = isConnectionError(error);
    this.reachability = connection ? 'down' : 'up';
    this.lastError = {
      message: this.describe(error),
      at: new Date().toISOString(),
      connection,
    };
  }
}
