/** Command: learn the recurring tool-call patterns of one session. */
export const PATTERN_LEARNING_TOPIC = 'onex.cmd.omniintelligence.pattern-learning.v1';

/** Event: a batch of patterns learned from one session. */
export const PATTERN_LEARNED_TOPIC = 'onex.evt.omniintelligence.pattern-learned.v1';

/** Event: one pattern stored (created or merged), with its current status. */
export const PATTERN_STORED_TOPIC = 'onex.evt.omniintelligence.pattern-stored.v1';

/** Command: move one pattern to another lifecycle status. */
export const PATTERN_LIFECYCLE_TRANSITION_TOPIC =
  'onex.cmd.omniintelligence.pattern-lifecycle-transition.v1';

/** Event: a pattern's lifecycle status changed. */
export const PATTERN_LIFECYCLE_TRANSITIONED_TOPIC =
  'onex.evt.omniintelligence.pattern-lifecycle-transitioned.v1';
