/**
 * OTA packages (issue 16): upload (streamed into the PackageBlobStore, hashed on the way, checked
 * against a stated SHA-256), list, read (by byte range) and delete, per tenant. The metadata is in
 * the Store; the bytes are content-addressed, so two packages with the same bytes share one blob,
 * removed with the last package that holds it.
 */
import { randomUUID } from 'node:crypto';
import type { DeviceProfile } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import { checkOtaLabel, normalizeChecksum, type OtaPackage, type OtaType } from '../domain/ota.js';
import type { Clock, OtaStore, PackageBlobStore } from '../ports.js';

export interface OtaPackageDeps {
  readonly store: OtaStore;
  readonly blobs: PackageBlobStore;
  readonly clock: Clock;
  readonly getProfile: (id: string) => Promise<DeviceProfile | undefined>;
  /** Largest package accepted (config ota.maxPackageBytes). */
  readonly maxPackageBytes: number;
}

export interface UploadMeta {
  readonly type?: OtaType;
  readonly title: string;
  readonly version: string;
  readonly profileId?: string;
  readonly hardware?: string;
  /** SHA-256 the uploader states (hex); the upload fails with CHECKSUM_MISMATCH unless the bytes have it. */
  readonly checksum?: string;
}

/** Bytes `start`–`end` (inclusive) of a package, streamed. */
export interface PackageData {
  readonly pkg: OtaPackage;
  readonly start: number;
  readonly end: number;
  readonly body: AsyncIterable<Buffer>;
}

export class OtaPackageService {
  /** Uploads still writing their blob: a blob is never collected while one is (it may be theirs). */
  private uploading = 0;

  constructor(private readonly deps: OtaPackageDeps) {}

  async upload(tenantId: string, meta: UploadMeta, source: AsyncIterable<Uint8Array>): Promise<OtaPackage> {
    const type = meta.type ?? 'firmware';
    const title = checkOtaLabel(meta.title, 'title');
    const version = checkOtaLabel(meta.version, 'version');
    const hardware = meta.hardware === undefined ? undefined : checkOtaLabel(meta.hardware, 'hardware');
    const expected = meta.checksum === undefined ? undefined : normalizeChecksum(meta.checksum);
    if (meta.profileId !== undefined) {
      const profile = await this.deps.getProfile(meta.profileId);
      if (!profile || profile.tenantId !== tenantId) throw new PlatformError('PROFILE_NOT_FOUND', meta.profileId);
    }
    // Refused before a byte is stored; the unique index still decides a race between two uploads.
    const existing = await this.deps.store.listOtaPackages(tenantId, type);
    if (existing.some((p) => p.title === title && p.version === version)) throw new PlatformError('CONFLICT', `${type} ${title} ${version} exists`);
    this.uploading++;
    try {
      const stored = await this.deps.blobs.put(source, { maxBytes: this.deps.maxPackageBytes, ...(expected ? { expectedSha256: expected } : {}) });
      if (stored.size === 0) {
        await this.collect(stored.digest, 1);
        throw new PlatformError('BAD_REQUEST', 'the package is empty');
      }
      const pkg: OtaPackage = {
        id: randomUUID(),
        tenantId,
        type,
        title,
        version,
        ...(meta.profileId !== undefined ? { profileId: meta.profileId } : {}),
        ...(hardware !== undefined ? { hardware } : {}),
        size: stored.size,
        checksum: stored.digest,
        createdAt: this.deps.clock.now(),
      };
      try {
        await this.deps.store.insertOtaPackage(pkg);
      } catch (err) {
        await this.collect(stored.digest, 1);
        throw err;
      }
      return pkg;
    } finally {
      this.uploading--;
    }
  }

  list(tenantId: string, type?: OtaType): Promise<OtaPackage[]> {
    return this.deps.store.listOtaPackages(tenantId, type);
  }

  /** PACKAGE_NOT_FOUND for another tenant's package too: its existence is not revealed. */
  async get(tenantId: string, id: string): Promise<OtaPackage> {
    const pkg = await this.deps.store.getOtaPackage(id);
    if (!pkg || pkg.tenantId !== tenantId) throw new PlatformError('PACKAGE_NOT_FOUND', id);
    return pkg;
  }

  /** PACKAGE_IN_USE while a device or profile is assigned the package. */
  async delete(tenantId: string, id: string): Promise<void> {
    const pkg = await this.get(tenantId, id);
    await this.deps.store.deleteOtaPackage(id);
    await this.collect(pkg.checksum, 0);
  }

  /**
   * The package's bytes, whole or one range (`start`/`end` inclusive, as HTTP Range counts;
   * `end` past the last byte is cut there). RANGE_NOT_SATISFIABLE when `start` is past the end.
   */
  async data(tenantId: string, id: string, range?: { start: number; end?: number }): Promise<PackageData> {
    const pkg = await this.get(tenantId, id);
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? pkg.size - 1, pkg.size - 1);
    if (start >= pkg.size || end < start) throw new PlatformError('RANGE_NOT_SATISFIABLE', `bytes ${start}-${range?.end ?? ''} of ${pkg.size}`);
    return { pkg, start, end, body: this.deps.blobs.stream(pkg.checksum, start, end) };
  }

  /** `length` bytes from `offset` of a package's blob (device chunk requests). */
  read(pkg: OtaPackage, offset: number, length: number): Promise<Buffer> {
    if (length === 0) return Promise.resolve(Buffer.alloc(0));
    return this.deps.blobs.read(pkg.checksum, offset, length);
  }

  /**
   * Removes the blob when no package holds it any more and no other upload may be about to
   * (`own`: 1 when the caller is an upload itself). An upload in flight may have just written
   * the same bytes: they are left (an orphan blob is harmless, a package without bytes is not).
   */
  private async collect(digest: string, own: number): Promise<void> {
    if (this.uploading > own) return;
    if ((await this.deps.store.countOtaPackagesByChecksum(digest)) === 0) await this.deps.blobs.delete(digest);
  }
}
