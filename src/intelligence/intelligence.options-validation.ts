import { databaseOptionsSchema } from './database/database.options.js';
import { z } from 'zod';
import { EventBus } from './bus/event-bus.js';
import {
  IntelligenceOptionsError,
  type IntelligenceModuleOptions,
} from './intelligence.options.js';

const positiveInt = z.number().int().positive();
/** The longest delay Node's timers take: a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;
const timerMessage = `must be at most ${String(MAX_TIMER_MS)} ms (about 24.8 days), the longest timer Node.js can set`;
/** A duration in ms that a timer waits: a positive integer a `setTimeout` can hold. */
const durationMs = positiveInt.max(MAX_TIMER_MS, timerMessage);
/** As `durationMs`, 0 allowed. */
const durationOrZeroMs = z.number().int().min(0).max(MAX_TIMER_MS, timerMessage);
const backoff = z
  .object({ initialMs: durationMs, maxMs: durationMs })
  .refine((value) => value.maxMs >= value.initialMs, { error: 'maxMs must be >= initialMs' });
/** `dispatch.retry`, and a handler's own `retry`. */
export const retryPolicySchema = z.discriminatedUnion(
  'mode',
  [
    z.object({ mode: z.literal('in-place') }),
    z.object({
      mode: z.literal('topics'),
      delaysMs: z.array(durationMs).min(1, 'needs at least one tier').max(20),
    }),
  ],
  { error: "must be { mode: 'in-place' } or { mode: 'topics', delaysMs: [ms, ...] }" },
);
const broker = z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'must be "host:port"');

/** Username and password SASL: both are needed (a missing one fails at the broker, forever). */
const sasl = z.looseObject({ mechanism: z.string() }).superRefine((value, ctx) => {
  if (!['plain', 'scram-sha-256', 'scram-sha-512'].includes(value.mechanism)) return;
  for (const field of ['username', 'password'] as const) {
    const given: unknown = value[field];
    if (typeof given !== 'string' || given === '') {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `is required with mechanism ${value.mechanism}`,
      });
    }
  }
});

const kafkaBus = z.looseObject({
  kind: z.literal('kafka'),
  client: z
    .enum(['kafkajs', 'platformatic'], {
      error: "must be 'kafkajs' (the default) or 'platformatic' (@platformatic/kafka)",
    })
    .optional(),
  brokers: z.array(broker).min(1),
  clientId: z.string().min(1).optional(),
  groupId: z.string().min(1).optional(),
  connectionTimeoutMs: durationMs.optional(),
  connectRetries: z.number().int().min(0).optional(),
  consumerRetries: z.number().int().min(0).optional(),
  publishRetries: z.number().int().min(0).optional(),
  sessionTimeoutMs: durationMs.optional(),
  heartbeatIntervalMs: durationMs.optional(),
  commitIntervalMs: durationMs.optional(),
  fetchMaxWaitMs: durationMs.optional(),
  partitionsConsumedConcurrently: positiveInt.optional(),
  maxBufferedPerPartition: positiveInt.optional(),
  defaultPartitions: positiveInt.optional(),
  clusterWatchMs: durationOrZeroMs.optional(),
  compression: z.enum(['none', 'gzip']).optional(),
  sasl: sasl.optional(),
});

const busSchema = z.discriminatedUnion(
  'kind',
  [z.object({ kind: z.literal('memory'), maxBufferedPerTopic: positiveInt.optional() }), kafkaBus],
  { error: "must be { kind: 'memory' }, { kind: 'kafka', brokers: ['host:port'] } or an EventBus" },
);

const schema = z.object({
  serviceName: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be kebab-case: lowercase letters, digits and dashes'),
  instanceId: z.string().min(1).max(200).optional(),
  bus: z.unknown().optional(),
  topicMap: z
    .custom<(topic: string) => string>((value) => typeof value === 'function', 'must be a function')
    .optional(),
  groupId: z.string().min(1).optional(),
  introspection: z
    .object({ enabled: z.boolean().optional(), heartbeatIntervalMs: durationMs.optional() })
    .optional(),
  dispatch: z
    .object({
      maxAttempts: positiveInt.optional(),
      backoff: backoff.optional(),
      deadLetter: z.union([z.boolean(), z.object({ topic: z.string().min(1) })]).optional(),
      concurrency: positiveInt.optional(),
      handlerTimeoutMs: durationOrZeroMs.optional(),
      topicValidation: z.enum(['warn', 'reject', 'off']).optional(),
      startFrom: z.enum(['earliest', 'latest']).optional(),
      retry: retryPolicySchema.optional(),
    })
    .optional(),
  wiring: z
    .object({
      failFast: z.boolean().optional(),
      retry: z.union([backoff, z.literal(false)]).optional(),
    })
    .optional(),
  shutdown: z
    .object({
      drainTimeoutMs: durationOrZeroMs.optional(),
      disconnectTimeoutMs: durationMs.optional(),
    })
    .optional(),
  tracing: z.object({ enabled: z.boolean().optional() }).optional(),
  database: databaseOptionsSchema.optional(),
  logging: z
    .object({
      redactEmails: z.boolean().optional(),
      redactIpAddresses: z.boolean().optional(),
      customPatterns: z.array(z.instanceof(RegExp)).optional(),
    })
    .optional(),
});

/** Checks the options at boot; throws `IntelligenceOptionsError` naming the first bad field. */
export function validateIntelligenceOptions(options: IntelligenceModuleOptions): void {
  fail(schema.safeParse(options).error);
  const bus: unknown = options.bus;
  if (bus !== undefined && !(bus instanceof EventBus)) fail(busSchema.safeParse(bus).error, 'bus');
}

function fail(error: z.ZodError | undefined, prefix?: string): void {
  const issue = error?.issues[0];
  if (!issue) return;
  const field = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  throw new IntelligenceOptionsError(field || '(options)', issue.message);
}
