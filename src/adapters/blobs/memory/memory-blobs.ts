/** Package bytes in a Map, for `--store memory` and tests: the same answers as the filesystem store. */
import { PlatformError } from '../../../domain/errors.js';
import type { BlobPutOptions, PackageBlobStore, StoredBlob } from '../../../ports.js';
import { checkDigest, consume } from '../hashing.js';

export function createMemoryBlobStore(): PackageBlobStore {
  const blobs = new Map<string, Buffer>();
  const get = (digest: string): Buffer => {
    const blob = blobs.get(checkDigest(digest));
    if (!blob) throw new PlatformError('PACKAGE_NOT_FOUND', `no stored bytes ${digest.slice(0, 12)}…`);
    return blob;
  };
  return {
    async put(source: AsyncIterable<Uint8Array>, options: BlobPutOptions): Promise<StoredBlob> {
      const parts: Buffer[] = [];
      const stored = await consume(source, options, (chunk) => {
        parts.push(Buffer.from(chunk)); // a copy: the caller may reuse its buffers
      });
      if (!blobs.has(stored.digest)) blobs.set(stored.digest, Buffer.concat(parts));
      return stored;
    },
    async read(digest: string, offset: number, length: number): Promise<Buffer> {
      return Buffer.from(get(digest).subarray(offset, offset + length));
    },
    async *stream(digest: string, start: number, end: number): AsyncIterable<Buffer> {
      yield Buffer.from(get(digest).subarray(start, end + 1));
    },
    async delete(digest: string): Promise<void> {
      blobs.delete(checkDigest(digest));
    },
  };
}
