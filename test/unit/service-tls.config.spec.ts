import { describe, expect, it } from '@jest/globals';
import { kafkaSsl } from '../../src/service-tls.config.js';

const fail = (variable: string, problem: string): never => {
  throw new Error(`${variable}: ${problem}`);
};

describe('kafkaSsl (the service TLS variables)', () => {
  it('is off without TLS variables, the system CAs with KAFKA_SSL=true', () => {
    expect(kafkaSsl({}, fail)).toBeUndefined();
    expect(kafkaSsl({ KAFKA_SSL: 'true' }, fail)).toBe(true);
  });

  it('passes the server name and the unsafe rejectUnauthorized=false on', () => {
    expect(
      kafkaSsl(
        { KAFKA_SSL_SERVERNAME: 'kafka.internal', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' },
        fail,
      ),
    ).toEqual({ servername: 'kafka.internal', rejectUnauthorized: false });
    expect(kafkaSsl({ KAFKA_SSL_REJECT_UNAUTHORIZED: 'true' }, fail)).toEqual({});
  });

  it('refuses TLS variables next to KAFKA_SSL=false', () => {
    expect(() => kafkaSsl({ KAFKA_SSL: 'false', KAFKA_SSL_SERVERNAME: 'x' }, fail)).toThrow(
      /^KAFKA_SSL: /,
    );
  });
});
