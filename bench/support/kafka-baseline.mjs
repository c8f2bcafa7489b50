/**
 * The baseline consumer of the Kafka benches: plain kafkajs, `eachBatch`, `onMessage` per
 * message, `resolveOffset` after it, `commitOffsetsIfNecessary` per batch — what the bus's
 * subscription does, minus the bus.
 * @param {import('kafkajs').Kafka} kafka
 * @param {{ topic: string, groupId: string, settings: { sessionTimeoutMs: number, heartbeatIntervalMs: number, fetchMaxWaitMs: number, commitIntervalMs: number, partitionsConsumedConcurrently: number }, onMessage: (message: import('kafkajs').KafkaMessage) => Promise<void> }} options
 */
export async function startEachBatchConsumer(kafka, { topic, groupId, settings, onMessage }) {
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: settings.sessionTimeoutMs,
    heartbeatInterval: settings.heartbeatIntervalMs,
    maxWaitTimeInMs: settings.fetchMaxWaitMs,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    autoCommit: true,
    autoCommitInterval: settings.commitIntervalMs,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: settings.partitionsConsumedConcurrently,
    eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary }) => {
      for (const message of batch.messages) {
        await onMessage(message);
        resolveOffset(message.offset);
      }
      await commitOffsetsIfNecessary();
    },
  });
  return consumer;
}
