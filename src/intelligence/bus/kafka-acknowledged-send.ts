import { Partitioners, type ICustomPartitioner, type Message, type RecordMetadata } from 'kafkajs';

/** Sends of the messages still missing from the acknowledgements, the first one included. */
const MAX_ROUNDS = 5;

/**
 * kafkajs's default partitioner that writes its choice onto the message, so that a send can be
 * checked partition by partition afterwards (`sendAcknowledged`) and a message sent again goes
 * to the same partition.
 */
export const pinningPartitioner: ICustomPartitioner = () => {
  const choose = Partitioners.DefaultPartitioner();
  return (args) => {
    const partition = choose(args);
    args.message.partition = partition;
    return partition;
  };
};

/** Some messages of a publish were never acknowledged, however often they were sent. */
export class UnacknowledgedSendError extends Error {
  override name = 'UnacknowledgedSendError';
}

/**
 * Sends `messages` (partitioned by `pinningPartitioner`) until every partition they go to is
 * acknowledged. kafkajs can resolve a send without having sent some of it (kafkajs#1303): its
 * `sendMessages` keeps the response of each broker that answered, and when a retry after a dead
 * leader finds the partition's new leader among those brokers, it sends that partition nothing
 * and returns the old response. The messages of partitions missing from the result are sent
 * again, on their partition (the idempotent producer drops them if the dead leader had written
 * them after all). `send` is one kafkajs `producer.send` of the messages given.
 */
export async function sendAcknowledged(
  messages: Message[],
  send: (messages: Message[]) => Promise<RecordMetadata[]>,
): Promise<void> {
  let pending = messages;
  for (let round = 1; ; round += 1) {
    const acknowledged = new Set((await send(pending)).map(({ partition }) => partition));
    pending = pending.filter(
      ({ partition }) => partition === undefined || !acknowledged.has(partition),
    );
    if (pending.length === 0) return;
    if (round >= MAX_ROUNDS) {
      const partitions = [...new Set(pending.map(({ partition }) => String(partition)))];
      throw new UnacknowledgedSendError(
        `${String(pending.length)} messages for partitions ${partitions.join(',')} were not acknowledged after ${String(round)} sends`,
      );
    }
  }
}
