/** kafkajs 2.2's internal consumer group class (no public typings; see kafka-membership.ts). */
declare module 'kafkajs/src/consumer/consumerGroup.js' {
  const ConsumerGroup: { prototype: object };
  export default ConsumerGroup;
}
