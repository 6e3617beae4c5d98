/**
 * Firmware and software over the air (issue 16), the pure part: packages, assignments, the
 * shared attributes that announce an update (ThingsBoard's `fw_*` / `sw_*` names, which device
 * SDKs read unchanged), the states a device reports, and how a chunk request maps onto bytes.
 */
import { PlatformError } from './errors.js';
import type { JsonValue } from './telemetry.js';

export const OTA_TYPES = ['firmware', 'software'] as const;
export type OtaType = (typeof OTA_TYPES)[number];

/** Only SHA-256 is computed and checked; devices read it from `fw_checksum_algorithm`. */
export const CHECKSUM_ALGORITHM = 'SHA256';

export interface OtaPackage {
  readonly id: string;
  readonly tenantId: string;
  readonly type: OtaType;
  readonly title: string;
  readonly version: string;
  /** The device profile the package is for; devices of other profiles cannot be assigned it. */
  readonly profileId?: string;
  /** Free text naming the hardware (board revision); shown, not enforced yet. */
  readonly hardware?: string;
  readonly size: number;
  /** Lower-case hex SHA-256 of the bytes; also the key of the stored blob (content-addressed). */
  readonly checksum: string;
  readonly createdAt: number;
  /** Anti-rollback: devices reporting an older current version are not assigned it (ota-signing.ts). */
  readonly minVersion?: string;
  /** A delta package: applies only on top of this version, chosen for devices running it. */
  readonly fromVersion?: string;
  /** An external package: devices download from here (`fw_url`); no bytes are stored, `size` and `checksum` are stated. */
  readonly url?: string;
  /** The id of the tenant's key whose signature over the manifest was verified at upload. */
  readonly signedBy?: string;
  /** That signature, base64 (kept so devices or auditors can check it again). */
  readonly signature?: string;
}

/** The package a device is told to run (one per device and type). */
export interface OtaAssignment {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly type: OtaType;
  readonly packageId: string;
  readonly assignedAt: number;
}

/** The package every device of a profile runs unless the device has its own assignment. */
export interface OtaProfileAssignment {
  readonly tenantId: string;
  readonly profileId: string;
  readonly type: OtaType;
  readonly packageId: string;
  readonly assignedAt: number;
}

/** What a device reports in `fw_state` / `sw_state` telemetry, in ThingsBoard's words. */
export const OTA_STATES = ['DOWNLOADING', 'DOWNLOADED', 'VERIFIED', 'UPDATING', 'UPDATED', 'FAILED'] as const;
export type OtaState = (typeof OTA_STATES)[number];

/** `fw` or `sw`: the prefix of the attribute and telemetry keys of a type. */
export function otaPrefix(type: OtaType): 'fw' | 'sw' {
  return type === 'firmware' ? 'fw' : 'sw';
}

/** The shared attributes that announce a package to the device (ThingsBoard's names). */
export function otaAttributes(pkg: OtaPackage): Record<string, JsonValue> {
  const p = otaPrefix(pkg.type);
  return {
    [`${p}_title`]: pkg.title,
    [`${p}_version`]: pkg.version,
    [`${p}_size`]: pkg.size,
    [`${p}_checksum`]: pkg.checksum,
    [`${p}_checksum_algorithm`]: CHECKSUM_ALGORITHM,
    // ThingsBoard's attribute for a package hosted elsewhere (only external packages have it).
    ...(pkg.url !== undefined ? { [`${p}_url`]: pkg.url } : {}),
  };
}

/** Every shared attribute an assignment writes: set only through it, never by an ordinary write. */
export const OTA_ATTRIBUTE_KEYS: ReadonlySet<string> = new Set(
  (['fw', 'sw'] as const).flatMap((p) => ['title', 'version', 'size', 'checksum', 'checksum_algorithm', 'url'].map((k) => `${p}_${k}`)),
);

/**
 * Throws FORBIDDEN when an ordinary shared-attribute write (REST, rules) names an OTA key: the
 * device would be told of a package that is not assigned (it could not download it) or be given
 * another checksum. Client attributes of those names are the device's own business.
 */
export function checkOrdinaryOtaWrite(scope: string, keys: Iterable<string>): void {
  if (scope !== 'shared') return;
  for (const key of keys) {
    if (OTA_ATTRIBUTE_KEYS.has(key)) {
      throw new PlatformError('FORBIDDEN', `attribute "${key}" is set by assigning a package (POST /api/devices/{id}/firmware)`);
    }
  }
}

/** The telemetry keys a device reports its progress and current version under. */
export function otaTelemetryKeys(type: OtaType): { state: string; error: string; currentVersion: string; currentTitle: string } {
  const p = otaPrefix(type);
  return { state: `${p}_state`, error: `${p}_error`, currentVersion: `current_${p}_version`, currentTitle: `current_${p}_title` };
}

/** Title and version: printable, bounded (they travel in attributes, URLs and file names of tools). */
const LABEL = /^[\x21-\x7e](?:[\x20-\x7e]{0,126}[\x21-\x7e])?$/;

export function checkOtaLabel(value: string, what: string): string {
  if (!LABEL.test(value)) throw new PlatformError('BAD_REQUEST', `${what} must be 1–128 printable ASCII characters without leading or trailing spaces`);
  return value;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A stated checksum, lower-cased; BAD_REQUEST unless it is 64 hex digits. */
export function normalizeChecksum(value: string): string {
  const v = value.trim().toLowerCase();
  if (!SHA256_HEX.test(v)) throw new PlatformError('BAD_REQUEST', 'checksum must be a SHA-256 as 64 hex digits');
  return v;
}

export interface ChunkRange {
  readonly offset: number;
  readonly length: number;
}

/**
 * ThingsBoard's chunk arithmetic: chunk `n` of `chunkSize` bytes starts at `n * chunkSize`; a
 * chunk past the end is empty (how a device learns it has everything); chunk size 0 means the
 * whole package. `maxChunkBytes` bounds what one answer may hold (an MQTT packet, a CoAP
 * block-wise body, an HTTP response held in memory).
 */
export function chunkRange(size: number, chunkSize: number, chunk: number, maxChunkBytes: number): ChunkRange {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 0) throw new PlatformError('BAD_REQUEST', 'chunk size must be a non-negative integer');
  if (!Number.isSafeInteger(chunk) || chunk < 0) throw new PlatformError('BAD_REQUEST', 'chunk index must be a non-negative integer');
  const wanted = chunkSize === 0 ? size : chunkSize;
  if (wanted > maxChunkBytes) {
    throw new PlatformError('PAYLOAD_TOO_LARGE', `chunks of ${wanted} bytes > ${maxChunkBytes}; ask for smaller chunks`);
  }
  if (chunkSize === 0) return chunk === 0 ? { offset: 0, length: size } : { offset: size, length: 0 };
  const offset = chunk * chunkSize;
  if (!Number.isSafeInteger(offset) || offset >= size) return { offset: size, length: 0 };
  return { offset, length: Math.min(chunkSize, size - offset) };
}
