import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { RecordsBatch } from '@platformatic/kafka';
import { platformaticConnection } from '../../../src/intelligence/bus/platformatic-client-options.js';
import {
  classifyPlatformaticFailure,
  summarizePlatformaticError,
} from '../../../src/intelligence/bus/platformatic-failure-classifier.js';
import {
  loadPlatformaticKafka,
  PlatformaticKafkaUnavailableError,
} from '../../../src/intelligence/bus/platformatic-loader.js';
import { bridgePlatformaticLogs } from '../../../src/intelligence/bus/platformatic-log-bridge.js';
import { coordinatorLost } from '../../../src/intelligence/bus/platformatic-group-requests.js';
import { needsRejoin } from '../../../src/intelligence/bus/platformatic-membership-keeper.js';
import { isTooLarge } from '../../../src/intelligence/bus/platformatic-publisher.js';
import { readFetchedPartition } from '../../../src/intelligence/bus/platformatic-records.js';
import { LogSanitizer } from '../../../src/intelligence/logging/log-sanitizer.js';
import { captureLogs } from '../../support/capture-logs.js';

/** Error shapes as @platformatic/kafka builds them: retries in `errors`, causes in `cause`. */
function clientError(message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message, { cause: fields.cause }), fields);
}
function retried(message: string, ...errors: Error[]): Error {
  return Object.assign(new AggregateError(errors, message), { code: 'PLT_KFK_MULTIPLE' });
}
const protocol = (apiId: string) =>
  clientError(`protocol ${apiId}`, { apiId, code: 'PLT_KFK_PROTOCOL' });
const refused = () =>
  retried(
    'metadata failed 2 times.',
    retried(
      'Cannot connect to any broker.',
      clientError('Connection to 127.0.0.1:1 failed.', {
        code: 'PLT_KFK_NETWORK',
        cause: clientError('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' }),
      }),
    ),
  );
const plain = { sasl: false, tls: false };

