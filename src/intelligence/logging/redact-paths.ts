/**
 * Key paths for `pinoHttp.redact` (pino redacts by path only: case-sensitive, `*` is one
 * level). Free text is scrubbed separately by `LogSanitizer`.
 */
export const INTELLIGENCE_REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.query',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.sasl',
  '*.ssl.key',
  '*.ssl.cert',
  '*.apiKey',
  '*.token',
  '*.accessToken',
  '*.secret',
  '*.payload',
  'sasl',
  'password',
  'payload',
];

/** The parts of an HTTP request a log line may carry. */
export interface LoggedRequest {
  id?: unknown;
  method?: string;
  url?: string;
}

/**
 * A `pinoHttp` request serializer that keeps the method and the path and drops the query
 * string, headers and parameters: a probe such as `/health?token=...` never puts its values
 * in a log line. Use as `pinoHttp: { serializers: { req: requestWithoutQuery } }`.
 */
export function requestWithoutQuery(req: LoggedRequest): LoggedRequest {
  const url = typeof req.url === 'string' ? req.url.split('?', 1)[0] : undefined;
  return { id: req.id, method: req.method, ...(url === undefined ? {} : { url }) };
}
