import { randomUUID } from 'node:crypto';

/** A topic name of the platform's form, unique to one test. */
export function uniqueTopic(name = 'test-event', kind: 'evt' | 'cmd' | 'intent' = 'evt'): string {
  return `onex.${kind}.test.${name}-${randomUUID().slice(0, 8)}.v1`;
}

/** A consumer group id unique to one test. */
export function uniqueGroup(name = 'group'): string {
  return `test-${name}-${randomUUID().slice(0, 8)}`;
}