describe('loadPlatformaticKafka', () => {
  it('names the package, the range to install and the Node lines when it is missing', async () => {
    const missing = Object.assign(new Error("Cannot find package '@platformatic/kafka'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const loading = loadPlatformaticKafka(() => Promise.reject(missing));
    await expect(loading).rejects.toBeInstanceOf(PlatformaticKafkaUnavailableError);
    const message = await loading.catch((error: unknown) => (error as Error).message);
    expect(message).toContain('npm install @platformatic/kafka@~1.35.0');
    expect(message).toContain('Node >= 22');
    expect(message).toContain("bus.client 'kafkajs'");
  });

  it('refuses a version without the parts it relies on', async () => {
    await expect(loadPlatformaticKafka(() => Promise.resolve({}))).rejects.toThrow(
      /not a version this library supports.*~1\.35\.0/,
    );
  });

  it('loads the installed 1.x', async () => {
    const kafka = await loadPlatformaticKafka();
    expect(typeof kafka.Consumer).toBe('function');
  });
});

describe('classifyPlatformaticFailure', () => {
  it.each([
    ['an unreachable broker', refused(), 'transient', 'unreachable'],
    [
      'a refused SASL password',
      retried('x', clientError('SASL authentication failed.', { code: 'PLT_KFK_AUTHENTICATION' })),
      'permanent',
      'authentication',
    ],
    [
      'a SASL mechanism the broker does not offer',
      clientError('Cannot find a suitable SASL mechanism.', {
        code: 'PLT_KFK_AUTHENTICATION',
        cause: retried('Received response with error', protocol('UNSUPPORTED_SASL_MECHANISM')),
      }),
      'permanent',
      'sasl-mechanism',
    ],
    [
      'a missing ACL',
      retried('x', protocol('TOPIC_AUTHORIZATION_FAILED')),
      'permanent',
      'authorization',
    ],
    [
      'TLS on a plain port',
      clientError('Connection failed.', {
        cause: clientError('TLS handshake failed. Please verify the broker supports TLS.'),
      }),
      'permanent',
      'protocol-mismatch',
    ],
    [
      'an untrusted certificate',
      clientError('Connection failed.', {
        cause: clientError('self-signed certificate in certificate chain', {
          code: 'SELF_SIGNED_CERT_IN_CHAIN',
        }),
      }),
      'permanent',
      'tls',
    ],
    [
      'a connection the broker closes at once',
      retried(
        'metadata failed 4 times.',
        clientError('Connection closed', { code: 'PLT_KFK_NETWORK' }),
      ),
      'permanent',
      'protocol-mismatch',
    ],
  ])('classifies %s', (_what, error, kind, cause) => {
    expect(classifyPlatformaticFailure(error, plain)).toMatchObject({ kind, cause });
  });

  it('says which protocol a closed connection likely wanted', () => {
    const closed = clientError('Connection closed', { code: 'PLT_KFK_NETWORK' });
    expect(classifyPlatformaticFailure(closed, { sasl: true, tls: false }).hint).toContain(
      'expects TLS',
    );
  });

  it('summarizes a retried failure by its outer message and root cause', () => {
    const summary = summarizePlatformaticError(refused());
    expect(summary.name).toBe('ECONNREFUSED');
    expect(summary.message).toBe('metadata failed 2 times: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('finds a too-large message and a lost generation anywhere in the error', () => {
    expect(isTooLarge(retried('Producing failed.', protocol('MESSAGE_TOO_LARGE')))).toBe(true);
    expect(isTooLarge(refused())).toBe(false);
    expect(needsRejoin(retried('x', clientError('gone', { needsRejoin: true })))).toBe(true);
    expect(needsRejoin(refused())).toBe(false);
  });

  it('tells a coordinator that died, moved or is loading from other group errors', () => {
    expect(coordinatorLost(refused())).toBe(true);
    expect(coordinatorLost(retried('heartbeat failed 6 times.', protocol('NOT_COORDINATOR')))).toBe(
      true,
    );
    expect(coordinatorLost(protocol('COORDINATOR_LOAD_IN_PROGRESS'))).toBe(true);
    expect(coordinatorLost(protocol('COORDINATOR_NOT_AVAILABLE'))).toBe(true);
    expect(coordinatorLost(protocol('REBALANCE_IN_PROGRESS'))).toBe(false);
    expect(coordinatorLost(protocol('ILLEGAL_GENERATION'))).toBe(false);
  });
});

describe('readFetchedPartition', () => {
  const record = (offsetDelta: number, value: Buffer | null, headers: [Buffer, Buffer][] = []) => ({
    length: 0,
    attributes: 0,
    timestampDelta: BigInt(offsetDelta),
    offsetDelta,
    key: Buffer.from([0xff, 0x00]),
    value,
    headers,
  });
  const batch = (firstOffset: bigint, attributes: number, records: ReturnType<typeof record>[]) =>
    ({
      firstOffset,
      attributes,
      lastOffsetDelta: Math.max(0, records.length - 1),
      firstTimestamp: 1_700_000_000_000n,
      records,
    }) as unknown as RecordsBatch;

  it('keeps bytes and tombstones, decodes headers, skips markers and records before the position', () => {
    const batches = [
      batch(10n, 0, [
        record(0, Buffer.from('before')),
        record(1, Buffer.from('a'), [
          [Buffer.from('correlation_id'), Buffer.from('c-1')],
          [Buffer.from('correlation_id'), Buffer.from('c-2')],
        ]),
        record(2, null),
      ]),
      batch(13n, 0x20, [record(0, Buffer.from('marker'))]),
    ];
    const { messages, next } = readFetchedPartition('t', 2, 11n, batches);
    expect(next).toBe(14n);
    expect(messages.map(({ offset, value }) => [offset, value?.toString() ?? null])).toEqual([
      ['11', 'a'],
      ['12', null],
    ]);
    expect(messages[0]).toMatchObject({
      topic: 't',
      partition: 2,
      timestamp: '1700000000001',
      headers: { correlation_id: 'c-1' },
    });
    expect(messages[0]?.key?.equals(Buffer.from([0xff, 0x00]))).toBe(true);
  });
});

describe('platformaticConnection', () => {
  it('maps TLS and SASL to the client options', () => {
    expect(
      platformaticConnection({
        clientId: 'c',
        brokers: ['b:9093'],
        ssl: true,
        sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
      }),
    ).toMatchObject({
      clientId: 'c',
      bootstrapBrokers: ['b:9093'],
      tls: {},
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' },
    });
    expect(
      platformaticConnection({ clientId: 'c', brokers: ['b:1'], ssl: false }),
    ).not.toHaveProperty('tls');
  });

  it('refuses a SASL mechanism the client has no authenticator for', () => {
    expect(() =>
      platformaticConnection({
        clientId: 'c',
        brokers: ['b:1'],
        sasl: {
          mechanism: 'aws',
          authorizationIdentity: 'a',
          accessKeyId: 'k',
          secretAccessKey: 's',
        },
      }),
    ).toThrow(/aws is not supported/);
  });
});

describe('bridgePlatformaticLogs', () => {
  it('logs client events at debug, sanitized, and detaches', () => {
    const logs = captureLogs();
    try {
      const client = new EventEmitter();
      const detach = bridgePlatformaticLogs(client, new LogSanitizer());
      client.emit('client:broker:failed', {
        broker: { host: 'kafka-1', port: 9093 },
        connection: { secret: 'x' },
      });
      client.emit('error', new Error('failed with password=hunter2'));
      detach();
      client.emit('client:broker:connect', { broker: { host: 'kafka-1', port: 9093 } });
      expect(logs.lines).toHaveLength(2);
      expect(logs.lines.every((line) => line.startsWith('debug'))).toBe(true);
      expect(logs.text()).toContain('kafka-1:9093');
      expect(logs.text()).not.toContain('hunter2');
      expect(logs.text()).not.toContain('secret');
    } finally {
      logs.restore();
    }
  });
});
