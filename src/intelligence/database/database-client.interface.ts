import type { QueryConfig, QueryResult, QueryResultRow } from 'pg';

export type { QueryConfig, QueryResult, QueryResultRow };

/**
 * Something statements run on: the pool (each statement on any free connection) or one
 * transaction (every statement on its connection, in order).
 */
export interface DatabaseClient {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string | QueryConfig,
    values?: readonly unknown[],
  ): Promise<QueryResult<R>>;
}
