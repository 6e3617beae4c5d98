/**
 * Package bytes as files under `<root>/sha256/<first two hex digits>/<digest>`, named by their
 * content. An upload is streamed to `<root>/tmp/<random>` while it is hashed and moved into place
 * (a rename: readers never see half a file) only once complete and checked; a failed upload
 * leaves nothing. The same bytes uploaded twice are one file.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../../domain/errors.js';
import type { BlobPutOptions, PackageBlobStore, StoredBlob } from '../../../ports.js';
import { checkDigest, consume } from '../hashing.js';

function write(stream: WriteStream, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

function finish(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

export function createFsBlobStore(root: string): PackageBlobStore {
  const tmp = join(root, 'tmp');
  const pathOf = (digest: string): string => join(root, 'sha256', digest.slice(0, 2), checkDigest(digest));
  // Leftovers of uploads a crash interrupted are not packages: nothing refers to them.
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  const notFound = (digest: string, err: unknown): PlatformError =>
    new PlatformError('PACKAGE_NOT_FOUND', `no stored bytes ${digest.slice(0, 12)}…`, { cause: err });

  return {
    async put(source: AsyncIterable<Uint8Array>, options: BlobPutOptions): Promise<StoredBlob> {
      mkdirSync(tmp, { recursive: true, mode: 0o700 });
      const temp = join(tmp, randomUUID());
      const out = createWriteStream(temp, { mode: 0o600 });
      const failed = new Promise<never>((_, reject) => out.once('error', reject));
      failed.catch(() => undefined); // observed below through the writes; never unhandled
      try {
        const stored = await consume(source, options, (chunk) => Promise.race([write(out, chunk), failed]));
        await finish(out);
        const target = pathOf(stored.digest);
        mkdirSync(join(target, '..'), { recursive: true, mode: 0o700 });
        await rename(temp, target);
        return stored;
      } catch (err) {
        out.destroy();
        await rm(temp, { force: true });
        throw err;
      }
    },
    async read(digest: string, offset: number, length: number): Promise<Buffer> {
      let file;
      try {
        file = await open(pathOf(digest), 'r');
      } catch (err) {
        if (isMissing(err)) throw notFound(digest, err);
        throw err;
      }
      try {
        const buffer = Buffer.allocUnsafe(length);
        let filled = 0;
        while (filled < length) {
          const { bytesRead } = await file.read(buffer, filled, length - filled, offset + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return buffer.subarray(0, filled);
      } finally {
        await file.close();
      }
    },
    async *stream(digest: string, start: number, end: number): AsyncIterable<Buffer> {
      const path = pathOf(digest);
      try {
        await stat(path);
      } catch (err) {
        if (isMissing(err)) throw notFound(digest, err);
        throw err;
      }
      for await (const chunk of createReadStream(path, { start, end })) yield chunk as Buffer;
    },
    async delete(digest: string): Promise<void> {
      await rm(pathOf(digest), { force: true });
    },
  };
}
