import type * as PlatformaticKafka from '@platformatic/kafka';

/** The @platformatic/kafka module, loaded only when `bus.client: 'platformatic'` is chosen. */
export type PlatformaticKafkaModule = typeof PlatformaticKafka;

/** The versions this adapter is written against (it wraps the 1.x group-join path). */
export const PLATFORMATIC_KAFKA_RANGE = '~1.35.0';

const INSTALL = `npm install @platformatic/kafka@${PLATFORMATIC_KAFKA_RANGE}`;
const NODE_NOTE = '1.x runs on Node 20; 2.x needs Node >= 22';

/**
 * Why @platformatic/kafka cannot be used: not installed, or a version this adapter does not
 * know. The message says what to install; it never carries the loader's own error text.
 */
export class PlatformaticKafkaUnavailableError extends Error {
  override name = 'PlatformaticKafkaUnavailableError';
}

type Importer = () => Promise<unknown>;

const defaultImporter: Importer = () => import('@platformatic/kafka');

let loading: Promise<PlatformaticKafkaModule> | undefined;

/**
 * Loads @platformatic/kafka (an optional peer dependency) once per process. Rejects with
 * `PlatformaticKafkaUnavailableError` naming the package and the range to install when it is
 * missing or is not a 1.x with the parts the adapter relies on. A failed load is not cached.
 */
export function loadPlatformaticKafka(
  importer: Importer = defaultImporter,
): Promise<PlatformaticKafkaModule> {
  if (importer !== defaultImporter) return load(importer);
  loading ??= load(importer).catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

async function load(importer: Importer): Promise<PlatformaticKafkaModule> {
  let module: unknown;
  try {
    module = await importer();
  } catch (error) {
    if (isNotFound(error)) {
      throw new PlatformaticKafkaUnavailableError(
        `bus.client 'platformatic' needs the optional peer dependency @platformatic/kafka, which is not installed: run \`${INSTALL}\` (${NODE_NOTE}), or use bus.client 'kafkajs'`,
      );
    }
    throw new PlatformaticKafkaUnavailableError(
      `@platformatic/kafka is installed but could not be loaded: install ${PLATFORMATIC_KAFKA_RANGE} (${NODE_NOTE})`,
    );
  }
  if (!isSupported(module)) {
    throw new PlatformaticKafkaUnavailableError(
      `the installed @platformatic/kafka is not a version this library supports: run \`${INSTALL}\` (${NODE_NOTE})`,
    );
  }
  return module;
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/** The parts of the 1.x API the adapter uses (2.x may move them). */
function isSupported(module: unknown): module is PlatformaticKafkaModule {
  const kafka = module as Partial<Record<string, unknown>>;
  const channel = kafka.consumerGroupChannel as { traceCallback?: unknown } | undefined;
  const consumer = kafka.Consumer as { prototype?: Record<string, unknown> } | undefined;
  return (
    typeof channel?.traceCallback === 'function' &&
    typeof consumer?.prototype?.joinGroup === 'function' &&
    typeof consumer.prototype.fetch === 'function' &&
    typeof kafka.Producer === 'function' &&
    typeof kafka.Admin === 'function' &&
    typeof kafka.ConnectionPool === 'function' &&
    typeof kafka.kGetApi === 'symbol' &&
    typeof kafka.kGetConnection === 'symbol' &&
    typeof kafka.kOptions === 'symbol'
  );
}
