/**
 * What both package blob stores do with an upload: hash and count every byte as it arrives,
 * stop at the size limit, and compare with the stated checksum at the end.
 */
import { createHash } from 'node:crypto';
import { PlatformError } from '../../domain/errors.js';
import type { BlobPutOptions, StoredBlob } from '../../ports.js';

const DIGEST = /^[0-9a-f]{64}$/;

/** A digest used as a key (a file name below the store's root): exactly 64 lower-case hex digits. */
export function checkDigest(digest: string): string {
  if (!DIGEST.test(digest)) throw new PlatformError('PACKAGE_NOT_FOUND', 'not a SHA-256 digest');
  return digest;
}

/**
 * Feeds every chunk of `source` to `sink` (awaited: back-pressure), hashing on the way. Throws
 * PAYLOAD_TOO_LARGE past `maxBytes`, CHECKSUM_MISMATCH when the digest is not the stated one.
 */
export async function consume(source: AsyncIterable<Uint8Array>, options: BlobPutOptions, sink: (chunk: Buffer) => Promise<void> | void): Promise<StoredBlob> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const piece of source) {
    const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    size += chunk.length;
    if (size > options.maxBytes) throw new PlatformError('PAYLOAD_TOO_LARGE', `package over ${options.maxBytes} bytes (ota.maxPackageBytes)`);
    hash.update(chunk);
    await sink(chunk);
  }
  const digest = hash.digest('hex');
  if (options.expectedSha256 !== undefined && options.expectedSha256 !== digest) {
    throw new PlatformError('CHECKSUM_MISMATCH', `stated ${options.expectedSha256}, content hashes to ${digest}`);
  }
  return { digest, size };
}
