import { inspect, types } from 'node:util';
import {
  EMAIL_PATTERN,
  IP_PATTERN,
  SECRET_KEY_PATTERN,
  SECRET_PATTERNS,
  type SecretPattern,
} from './secret-patterns.js';

export interface LogSanitizerOptions {
  /** Also redact e-mail addresses. @default false */
  redactEmails?: boolean;
  /** Also redact IPv4/IPv6 addresses. @default false */
  redactIpAddresses?: boolean;
  /** Extra patterns; each match is replaced by `[REDACTED]`. */
  customPatterns?: readonly RegExp[];
}

/** What is logged instead when sanitizing itself fails: never the raw text. */
export const SANITIZER_FAILED = '[REDACTED: sanitizer failed]';
export const REDACTED = '[REDACTED]';

const MAX_DEPTH = 6;
const MAX_KEYS = 50;
const MAX_TEXT = 4_000;

/**
 * Scrubs secrets out of free text and structured values before they are logged or stored.
 * Fails closed: if anything goes wrong inside, the result is a fixed placeholder.
 */
export class LogSanitizer {
  private readonly patterns: readonly SecretPattern[];

  constructor(options: LogSanitizerOptions = {}) {
    const custom = (options.customPatterns ?? []).map((pattern, index) => ({
      name: `custom-${index}`,
      pattern: new RegExp(
        pattern.source,
        pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`,
      ),
      replacement: REDACTED,
    }));
    this.patterns = [
      ...SECRET_PATTERNS,
      ...(options.redactEmails ? [EMAIL_PATTERN] : []),
      ...(options.redactIpAddresses ? [IP_PATTERN] : []),
      ...custom,
    ];
  }

  /** Returns `text` with every secret replaced; truncated to a bounded length. */
  sanitize(text: string): string {
    try {
      let out = text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…[truncated]` : text;
      for (const { pattern, replacement } of this.patterns) {
        pattern.lastIndex = 0;
        out = out.replace(pattern, replacement);
      }
      return out;
    } catch {
      return SANITIZER_FAILED;
    }
  }

  /** `Name: message` of an error (or anything thrown), sanitized. */
  describeError(error: unknown): string {
    try {
      // isNativeError: an error made in another realm (a vm context, jest's sandbox) is one too.
      if (error instanceof Error || types.isNativeError(error)) {
        return this.sanitize(`${error.name}: ${error.message}`);
      }
      if (typeof error === 'string') return this.sanitize(error);
      return this.sanitize(inspect(error, { depth: 3, breakLength: Infinity }));
    } catch {
      return SANITIZER_FAILED;
    }
  }

  /**
   * A copy of a structured value safe to log: secret-named keys replaced, strings
   * sanitized, errors described, depth and width bounded, cycles cut.
   */
  sanitizeValue(value: unknown): unknown {
    try {
      return this.walk(value, 0, new WeakSet());
    } catch {
      return SANITIZER_FAILED;
    }
  }

  private walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.sanitize(value);
    if (value === null || typeof value !== 'object') {
      return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
    }
    if (value instanceof Error || types.isNativeError(value)) return this.describeError(value);
    if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
    if (seen.has(value)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[Object]';
    seen.add(value);
    if (Array.isArray(value)) {
      return value.slice(0, MAX_KEYS).map((item) => this.walk(item, depth + 1, seen));
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value).slice(0, MAX_KEYS)) {
      out[key] = SECRET_KEY_PATTERN.test(key) ? REDACTED : this.walk(item, depth + 1, seen);
    }
    return out;
  }
}
