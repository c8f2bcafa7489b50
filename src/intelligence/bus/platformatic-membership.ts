import type { Consumer } from '@platformatic/kafka';
import type { PlatformaticKafkaModule } from './platformatic-loader.js';

/**
 * Runs before the consumer sends a JoinGroup request. Resolves `true` to let the join go on,
 * `false` to drop it (the subscription is closing and leaves the group instead).
 */
export type BeforeJoin = () => Promise<boolean>;

type Callback = (error: Error | null, result?: unknown) => void;
type TraceCallback = (
  fn: (...args: unknown[]) => unknown,
  position: number,
  context: { operation?: unknown; client?: unknown } | undefined,
  thisArg: unknown,
  ...args: unknown[]
) => unknown;

const INSTALLED = Symbol.for('nestjs-intelligence.platformatic-join-hook');
const hooks = new WeakMap<object, BeforeJoin>();

/**
 * Gives `consumer` a hook that runs before each of its group (re)joins, while the member still
 * holds the partitions of its current generation. Returns a function that removes it.
 *
 * @platformatic/kafka 1.x has no rebalance listener: when a heartbeat answers
 * REBALANCE_IN_PROGRESS it emits `consumer:group:rebalance` and sends JoinGroup in the same
 * tick (`Consumer#heartbeat` → `#joinGroup`), and a commit refused for the generation rejoins
 * the same way. Every join of the classic protocol goes through `#joinGroup`, which runs the
 * request as `consumerGroupChannel.traceCallback(#performJoinGroup, 1, { client, operation:
 * 'joinGroup' }, ...)`. Wrapping that one method of the exported channel lets a consumer with a
 * hook hold its JoinGroup back until the hook resolves. The coordinator completes a rebalance
 * only once every member of the old generation has rejoined (or the rebalance timeout passed,
 * or the member's session expired), so while the hook runs, and the member keeps heartbeating,
 * no other member is given this member's partitions. Consumers without a hook, and every other
 * operation, pass through untouched.
 */
export function registerBeforeJoin(
  kafka: PlatformaticKafkaModule,
  consumer: Consumer,
  beforeJoin: BeforeJoin,
): () => void {
  install(kafka);
  hooks.set(consumer, beforeJoin);
  return () => {
    hooks.delete(consumer);
  };
}

function install(kafka: PlatformaticKafkaModule): void {
  const channel = kafka.consumerGroupChannel as unknown as {
    traceCallback: TraceCallback;
    [INSTALLED]?: true;
  };
  if (channel[INSTALLED]) return;
  const original = channel.traceCallback;
  channel.traceCallback = function (this: unknown, fn, position, context, thisArg, ...args) {
    const client = context?.client;
    const hook =
      context?.operation === 'joinGroup' && typeof client === 'object' && client !== null
        ? hooks.get(client)
        : undefined;
    if (!hook) return Reflect.apply(original, this, [fn, position, context, thisArg, ...args]);
    void hook()
      .catch(() => true)
      .then((proceed) => {
        if (proceed) {
          Reflect.apply(original, this, [fn, position, context, thisArg, ...args]);
          return;
        }
        const callback = args[position];
        if (typeof callback === 'function') (callback as Callback)(null);
      });
    return undefined;
  };
  channel[INSTALLED] = true;
}
