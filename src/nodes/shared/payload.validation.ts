import type { z } from 'zod';
import { PermanentHandlerError } from '../../intelligence/index.js';

/** Issues named in one error message; the rest are counted. */
const MAX_ISSUES_SHOWN = 5;

interface Issue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * Parses a handler's payload with `schema`. A payload that does not match is permanently bad
 * (retrying cannot fix it): throws `PermanentHandlerError` naming each bad field.
 */
export function parsePayload<S extends z.ZodType>(
  schema: S,
  payload: unknown,
  what: string,
): z.output<S> {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw new PermanentHandlerError(`Invalid ${what}: ${describeIssues(result.error.issues)}`);
}

/** `events[3].tool: Invalid input: expected string, received number; ...` */
export function describeIssues(issues: readonly Issue[]): string {
  const shown = issues
    .slice(0, MAX_ISSUES_SHOWN)
    .map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  const hidden = issues.length - shown.length;
  return hidden > 0 ? `${shown.join('; ')} (and ${hidden} more)` : shown.join('; ');
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(payload)';
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text;
}
