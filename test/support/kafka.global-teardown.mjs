/** Stops the broker `kafka.global-setup.mjs` started, if it started one. */
export default async function kafkaGlobalTeardown() {
  const broker = globalThis.__KAFKA_BROKER__;
  if (!broker) return;
  globalThis.__KAFKA_BROKER__ = undefined;
  delete process.env.KAFKA_BROKERS;
  await broker.cleanup();
}
