/**
 * Key paths for `pinoHttp.redact` (pino redacts by path only: case-sensitive, `*` is one
 * level). Free text is scrubbed separately by `LogSanitizer`.
 */
export const INTELLIGENCE_REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
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
