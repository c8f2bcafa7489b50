import type { TopicSpec } from './kafka-topic-admin.js';

/** Creates the given topics that are missing; resolves with the ones it created. */
export type CreateTopics = (topics: TopicSpec[]) => Promise<string[]>;

/**
 * The topics a Kafka bus knows to exist, for either client: a topic is checked (and created
 * when missing, with `defaultPartitions` unless given) once, and then taken as there.
 */
export class KafkaTopicRegistry {
  private readonly known = new Set<string>();
  private readonly ensuring = new Map<string, Promise<void>>();

  constructor(private readonly options: { createTopics?: boolean; defaultPartitions?: number }) {}

  /** Whether the bus creates missing topics it subscribes or publishes to. */
  get creates(): boolean {
    return this.options.createTopics ?? true;
  }

  /** Whether a publish to `topic` has to make sure of it first. */
  needsCheck(topic: string): boolean {
    return this.creates && !this.known.has(topic);
  }

  /**
   * The first publish to a topic creates it like a subscribed one (`defaultPartitions`), not
   * as the broker's auto-creation would (1 partition, and a retriable error on the first
   * produce). Concurrent first publishes share one check; if creating fails (not allowed,
   * say) the publish goes on and the broker decides. `ensure`: the bus's `ensureTopics`.
   */
  ensureForPublish(
    topic: string,
    ensure: (topics: TopicSpec[]) => Promise<unknown>,
  ): Promise<void> {
    let pending = this.ensuring.get(topic);
    if (!pending) {
      pending = ensure([{ topic }])
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => this.ensuring.delete(topic));
      this.ensuring.set(topic, pending);
    }
    return pending;
  }

  /** Creates those of `topics` not known yet (with `defaultPartitions` unless given). */
  async ensure(topics: readonly TopicSpec[], create: CreateTopics): Promise<string[]> {
    const wanted = topics.filter(({ topic }) => !this.known.has(topic));
    if (wanted.length === 0) return [];
    const created = await create(
      wanted.map((spec) => ({
        ...spec,
        numPartitions: spec.numPartitions ?? this.options.defaultPartitions ?? 3,
      })),
    );
    for (const { topic } of wanted) this.known.add(topic);
    return created;
  }
}
