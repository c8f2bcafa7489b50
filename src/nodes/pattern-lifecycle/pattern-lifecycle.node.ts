import { Inject, Injectable } from '@nestjs/common';
import {
  IntelligenceHandler,
  IntelligenceNode,
  PermanentHandlerError,
  type DispatchContext,
  type IntelligenceEvent,
} from '../../intelligence/index.js';
import { patternStoredSchema } from '../pattern-storage/pattern-storage.schema.js';
import {
  PatternStore,
  type PatternRecord,
  type PatternTransition,
} from '../pattern-storage/pattern.store.js';
import {
  PATTERN_LIFECYCLE_TRANSITION_TOPIC,
  PATTERN_LIFECYCLE_TRANSITIONED_TOPIC,
  PATTERN_STORED_TOPIC,
} from '../pattern-topics.constants.js';
import type { PatternStatus } from '../shared/pattern.schema.js';
import { parsePayload } from '../shared/payload.validation.js';
import { PATTERN_PROMOTION_THRESHOLD } from './pattern-lifecycle.constants.js';
import { decideTransition, promotionTarget } from './pattern-lifecycle.compute.js';
import {
  patternTransitionCommandSchema,
  type PatternTransitionedPayload,
} from './pattern-lifecycle.schema.js';

/**
 * The patterns' lifecycle: promotes a stored `candidate` to `validated` once it recurs often
 * enough, and applies explicit transition requests. An illegal request or an unknown pattern
 * is dead-lettered; a request for the current status is a no-op. Each applied transition is
 * published once as `pattern-lifecycle-transitioned`, keyed by pattern id.
 */
@IntelligenceNode({
  name: 'pattern-lifecycle',
  kind: 'reducer',
  version: '1.0.0',
  capabilities: ['pattern-lifecycle'],
})
@Injectable()
export class PatternLifecycleNode {
  constructor(
    @Inject(PatternStore) private readonly store: PatternStore,
    @Inject(PATTERN_PROMOTION_THRESHOLD) private readonly threshold: number,
  ) {}

  @IntelligenceHandler(PATTERN_STORED_TOPIC, { idempotencyKey: (event) => event.envelopeId })
  async promote(event: IntelligenceEvent, ctx: DispatchContext): Promise<void> {
    const stored = parsePayload(patternStoredSchema, event.payload, 'pattern-stored event');
    const record = await this.store.get(stored.pattern_id);
    // Stored before this event was published: a miss is a lagging store, worth a retry.
    if (!record) throw new Error(`Pattern ${stored.pattern_id} is not in the pattern store`);
    if (await this.redelivered(record, event, ctx)) return;
    const target = promotionTarget(record, this.threshold);
    if (target === undefined) return;
    const reason = `occurrences ${record.occurrences} reached the promotion threshold ${this.threshold}`;
    await this.apply(record, target, reason, event, ctx);
  }

  @IntelligenceHandler(PATTERN_LIFECYCLE_TRANSITION_TOPIC, {
    idempotencyKey: (event) => event.envelopeId,
  })
  async transition(event: IntelligenceEvent, ctx: DispatchContext): Promise<void> {
    const command = parsePayload(
      patternTransitionCommandSchema,
      event.payload,
      'pattern-lifecycle-transition command',
    );
    const record = await this.store.get(command.pattern_id);
    if (!record) {
      throw new PermanentHandlerError(
        `Unknown pattern ${command.pattern_id}: cannot move it to ${command.to_status}`,
      );
    }
    if (await this.redelivered(record, event, ctx)) return;
    await this.apply(record, command.to_status, command.reason ?? null, event, ctx);
  }

  private async apply(
    record: PatternRecord,
    to: PatternStatus,
    reason: string | null,
    event: IntelligenceEvent,
    ctx: DispatchContext,
  ): Promise<void> {
    const decision = decideTransition(record.status, to);
    if (decision.kind === 'illegal') {
      throw new PermanentHandlerError(
        `Illegal lifecycle transition of pattern ${record.pattern_id}: ${decision.reason}`,
      );
    }
    if (decision.kind === 'noop') return;
    const change: PatternTransition = {
      from_status: record.status,
      to_status: to,
      reason,
      cause: causeOf(event),
      correlation_id: event.correlationId,
    };
    const result = await this.store.setStatus(record.pattern_id, change);
    if (!result.applied) {
      // Another transition won the race: the retry decides again from the new status.
      const now = result.record?.status ?? 'missing';
      throw new Error(`Pattern ${record.pattern_id} changed meanwhile (now ${now}); retrying`);
    }
    await announce(record.pattern_id, change, ctx);
  }

  /**
   * Whether this message's transition was applied already (a redelivery). It is announced
   * again while still the latest one, since the first announcement may have failed.
   */
  private async redelivered(
    record: PatternRecord,
    event: IntelligenceEvent,
    ctx: DispatchContext,
  ): Promise<boolean> {
    const cause = causeOf(event);
    const index = record.transitions.findIndex((transition) => transition.cause === cause);
    if (index === -1) return false;
    const applied = record.transitions[index];
    if (applied && index === record.transitions.length - 1) {
      await announce(record.pattern_id, applied, ctx);
    }
    return true;
  }
}

async function announce(
  patternId: string,
  transition: PatternTransition,
  ctx: DispatchContext,
): Promise<void> {
  const payload: PatternTransitionedPayload = {
    pattern_id: patternId,
    from_status: transition.from_status,
    to_status: transition.to_status,
    reason: transition.reason,
  };
  await ctx.publish(PATTERN_LIFECYCLE_TRANSITIONED_TOPIC, payload, { key: patternId });
}

/**
 * Identity of the message across redeliveries: its position plus its timestamp (so a
 * recreated topic reusing offsets does not match). Flat payloads have no stable envelope id.
 */
function causeOf(event: IntelligenceEvent): string {
  return `${event.topic}/${event.partition}@${event.offset}#${event.timestamp}`;
}
