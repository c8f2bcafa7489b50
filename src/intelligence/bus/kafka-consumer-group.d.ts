/** kafkajs 2.2's internal consumer group class (no public typings; see kafka-membership.ts). */
declare module 'kafkajs/src/consumer/consumerGroup.js' {
  const ConsumerGroup: { prototype: object };
  export default ConsumerGroup;
}

/** kafkajs 2.2's internal offset manager class (see kafka-failover.ts). */
declare module 'kafkajs/src/consumer/offsetManager/index.js' {
  const OffsetManager: { prototype: object };
  export default OffsetManager;
}
