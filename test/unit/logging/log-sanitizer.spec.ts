import { runInNewContext } from 'node:vm';
import { describe, expect, it } from '@jest/globals';
import { LogSanitizer, SANITIZER_FAILED } from '../../../src/intelligence/logging/log-sanitizer.js';

const sanitizer = new LogSanitizer();

const SECRETS: [string, string, string][] = [
  [
    'openai key',
    'key sk-proj-abcdefghijklmnopqrstuvwxyz0123',
    'sk-proj-abcdefghijklmnopqrstuvwxyz0123',
  ],
  [
    'github token',
    'token ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
  ],
  ['gitlab token', 'glpat-abcdefghij0123456789', 'glpat-abcdefghij0123456789'],
  ['slack token', 'xoxb-1234567890-abcdefghij', 'xoxb-1234567890-abcdefghij'],
  [
    'google key',
    'AIzaSyA1234567890abcdefghijklmnopqrstuv',
    'AIzaSyA1234567890abcdefghijklmnopqrstuv',
  ],
  ['aws access key', 'AKIAIOSFODNN7EXAMPLE used', 'AKIAIOSFODNN7EXAMPLE'],
  [
    'aws secret key',
    'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  ],
  ['url credentials', 'connect https://admin:hunter2pass@db.example.com/x', 'hunter2pass'],
  ['postgres dsn', 'postgresql://svc:Sup3rS3cret@10.0.0.5:5432/app', 'Sup3rS3cret'],
  ['password setting', 'password=correct-horse-battery', 'correct-horse-battery'],
  ['json password', '{"sasl":{"username":"u","password":"kafka-Secret-42"}}', 'kafka-Secret-42'],
  ['pwd setting', 'pwd: "s3cr3t value"', 's3cr3t value'],
  ['webhook', 'post to https://hooks.slack.com/services/T000/B000/XXXXSECRET', 'XXXXSECRET'],
  [
    'jwt',
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXNlY3JldA',
    'c2lnbmF0dXJlLXNlY3JldA',
  ],
  ['bearer', 'Authorization: Bearer abcdef1234567890token', 'abcdef1234567890token'],
  ['basic', 'Authorization: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpwYXNzd29yZA=='],
  ['api_key', 'api_key=live_0123456789abcdef', 'live_0123456789abcdef'],
  ['access_token', '"access_token": "tok-998877"', 'tok-998877'],
  ['env var', 'KAFKA_SASL_PASSWORD=envSecretValue', 'envSecretValue'],
  ['sasl jaas', 'sasl.jaas.config=... username="u" password="jaasSecret"', 'jaasSecret'],
  [
    'pem key',
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
    'MIIEowIBAAKCAQEA',
  ],
];

describe('LogSanitizer', () => {
  it.each(SECRETS)('redacts %s', (_name, text, secret) => {
    const out = sanitizer.sanitize(text);
    expect(out).not.toContain(secret);
    expect(out).toMatch(/REDACTED/);
  });

  describe('PostgreSQL connection strings', () => {
    it.each([
      ['postgres://user:password@host/db', 'postgres://[REDACTED]@host/db'],
      [
        'postgresql://svc:Sup3rS3cret@10.0.0.5:5432/app?sslmode=require',
        'postgresql://[REDACTED]@10.0.0.5:5432/app?sslmode=require',
      ],
      // Raw '@', '/' and '#' in a password: masked up to the last '@', not cut short.
      ['postgres://svc:p@ss@w0rd@db:5432/app', 'postgres://[REDACTED]@db:5432/app'],
      ['DATABASE_URL=postgres://svc:pa/ss#1@db/app', 'DATABASE_URL=postgres://[REDACTED]@db/app'],
      ['postgresql+asyncpg://svc:asyncSecret@db/app', 'postgresql+asyncpg://[REDACTED]@db/app'],
      [
        'postgres://db/app?user=svc&password=querySecret&sslmode=require',
        'postgres://db/app?user=svc&password=[REDACTED]&sslmode=require',
      ],
      [
        'host=db port=5432 user=svc password=kwSecret dbname=app',
        'host=db port=5432 user=svc password=[REDACTED] dbname=app',
      ],
      [
        "host=db user=svc password = 'it\\'s a kw secret' dbname=app",
        'host=db user=svc password = [REDACTED] dbname=app',
      ],
      [
        'sslpassword=keyPassphrase sslmode=verify-full',
        'sslpassword=[REDACTED] sslmode=verify-full',
      ],
      [
        '{"connectionString":"postgres://u:jsonSecret@h/db","email":"a@b.example"}',
        '{"connectionString":"postgres://[REDACTED]@h/db","email":"a@b.example"}',
      ],
    ])('masks the credentials of %s', (text, masked) => {
      expect(sanitizer.sanitize(text)).toBe(masked);
    });

    it('keeps a PostgreSQL URL without credentials and the text around it', () => {
      const text = 'connect to postgres://db:5432/app failed for a@b.example';
      expect(sanitizer.sanitize(text)).toBe(text);
    });

    it('masks the connection string inside an error and a structured value', () => {
      const error = new Error('connect ECONNREFUSED postgres://svc:errSecret@db:5432/app');
      expect(sanitizer.describeError(error)).toBe(
        'Error: connect ECONNREFUSED postgres://[REDACTED]@db:5432/app',
      );
      const value = JSON.stringify(
        sanitizer.sanitizeValue({ database: { url: 'postgres://svc:valSecret@db/app' } }),
      );
      expect(value).not.toContain('valSecret');
    });
  });

  it('keeps ordinary text unchanged', () => {
    const text =
      'Handler pattern-learning failed on onex.cmd.omniintelligence.pattern-learning.v1 offset 42';
    expect(sanitizer.sanitize(text)).toBe(text);
  });

  it('redacts e-mails and IP addresses only when asked', () => {
    const text = 'user alice@example.com from 192.168.1.20';
    expect(sanitizer.sanitize(text)).toBe(text);
    const strict = new LogSanitizer({ redactEmails: true, redactIpAddresses: true });
    expect(strict.sanitize(text)).toBe('user [REDACTED_EMAIL] from [REDACTED_IP]');
  });

  it('applies custom patterns, with or without the global flag', () => {
    const custom = new LogSanitizer({ customPatterns: [/ACME-\d{4}/, /tenant-[a-z]+/g] });
    expect(custom.sanitize('ACME-1234 and ACME-9999 in tenant-blue')).toBe(
      '[REDACTED] and [REDACTED] in [REDACTED]',
    );
  });

  it('redacts secret-named keys and secret-shaped strings in structured values', () => {
    const circular: Record<string, unknown> = {
      note: 'token ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    };
    circular.self = circular;
    const out = sanitizer.sanitizeValue({
      sasl: { mechanism: 'plain', username: 'u', password: 'p' },
      nested: { password: 'hidden', list: ['Bearer abcdefgh12345678'] },
      circular,
      error: new Error('password=leaky'),
      value: Buffer.from('payload bytes'),
    });
    const text = JSON.stringify(out);
    expect(text).not.toMatch(/hidden|leaky|abcdefgh12345678|ghp_/);
    expect(text).toContain('[Circular]');
    expect(text).toContain('[13 bytes]');
    expect(out).toMatchObject({ sasl: '[REDACTED]' });
  });

  it('describes errors without their secrets', () => {
    const error = new TypeError('cannot reach https://user:pw123456@broker:9093');
    expect(sanitizer.describeError(error)).toBe(
      'TypeError: cannot reach https://[REDACTED]@broker:9093',
    );
    expect(sanitizer.describeError('password=abc')).toBe('password=[REDACTED]');
  });

  it('describes an error from another realm by name and message only, no stack', () => {
    const foreign: unknown = runInNewContext(
      'e = new Error("connect ECONNREFUSED 127.0.0.1:5432"); e.name = "Error"; e',
    );
    expect(foreign instanceof Error).toBe(false);
    expect(sanitizer.describeError(foreign)).toBe('Error: connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('fails closed: a sanitizer that breaks logs a placeholder, never the raw text', () => {
    const broken = new LogSanitizer();
    Object.defineProperty(broken, 'patterns', {
      value: [
        {
          name: 'boom',
          pattern: /x/g,
          replacement: () => {
            throw new Error('boom');
          },
        },
      ],
    });
    expect(broken.sanitize('password=x-raw-secret')).toBe(SANITIZER_FAILED);
    expect(broken.describeError(new Error('x-raw-secret'))).toBe(SANITIZER_FAILED);
  });
});
