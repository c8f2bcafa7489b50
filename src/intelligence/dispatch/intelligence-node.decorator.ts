import { DiscoveryService } from '@nestjs/core';
import type { IntelligenceNodeMetadata } from '../introspection/introspection-node.interface.js';

/**
 * Marks a provider class as an intelligence node: announced in introspection, with
 * heartbeats when `kind` is `'effect'`. Its `@IntelligenceHandler` methods consume events.
 *
 * ```ts
 * @IntelligenceNode({ name: 'pattern-storage', kind: 'effect', version: '1.0.0' })
 * @Injectable()
 * export class PatternStorageNode { ... }
 * ```
 */
export const IntelligenceNode = DiscoveryService.createDecorator<IntelligenceNodeMetadata>();
