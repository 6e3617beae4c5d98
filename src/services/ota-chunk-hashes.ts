/**
 * Per-chunk hash manifests (issue 16 item 1, "optional per-chunk hash manifest for small
 * devices"): a device with too little RAM to buffer the whole image before checking its SHA-256
 * fetches the SHA-256 of every chunk at the chunk size it downloads with, and checks each chunk
 * as it arrives (writing it to flash only when it matches). The package's whole SHA-256 stays
 * the final check.
 *
 * Computed on demand by streaming the stored bytes once, and cached per (package bytes, chunk
 * size): packages are immutable (content-addressed), so a cached manifest never goes stale.
 */
import { createHash } from 'node:crypto';
import { PlatformError } from '../domain/errors.js';
import type { OtaPackage } from '../domain/ota.js';
import type { PackageBlobStore } from '../ports.js';
import type { OtaChunkHashes } from '../ports/device-api.js';

export type ChunkHashes = OtaChunkHashes;

export const MIN_CHUNK_BYTES = 64;
/** A manifest lists at most this many chunks (64 hex characters each: 4 MiB of JSON at most). */
export const MAX_MANIFEST_CHUNKS = 65_536;
const CACHE_ENTRIES = 256;

export class ChunkHashService {
  private readonly cache = new Map<string, readonly string[]>();

  constructor(private readonly blobs: Pick<PackageBlobStore, 'stream'>) {}

  async manifest(pkg: OtaPackage, chunkSize: number): Promise<ChunkHashes> {
    if (pkg.url !== undefined) throw new PlatformError('BAD_REQUEST', 'the package is an external URL: its bytes are not held here');
    if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_BYTES) throw new PlatformError('BAD_REQUEST', `the chunk size must be an integer of at least ${MIN_CHUNK_BYTES} bytes`);
    const count = Math.ceil(pkg.size / chunkSize);
    if (count > MAX_MANIFEST_CHUNKS) throw new PlatformError('BAD_REQUEST', `${count} chunks of ${chunkSize} bytes: at most ${MAX_MANIFEST_CHUNKS} per manifest; ask with a larger size`);
    const key = `${pkg.checksum}:${chunkSize}`;
    let chunks = this.cache.get(key);
    if (!chunks) {
      chunks = await this.compute(pkg, chunkSize);
      if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, chunks);
    }
    return { packageId: pkg.id, size: pkg.size, checksum: pkg.checksum, checksumAlgorithm: 'SHA256', chunkSize, chunks };
  }

  /** One pass over the stored bytes, cutting them at every chunkSize boundary. */
  private async compute(pkg: OtaPackage, chunkSize: number): Promise<string[]> {
    const out: string[] = [];
    let hash = createHash('sha256');
    let filled = 0;
    for await (const piece of this.blobs.stream(pkg.checksum, 0, pkg.size - 1)) {
      let at = 0;
      while (at < piece.length) {
        const take = Math.min(chunkSize - filled, piece.length - at);
        hash.update(piece.subarray(at, at + take));
        filled += take;
        at += take;
        if (filled === chunkSize) {
          out.push(hash.digest('hex'));
          hash = createHash('sha256');
          filled = 0;
        }
      }
    }
    if (filled > 0) out.push(hash.digest('hex'));
    return out;
  }
}
