/** The lag last reported for each partition of a member, by topic. */
export class PartitionLag {
  private readonly topics = new Map<string, Map<number, number>>();

  record(topic: string, partition: number, lag: number): void {
    let partitions = this.topics.get(topic);
    if (!partitions) {
      partitions = new Map();
      this.topics.set(topic, partitions);
    }
    partitions.set(partition, lag);
  }

  clear(): void {
    this.topics.clear();
  }

  byTopic(): Record<string, Record<number, number>> {
    return Object.fromEntries(
      [...this.topics].map(([topic, partitions]) => [topic, Object.fromEntries(partitions)]),
    );
  }
}
