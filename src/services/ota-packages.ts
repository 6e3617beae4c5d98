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
import { ChunkHashService, type ChunkHashes } from './ota-chunk-hashes.js';
import type { OtaSigningService } from './ota-signing.js';

export interface OtaPackageDeps {
  readonly store: OtaStore;
  readonly blobs: PackageBlobStore;
  readonly clock: Clock;
  readonly getProfile: (id: string) => Promise<DeviceProfile | undefined>;
  /** Largest package accepted (config ota.maxPackageBytes). */
  readonly maxPackageBytes: number;
  /** Verifies signatures and applies the tenant's "signed only" policy; without it packages are taken unsigned. */
  readonly signing?: OtaSigningService;
  /** The outbound policy's save-time check of an external package's URL (OUTBOUND_REFUSED). */
  readonly checkUrl?: (url: URL) => void;
}

export interface UploadMeta {
  readonly type?: OtaType;
  readonly title: string;
  readonly version: string;
  readonly profileId?: string;
  readonly hardware?: string;
  /** SHA-256 the uploader states (hex); the upload fails with CHECKSUM_MISMATCH unless the bytes have it. */
  readonly checksum?: string;
  /** Base64 Ed25519 signature over the manifest (domain/ota-signing.ts canonicalManifest). */
  readonly signature?: string;
  /** Anti-rollback: not assigned to devices reporting an older current version. */
  readonly minVersion?: string;
  /** A delta applying on top of this version (chosen for devices running it). */
  readonly fromVersion?: string;
}

/** A package hosted elsewhere: no bytes here, the stated size and SHA-256 are what devices check. */
export interface ExternalMeta extends Omit<UploadMeta, 'checksum'> {
  readonly url: string;
  readonly checksum: string;
  readonly size: number;
}

/** Longest external URL kept (it travels to devices as a shared attribute). */
const MAX_URL_LENGTH = 2048;

/** Bytes `start`–`end` (inclusive) of a package, streamed. */
export interface PackageData {
  readonly pkg: OtaPackage;
  readonly start: number;
  readonly end: number;
  readonly body: AsyncIterable<Buffer>;
}

/** An external package's bytes are not here: the device (or user) fetches them from its URL. */
const external = (pkg: OtaPackage): PlatformError => new PlatformError('PACKAGE_NOT_FOUND', `${pkg.title} ${pkg.version} is hosted at its URL (fw_url), not here`);

export class OtaPackageService {
  /** Uploads still writing their blob: a blob is never collected while one is (it may be theirs). */
  private uploading = 0;

  private readonly hashes: ChunkHashService;

  constructor(private readonly deps: OtaPackageDeps) {
    this.hashes = new ChunkHashService(deps.blobs);
  }

  /** Checks what upload and external packages share; refused before a byte is stored. */
  private async checkMeta(tenantId: string, meta: UploadMeta) {
    const type = meta.type ?? 'firmware';
    const title = checkOtaLabel(meta.title, 'title');
    const version = checkOtaLabel(meta.version, 'version');
    const hardware = meta.hardware === undefined ? undefined : checkOtaLabel(meta.hardware, 'hardware');
    const minVersion = meta.minVersion === undefined ? undefined : checkOtaLabel(meta.minVersion, 'minVersion');
    const fromVersion = meta.fromVersion === undefined ? undefined : checkOtaLabel(meta.fromVersion, 'fromVersion');
    if (fromVersion === version) throw new PlatformError('BAD_REQUEST', 'a delta cannot start from its own version');
    if (meta.profileId !== undefined) {
      const profile = await this.deps.getProfile(meta.profileId);
      if (!profile || profile.tenantId !== tenantId) throw new PlatformError('PROFILE_NOT_FOUND', meta.profileId);
    }
    // The unique index still decides a race between two uploads.
    const existing = await this.deps.store.listOtaPackages(tenantId, type);
    if (existing.some((p) => p.title === title && p.version === version && p.fromVersion === fromVersion)) {
      throw new PlatformError('CONFLICT', `${type} ${title} ${version}${fromVersion !== undefined ? ` from ${fromVersion}` : ''} exists`);
    }
    // Without a signature this refuses now (tenant policy); a signature is checked once the bytes' SHA-256 is known.
    if (meta.signature === undefined) await this.deps.signing?.check(tenantId, { sha256: '', title, version }, undefined);
    const optional = {
      ...(meta.profileId !== undefined ? { profileId: meta.profileId } : {}),
      ...(hardware !== undefined ? { hardware } : {}),
      ...(minVersion !== undefined ? { minVersion } : {}),
      ...(fromVersion !== undefined ? { fromVersion } : {}),
    };
    return { type, title, version, hardware, minVersion, fromVersion, optional };
  }

