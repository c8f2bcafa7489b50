import {
  Module,
  type DynamicModule,
  type ModuleMetadata,
  type Provider,
  type Type,
} from '@nestjs/common';
import {
  DEFAULT_PROMOTION_THRESHOLD,
  PATTERN_PROMOTION_THRESHOLD,
} from './pattern-lifecycle/pattern-lifecycle.constants.js';
import { PatternLifecycleNode } from './pattern-lifecycle/pattern-lifecycle.node.js';
import { PatternLearningNode } from './pattern-learning/pattern-learning.node.js';
import { InMemoryPatternStore } from './pattern-storage/in-memory-pattern.store.js';
import { PatternStorageNode } from './pattern-storage/pattern-storage.node.js';
import { PatternStore } from './pattern-storage/pattern.store.js';

export interface PatternNodesOptions {
  /** Replaces the in-memory store: a class Nest instantiates, or an instance. */
  store?: Type<PatternStore> | PatternStore;
  /** Occurrences at which a candidate is validated automatically. @default 3 */
  promotionThreshold?: number;
  /**
   * Providers the store needs (for `PostgresPatternStore`: `PATTERN_SQL_CLIENT`, e.g.
   * `{ provide: PATTERN_SQL_CLIENT, useExisting: IntelligenceDatabase }`).
   */
  providers?: Provider[];
  /**
   * Modules those providers need (e.g. the app's `IntelligenceModule.forRoot(...)`, the very
   * object the app imports, so it stays one instance).
   */
  imports?: ModuleMetadata['imports'];
}

/**
 * The service's pattern chain: learning -> storage -> lifecycle, with an in-memory
 * `PatternStore` (exported, so the app can read it). Import it next to
 * `IntelligenceModule.forRoot(...)`; `PatternNodesModule.register(options)` replaces the
 * store or the promotion threshold.
 */
@Module({
  providers: [
    PatternLearningNode,
    PatternStorageNode,
    PatternLifecycleNode,
    { provide: PatternStore, useClass: InMemoryPatternStore },
    { provide: PATTERN_PROMOTION_THRESHOLD, useValue: DEFAULT_PROMOTION_THRESHOLD },
  ],
  exports: [PatternStore],
})
export class PatternNodesModule {
  /** The module with its defaults replaced (providers given here override the static ones). */
  static register(options: PatternNodesOptions = {}): DynamicModule {
    const { store, promotionThreshold, imports = [] } = options;
    const providers: Provider[] = [...(options.providers ?? [])];
    if (typeof store === 'function') providers.push({ provide: PatternStore, useClass: store });
    else if (store) providers.push({ provide: PatternStore, useValue: store });
    if (promotionThreshold !== undefined) {
      if (!Number.isInteger(promotionThreshold) || promotionThreshold < 1) {
        throw new RangeError(
          `PatternNodesModule: promotionThreshold must be a positive integer, got ${promotionThreshold}`,
        );
      }
      providers.push({ provide: PATTERN_PROMOTION_THRESHOLD, useValue: promotionThreshold });
    }
    return { module: PatternNodesModule, imports, providers, exports: [PatternStore] };
  }
}
