import { describe, expect, it } from '@jest/globals';
import { loadServiceConfig, ServiceConfigError } from '../../src/service.config.js';

describe('service config: the Kafka client', () => {
  const brokers = { KAFKA_BROKERS: '127.0.0.1:9092' };

  it('runs on kafkajs unless KAFKA_CLIENT names @platformatic/kafka', () => {
    expect(loadServiceConfig(brokers).bus).not.toHaveProperty('client');
    expect(loadServiceConfig({ ...brokers, KAFKA_CLIENT: 'platformatic' }).bus).toMatchObject({
      kind: 'kafka',
      client: 'platformatic',
    });
  });

  it('refuses an unknown client, naming the variable and not echoing the value', () => {
    let error: unknown;
    try {
      loadServiceConfig({ ...brokers, KAFKA_CLIENT: 'rdkafka-secret-value' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ServiceConfigError);
    expect(String(error)).toContain('KAFKA_CLIENT');
    expect(String(error)).not.toContain('rdkafka-secret-value');
  });
});
