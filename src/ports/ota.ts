/**
 * Firmware over the air: where package metadata and assignments live (part of the Store) and
 * where package bytes live (PackageBlobStore: content-addressed, streamed in, read by range).
 */
import type { OtaAssignment, OtaPackage, OtaProfileAssignment, OtaType } from '../domain/ota.js';
import type { OtaSettings, OtaSigningKey } from '../domain/ota-signing.js';

/** Package metadata and per-device assignments; the Store implements it. */
export interface OtaStore {
  /** Inserts; CONFLICT when the tenant already has a package of this type, title and version; tenant must exist. */
  insertOtaPackage(pkg: OtaPackage): Promise<void>;
  getOtaPackage(id: string): Promise<OtaPackage | undefined>;
  /** The tenant's packages, newest first. */
  listOtaPackages(tenantId: string, type?: OtaType): Promise<OtaPackage[]>;
  /** Deletes the package; PACKAGE_IN_USE while a device or profile is assigned it. false when there was none. */
  deleteOtaPackage(id: string): Promise<boolean>;
  /** How many packages (of any tenant) hold these bytes: the blob is removed when none does. */
  countOtaPackagesByChecksum(checksum: string): Promise<number>;
  /** Sets the device's assignment of that type (replacing the previous one). Device and package must exist. */
  setOtaAssignment(assignment: OtaAssignment): Promise<void>;
  getOtaAssignment(deviceId: string, type: OtaType): Promise<OtaAssignment | undefined>;
  /** Removes the device's own assignment of that type; false when it had none. */
  deleteOtaAssignment(deviceId: string, type: OtaType): Promise<boolean>;
  /** Sets the profile's assignment of that type (replacing it). Profile and package must exist. */
  setOtaProfileAssignment(assignment: OtaProfileAssignment): Promise<void>;
  getOtaProfileAssignment(profileId: string, type: OtaType): Promise<OtaProfileAssignment | undefined>;
}

/** The tenant's signing keys (public only) and OTA policy; the Store implements it. */
export interface OtaKeyStore {
  /** Tenant must exist; CONFLICT for a name the tenant already uses. */
  insertOtaKey(key: OtaSigningKey): Promise<void>;
  listOtaKeys(tenantId: string): Promise<OtaSigningKey[]>;
  /** false when the tenant has no such key. */
  deleteOtaKey(tenantId: string, id: string): Promise<boolean>;
  /** undefined: nothing stored (the defaults apply). */
  getOtaSettings(tenantId: string): Promise<OtaSettings | undefined>;
  putOtaSettings(tenantId: string, settings: OtaSettings): Promise<void>;
}

export interface BlobPutOptions {
  /** Refused with PAYLOAD_TOO_LARGE as soon as more arrive (nothing is kept). */
  readonly maxBytes: number;
  /** Lower-case hex SHA-256 the bytes must have; CHECKSUM_MISMATCH otherwise (nothing is kept). */
  readonly expectedSha256?: string;
}

export interface StoredBlob {
  /** Lower-case hex SHA-256 of the bytes: the blob's key. */
  readonly digest: string;
  readonly size: number;
}

/**
 * Package bytes by their SHA-256. Writes are streamed and hashed on the way (never held whole
 * in memory by the filesystem implementation); the same bytes uploaded twice are stored once.
 */
export interface PackageBlobStore {
  put(source: AsyncIterable<Uint8Array>, options: BlobPutOptions): Promise<StoredBlob>;
  /** `length` bytes from `offset` (fewer at the end); PACKAGE_NOT_FOUND when the blob is missing. */
  read(digest: string, offset: number, length: number): Promise<Buffer>;
  /** Bytes `start` to `end` inclusive, streamed. */
  stream(digest: string, start: number, end: number): AsyncIterable<Buffer>;
  delete(digest: string): Promise<void>;
}
