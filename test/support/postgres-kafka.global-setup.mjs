import kafkaGlobalSetup from './kafka.global-setup.mjs';
import kafkaGlobalTeardown from './kafka.global-teardown.mjs';
import postgresGlobalSetup from './postgres.global-setup.mjs';
import postgresGlobalTeardown from './postgres.global-teardown.mjs';

/**
 * A jest project has one global setup: this one starts Kafka and PostgreSQL side by side. If
 * either fails, the other is stopped again (jest runs no teardown after a failed setup).
 */
export default async function postgresKafkaGlobalSetup() {
  const results = await Promise.allSettled([kafkaGlobalSetup(), postgresGlobalSetup()]);
  const failed = results.find((result) => result.status === 'rejected');
  if (!failed) return;
  await Promise.allSettled([kafkaGlobalTeardown(), postgresGlobalTeardown()]);
  throw failed.reason;
}
