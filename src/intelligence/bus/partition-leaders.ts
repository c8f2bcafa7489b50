import type { PartitionState } from './partition-watch.js';

const LEADERS_WAIT_MS = 10_000;

/**
 * Until every partition of `topics` has a leader (at most 10 s), as `describe` tells it; a
 * failed describe counts as not yet. After a create: a node that has not applied the new
 * topic yet answers UNKNOWN_TOPIC_OR_PARTITION.
 */
export async function waitForLeaders(
  topics: readonly string[],
  describe: (topics: readonly string[]) => Promise<PartitionState[]>,
): Promise<void> {
  const deadline = Date.now() + LEADERS_WAIT_MS;
  for (;;) {
    const partitions = await describe(topics).catch(() => undefined);
    const ready =
      partitions !== undefined &&
      topics.every((topic) => {
        const own = partitions.filter((state) => state.topic === topic);
        return own.length > 0 && own.every(({ leader }) => leader >= 0);
      });
    if (ready || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
