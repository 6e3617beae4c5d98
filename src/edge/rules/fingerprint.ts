/**
 * Canonical JSON (object keys sorted, recursively) and a short SHA-256 of it: the identity of a
 * configuration section or rule definition, independent of key order in YAML or JSON.
 */
import { createHash, createHmac } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** 16 hex digits of SHA-256 over the canonical JSON: short enough for an attribute, long enough not to collide. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

/**
 * The same, keyed (HMAC-SHA-256): for identities reported to people who must not be able to test
 * guesses against them — a configuration whose substituted values include secrets.
 */
export function keyedFingerprint(value: unknown, key: Buffer): string {
  return createHmac('sha256', key).update(canonicalJson(value)).digest('hex').slice(0, 16);
}
