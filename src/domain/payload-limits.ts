/**
 * Structural limits on what a device may send, checked before anything is queued or stored.
 *
 * Why: a value nested 100,000 levels deep parses (V8's JSON.parse is iterative) but overflows
 * the stack of every recursive consumer after it — JSON.stringify in the store, structuredClone,
 * the rules engine, the dashboard. Bounding depth, size and text at the edge means no value that
 * reaches the group commit can fail there (issue 12, item 5). ThingsBoard allows JSON objects as
 * telemetry and attribute values, so nesting is allowed, up to a generous depth.
 */
import { PlatformError } from './errors.js';

// ES2024 (Node ≥ 20); the project's lib is ES2022.
declare global {
  interface String {
    isWellFormed(): boolean;
  }
}

export interface PayloadLimits {
  /** Levels of objects/arrays in one device JSON document (the document itself is level 1). */
  readonly maxDepth: number;
  /** Characters (UTF-16 code units) in one string value. */
  readonly maxStringLength: number;
  /** Points in one telemetry message, keys in one attribute message. */
  readonly maxValuesPerMessage: number;
}

export const DEFAULT_PAYLOAD_LIMITS: PayloadLimits = {
  maxDepth: 32,
  maxStringLength: 64 * 1024,
  maxValuesPerMessage: 10_000,
};

/**
 * A key JSON.parse keeps as an own property but that plain assignment (`obj[k] = v`) turns into
 * a prototype change; consumers further on would silently lose or misplace the value.
 */
export const FORBIDDEN_KEY = '__proto__';

/** Rejects text that cannot round-trip through UTF-8 storage: a lone surrogate becomes U+FFFD. */
export function checkText(text: string, limits: PayloadLimits, what: string): void {
  if (text.length > limits.maxStringLength) {
    throw new PlatformError('VALUE_TOO_LONG', `${what}: ${text.length} characters > ${limits.maxStringLength}`);
  }
  if (!text.isWellFormed()) throw new PlatformError('INVALID_TEXT', `${what} holds a lone surrogate`);
}

/**
 * Walks a parsed device JSON value: depth, string lengths and text, finite numbers, forbidden
 * keys. The recursion is bounded by maxDepth, so the walk itself cannot overflow.
 * `depth` is the level of `value` (1 for a document's root).
 */
export function checkJsonValue(value: unknown, limits: PayloadLimits, depth = 1): void {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new PlatformError('NON_FINITE_NUMBER', String(value));
      return;
    case 'string':
      checkText(value, limits, 'string value');
      return;
    case 'object':
      if (value === null) return;
      if (depth > limits.maxDepth) throw new PlatformError('NESTING_TOO_DEEP', `more than ${limits.maxDepth} levels`);
      if (Array.isArray(value)) {
        for (const item of value) checkJsonValue(item, limits, depth + 1);
        return;
      }
      for (const key in value) {
        if (key === FORBIDDEN_KEY) throw new PlatformError('MALFORMED_PAYLOAD', `key "${FORBIDDEN_KEY}" is not allowed`);
        checkText(key, limits, 'key');
        checkJsonValue((value as Record<string, unknown>)[key], limits, depth + 1);
      }
      return;
    default:
      return;
  }
}
