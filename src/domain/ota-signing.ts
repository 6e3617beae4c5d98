/**
 * OTA package signatures, anti-rollback and variants (issue 16, docs/OTA.md "Signed packages"),
 * the pure part: the manifest a vendor signs (its canonical bytes), the tenant's public keys,
 * the tenant's policy, and how versions compare. Verification itself (node:crypto) is in
 * services/ota-signing.ts; the platform only ever holds public keys.
 */
import { PlatformError } from './errors.js';

/** A tenant's Ed25519 public key, raw 32 bytes as base64 (PEM input is converted at registration). */
export interface OtaSigningKey {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly publicKey: string;
  readonly createdAt: number;
}

/** Per-tenant OTA policy; no stored row = the defaults. */
export interface OtaSettings {
  /** Uploads without a valid signature (and external URL packages without one) are refused. */
  readonly requireSigned: boolean;
}

export const DEFAULT_OTA_SETTINGS: OtaSettings = { requireSigned: false };

/** What a signature covers. Absent optional fields are left out of the canonical form. */
export interface OtaManifest {
  readonly sha256: string;
  readonly title: string;
  readonly version: string;
  readonly hardware?: string;
  readonly minVersion?: string;
  readonly fromVersion?: string;
}

/**
 * The signed bytes: UTF-8 JSON of the manifest with its keys in code-point order, no
 * whitespace, absent optional keys omitted (never `null`). A vendor reproduces it with e.g.
 * `jq -cS` or Python's `json.dumps(m, sort_keys=True, separators=(',', ':'))`.
 */
export function canonicalManifest(m: OtaManifest): Buffer {
  const entries = Object.entries(m).filter(([, v]) => v !== undefined) as [string, string][];
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(Object.fromEntries(entries)), 'utf8');
}

export function checkKeyName(name: string): string {
  const n = name.trim();
  if (n.length === 0 || n.length > 128) throw new PlatformError('BAD_REQUEST', 'key name must be 1–128 characters');
  return n;
}

/**
 * Compares two version strings: split at `.`, `-`, `+` and `_`; numeric parts compare as
 * numbers, other parts as text; a version that is a prefix of another is the lower
 * (`1.2` < `1.2.1`). Negative when a < b, 0 when equal, positive when a > b.
 */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.\-+_]/);
  const pb = b.split(/[.\-+_]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : undefined;
    const ny = /^\d+$/.test(y) ? Number(y) : undefined;
    if (nx !== undefined && ny !== undefined) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) {
      // a number sorts before text (1.0.1 < 1.0.beta), text compares as text
      if (nx !== undefined) return -1;
      if (ny !== undefined) return 1;
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

/**
 * Anti-rollback: a package with `minVersion` is assigned only to devices reporting a current
 * version at or above it. A device that reports none is let through (nothing to compare; the
 * device itself may still refuse). Returns the reason when refused.
 */
export function rollbackRefusal(minVersion: string | undefined, current: string | null): string | undefined {
  if (minVersion === undefined || current === null) return undefined;
  if (compareVersions(current, minVersion) < 0) return `the device runs ${current}, below the package's minimum version ${minVersion}`;
  return undefined;
}