  /** The id of the key that verified the signature (SIGNATURE_INVALID when none does). */
  private async verify(tenantId: string, m: Awaited<ReturnType<OtaPackageService['checkMeta']>>, sha256: string, signature: string | undefined): Promise<string | undefined> {
    if (signature === undefined) return undefined;
    if (!this.deps.signing) throw new PlatformError('SIGNATURE_INVALID', 'signatures are not checked by this platform');
    const manifest = { sha256, title: m.title, version: m.version, ...m.optional };
    delete (manifest as { profileId?: string }).profileId;
    return this.deps.signing.check(tenantId, manifest, signature);
  }

  /**
   * Registers a package hosted elsewhere (devices are told `fw_url`); the URL must be http(s)
   * and pass the outbound policy's save-time check, so a tenant cannot point devices at the
   * platform's own network by way of it.
   */
  async external(tenantId: string, meta: ExternalMeta): Promise<OtaPackage> {
    const m = await this.checkMeta(tenantId, meta);
    let url: URL;
    try {
      url = new URL(meta.url);
    } catch {
      throw new PlatformError('BAD_REQUEST', 'url is not a URL');
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || meta.url.length > MAX_URL_LENGTH || url.username !== '' || url.password !== '') {
      throw new PlatformError('BAD_REQUEST', `url must be http(s), without credentials, at most ${MAX_URL_LENGTH} characters`);
    }
    this.deps.checkUrl?.(url);
    if (!Number.isSafeInteger(meta.size) || meta.size <= 0) throw new PlatformError('BAD_REQUEST', 'size must be a positive integer');
    const checksum = normalizeChecksum(meta.checksum);
    const signedBy = await this.verify(tenantId, m, checksum, meta.signature);
    const pkg: OtaPackage = {
      id: randomUUID(),
      tenantId,
      type: m.type,
      title: m.title,
      version: m.version,
      ...m.optional,
      size: meta.size,
      checksum,
      createdAt: this.deps.clock.now(),
      url: url.href,
      ...(signedBy !== undefined ? { signedBy, signature: meta.signature } : {}),
    };
    await this.deps.store.insertOtaPackage(pkg);
    return pkg;
  }

  async upload(tenantId: string, meta: UploadMeta, source: AsyncIterable<Uint8Array>): Promise<OtaPackage> {
    const m = await this.checkMeta(tenantId, meta);
    const { type, title, version } = m;
    const expected = meta.checksum === undefined ? undefined : normalizeChecksum(meta.checksum);
    this.uploading++;
    try {
      const stored = await this.deps.blobs.put(source, { maxBytes: this.deps.maxPackageBytes, ...(expected ? { expectedSha256: expected } : {}) });
      if (stored.size === 0) {
        await this.collect(stored.digest, 1);
        throw new PlatformError('BAD_REQUEST', 'the package is empty');
      }
      let signedBy: string | undefined;
      try {
        signedBy = await this.verify(tenantId, m, stored.digest, meta.signature);
      } catch (err) {
        await this.collect(stored.digest, 1);
        throw err;
      }
      const pkg: OtaPackage = {
        id: randomUUID(),
        tenantId,
        type,
        title,
        version,
        ...m.optional,
        size: stored.size,
        checksum: stored.digest,
        createdAt: this.deps.clock.now(),
        ...(signedBy !== undefined ? { signedBy, signature: meta.signature } : {}),
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
    if (pkg.url === undefined) await this.collect(pkg.checksum, 0);
  }

  /**
   * The package's bytes, whole or one range (`start`/`end` inclusive, as HTTP Range counts;
   * `end` past the last byte is cut there). RANGE_NOT_SATISFIABLE when `start` is past the end.
   */
  async data(tenantId: string, id: string, range?: { start: number; end?: number }): Promise<PackageData> {
    const pkg = await this.get(tenantId, id);
    if (pkg.url !== undefined) throw external(pkg);
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? pkg.size - 1, pkg.size - 1);
    if (start >= pkg.size || end < start) throw new PlatformError('RANGE_NOT_SATISFIABLE', `bytes ${start}-${range?.end ?? ''} of ${pkg.size}`);
    return { pkg, start, end, body: this.deps.blobs.stream(pkg.checksum, start, end) };
  }

  /** The SHA-256 of every `chunkSize` chunk of the tenant's package (ota-chunk-hashes.ts). */
  async chunkHashes(tenantId: string, id: string, chunkSize: number): Promise<ChunkHashes> {
    return this.hashes.manifest(await this.get(tenantId, id), chunkSize);
  }

  /** The same for a package already found (the device side). */
  chunkHashesOf(pkg: OtaPackage, chunkSize: number): Promise<ChunkHashes> {
    return this.hashes.manifest(pkg, chunkSize);
  }

  /** `length` bytes from `offset` of a package's blob (device chunk requests). */
  read(pkg: OtaPackage, offset: number, length: number): Promise<Buffer> {
    if (pkg.url !== undefined) throw external(pkg);
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
