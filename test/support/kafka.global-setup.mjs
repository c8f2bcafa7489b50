import { startBroker } from '../../scripts/kafka/broker.mjs';

/**
 * Starts one real Kafka broker for the integration and e2e suites, unless `KAFKA_BROKERS`
 * names one already (both projects use this setup; the second call finds it running).
 * Plain ESM because jest loads global setup files natively.
 */
export default async function kafkaGlobalSetup() {
  if (process.env.KAFKA_BROKERS) return;
  const started = Date.now();
  const broker = await startBroker();
  globalThis.__KAFKA_BROKER__ = broker;
  process.env.KAFKA_BROKERS = broker.brokers.join(',');
  process.stdout.write(
    `\nKafka broker ready at ${process.env.KAFKA_BROKERS} in ${Date.now() - started} ms\n`,
  );
}
