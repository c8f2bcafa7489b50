import type { LogSanitizer } from '../logging/log-sanitizer.js';
import type { ClusterHealth } from './bus-message.interface.js';
import { PartitionWatch, type PartitionState } from './partition-watch.js';
import { ProduceStalls } from './produce-stalls.js';

/** How often the partitions of the bus's topics are described. @see KafkaBusOptions.clusterWatchMs */
export const CLUSTER_WATCH_MS = 2_000;

export interface ClusterWatchSources {
  /** Describes the partitions of `topics` (one metadata request of the bus's admin client). */
  describe(topics: readonly string[]): Promise<PartitionState[]>;
  /** Other trouble of the moment, one entry each (a member's lost coordinator). */
  otherTrouble(): string[];
}

interface TroubleWindow {
  since: number;
  trouble: Set<string>;
}

/**
 * The bus's view of cluster trouble while it lasts: under-replicated and leaderless partitions
 * of its topics (described every `intervalMs`, 0: never), leader moves, publishes stalled on
 * their acknowledgements, and whatever `otherTrouble` reports. A spell of trouble opens when
 * the first of them shows and ends when none is left; the last ended one is kept as
 * `recovered`. Descriptions never overlap, never keep the process alive, and stop with `stop()`.
 */
export class ClusterWatch {
  private readonly topics = new Set<string>();
  private readonly partitions = new PartitionWatch();
  private readonly produce = new ProduceStalls();
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by `stop()`: a describe still under way then changes nothing. */
  private generation = 0;
  private checkedAt: number | undefined;
  private lastError: string | undefined;
  private window: TroubleWindow | undefined;
  private recovered: ClusterHealth['recovered'];

  constructor(
    private readonly sources: ClusterWatchSources,
    private readonly sanitizer: LogSanitizer,
    private readonly intervalMs = CLUSTER_WATCH_MS,
  ) {}

  /** Starts describing (every `intervalMs`) the topics given to `watch`. */
  start(): void {
    this.stop();
    if (this.intervalMs > 0) this.schedule(this.generation);
  }

  stop(): void {
    this.generation += 1;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Topics whose partitions are watched from now on (published to, subscribed to). */
  watch(topics: Iterable<string>): void {
    for (const topic of topics) this.topics.add(topic);
  }

  /** A publish to `topic` was sent; hand the id to `publishEnded`. */
  publishStarted(topic: string): number {
    return this.produce.begin(topic, Date.now());
  }

  /** The publish ended; `error` when it failed (described through the sanitizer). */
  publishEnded(id: number, error?: unknown): void {
    const at = Date.now();
    const described = error === undefined ? undefined : this.sanitizer.describeError(error);
    const stall = this.produce.end(id, at, described);
    if (stall) this.track(at, [`produce stalled ${stall.topic}`], stall.startedAt);
    // On the publish path: the other sources are only asked while a spell may end.
    if (this.window) this.refresh(at);
  }

  health(): ClusterHealth {
    const at = Date.now();
    this.refresh(at);
    const window = this.window;
    return {
      state: window ? 'degraded' : 'healthy',
      ...(window
        ? { degradedSince: new Date(window.since).toISOString(), trouble: [...window.trouble] }
        : {}),
      ...(this.checkedAt === undefined
        ? {}
        : { checkedAt: new Date(this.checkedAt).toISOString() }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...this.partitions.health(),
      produce: this.produce.health(at),
      ...(this.recovered ? { recovered: { ...this.recovered } } : {}),
    };
  }

  private schedule(generation: number): void {
    this.timer = setTimeout(() => void this.check(generation), this.intervalMs);
    this.timer.unref();
  }

  private async check(generation: number): Promise<void> {
    if (this.topics.size > 0) {
      try {
        const described = await this.sources.describe([...this.topics]);
        if (generation !== this.generation) return;
        this.partitions.observe(described, Date.now());
        this.checkedAt = Date.now();
        this.lastError = undefined;
      } catch (error) {
        if (generation !== this.generation) return;
        this.lastError = this.sanitizer.describeError(error);
      }
      this.refresh(Date.now());
    }
    if (generation === this.generation) this.schedule(generation);
  }

  /** Opens, widens or ends the spell of trouble from what is wrong at `at`. */
  private refresh(at: number): void {
    const trouble = [...this.partitions.trouble(), ...this.sources.otherTrouble()];
    const stalled = this.produce.stalled(at);
    if (stalled) trouble.push(`produce stalled ${stalled.topics.join(',')}`);
    this.track(at, trouble, stalled?.since ?? at);
  }

  private track(at: number, trouble: readonly string[], since: number): void {
    if (trouble.length > 0) {
      this.window ??= { since, trouble: new Set() };
      this.window.since = Math.min(this.window.since, since);
      for (const entry of trouble) this.window.trouble.add(entry);
      return;
    }
    const ended = this.window;
    if (!ended) return;
    this.window = undefined;
    this.recovered = {
      trouble: [...ended.trouble],
      since: new Date(ended.since).toISOString(),
      recoveredAt: new Date(at).toISOString(),
      tookMs: at - ended.since,
    };
  }
}
