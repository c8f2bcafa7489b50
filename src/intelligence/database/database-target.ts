import type { DatabaseConfig } from './database.options.js';

/**
 * `host:port/database` of a connection, for logs and health: never the user or the password.
 * Unknown parts fall back to what `pg` would use (`PGHOST`, ...), shown as `default`.
 */
export function describeTarget(connection: DatabaseConfig['connection']): string {
  const parsed = connection.connectionString
    ? parseConnectionString(connection.connectionString)
    : {};
  const host = connection.host ?? parsed.host ?? 'default';
  const port = connection.port ?? parsed.port ?? 5432;
  const database = connection.database ?? parsed.database ?? 'default';
  return `${host}:${String(port)}/${database}`;
}

interface TargetParts {
  host?: string;
  port?: number;
  database?: string;
}

function parseConnectionString(text: string): TargetParts {
  if (/^postgres(?:ql)?:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      const parts: TargetParts = {};
      if (url.hostname) parts.host = decodeURIComponent(url.hostname);
      if (url.port) parts.port = Number(url.port);
      const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
      if (database) parts.database = database;
      return parts;
    } catch {
      return {};
    }
  }
  const parts: TargetParts = {};
  for (const match of text.matchAll(/(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/g)) {
    const key = match[1];
    const value = (match[2] ?? '').replace(/^'|'$/g, '');
    if (key === 'host' || key === 'hostaddr') parts.host ??= value;
    else if (key === 'port' && /^\d+$/.test(value)) parts.port = Number(value);
    else if (key === 'dbname') parts.database = value;
  }
  return parts;
}
