import kafkaGlobalTeardown from './kafka.global-teardown.mjs';
import postgresGlobalTeardown from './postgres.global-teardown.mjs';

/** Stops what `postgres-kafka.global-setup.mjs` started (each part only if it started it). */
export default async function postgresKafkaGlobalTeardown() {
  const results = await Promise.allSettled([kafkaGlobalTeardown(), postgresGlobalTeardown()]);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}
