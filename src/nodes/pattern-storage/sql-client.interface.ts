/** Rows of one statement. */
export interface SqlResult<R> {
  rows: R[];
  rowCount: number | null;
}

/**
 * The one thing the SQL stores of the nodes need: run a parameterized statement. The
 * library's `DatabasePool` (and a `DatabaseTransaction`) is one; node code never opens a
 * connection itself (see .dependency-cruiser.cjs).
 */
export interface SqlClient {
  query<R extends object>(text: string, values?: readonly unknown[]): Promise<SqlResult<R>>;
}

/** Injection token of the `SqlClient` given to `PostgresPatternStore`. */
export const PATTERN_SQL_CLIENT = Symbol('PATTERN_SQL_CLIENT');
