/** A secret-shaped piece of text and what replaces it. */
export interface SecretPattern {
  readonly name: string;
  readonly pattern: RegExp;
  readonly replacement: string;
}

const SECRET_KEYS =
  'password|passwd|pwd|passphrase|secret|api[_-]?key|api[_-]?secret|secret[_-]?key|access[_-]?token|' +
  'refresh[_-]?token|auth[_-]?token|token|client[_-]?secret|private[_-]?key|sasl[_-]?password|credentials?';

/**
 * Secret categories of the platform's original sanitizer plus Kafka SASL credentials,
 * authorization headers and PEM private keys. Order matters: whole-blob patterns first.
 */
export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    name: 'pem-private-key',
    pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    replacement: '[REDACTED_PRIVATE_KEY]',
  },
  {
    name: 'webhook-url',
    pattern:
      /https?:\/\/(?:hooks\.slack\.com\/services|discord(?:app)?\.com\/api\/webhooks|[\w.-]+\.webhook\.office\.com)\/\S+/gi,
    replacement: '[REDACTED_WEBHOOK]',
  },
  {
    // Everything up to the last '@' of a PostgreSQL URL, so a password with a raw '@', '/'
    // or '#' (easily pasted unencoded into DATABASE_URL) is masked whole, not cut short.
    name: 'postgres-url-credentials',
    pattern: /\b(postgres(?:ql)?(?:\+\w+)?:\/\/)[^\s"'<>`]*@/gi,
    replacement: '$1[REDACTED]@',
  },
  {
    // A quoted value of a libpq keyword string (`password='it\'s'`); `secret-setting` below
    // then masks it as any quoted setting, and unquoted ones.
    name: 'libpq-quoted-password',
    pattern: /(\b(?:ssl)?password\s*=\s*)'(?:[^'\\]|\\.)*'/gi,
    replacement: "$1'[REDACTED]'",
  },
  {
    name: 'url-credentials',
    pattern: /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/:@]+(?::[^\s/@]*)?@/gi,
    replacement: '$1[REDACTED]@',
  },
  {
    name: 'jwt',
    pattern: /\beyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]{5,}/g,
    replacement: '[REDACTED_JWT]',
  },
  {
    name: 'authorization',
    pattern: /\b(Bearer|Basic|Token)\s+[\w.~+/=-]{8,}/gi,
    replacement: '$1 [REDACTED]',
  },
  { name: 'openai-key', pattern: /\bsk-[\w-]{20,}/g, replacement: '[REDACTED_API_KEY]' },
  {
    name: 'github-token',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,})/g,
    replacement: '[REDACTED_GITHUB_TOKEN]',
  },
  { name: 'gitlab-token', pattern: /\bglpat-[\w-]{20,}/g, replacement: '[REDACTED_GITLAB_TOKEN]' },
  {
    name: 'slack-token',
    pattern: /\bxox[abposr]-[\w-]{10,}/g,
    replacement: '[REDACTED_SLACK_TOKEN]',
  },
  { name: 'google-api-key', pattern: /\bAIza[\w-]{35}/g, replacement: '[REDACTED_GOOGLE_KEY]' },
  {
    name: 'aws-access-key',
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b/g,
    replacement: '[REDACTED_AWS_KEY]',
  },
  {
    name: 'aws-secret-key',
    pattern: /(aws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{40}/gi,
    replacement: '$1[REDACTED]',
  },
  {
    name: 'secret-env-var',
    pattern:
      /\b([A-Z][A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY|CREDENTIALS?))=("[^"]*"|'[^']*'|\S+)/g,
    replacement: '$1=[REDACTED]',
  },
  {
    name: 'secret-setting',
    pattern: new RegExp(
      `((?:["']?)\\b[\\w.-]*(?:${SECRET_KEYS})["']?\\s*[:=]\\s*)("(?:[^"\\\\]|\\\\.)*"|'[^']*'|[^\\s,;&}\\]]+)`,
      'gi',
    ),
    replacement: '$1[REDACTED]',
  },
];

export const EMAIL_PATTERN: SecretPattern = {
  name: 'email',
  pattern: /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g,
  replacement: '[REDACTED_EMAIL]',
};

export const IP_PATTERN: SecretPattern = {
  name: 'ip-address',
  pattern: /\b(?:\d{1,3}\.){3}\d{1,3}\b|\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b/gi,
  replacement: '[REDACTED_IP]',
};

/** Object keys whose values are always replaced, whatever they hold. */
export const SECRET_KEY_PATTERN = new RegExp(
  `^(?:${SECRET_KEYS}|authorization|cookie|set-cookie|sasl)$`,
  'i',
);
