/**
 * Both package blob stores give the same answers: content-addressed (digest = SHA-256, the same
 * bytes once), range reads, the size limit and a stated checksum refused with nothing kept.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createFsBlobStore } from '../../../src/adapters/blobs/fs/fs-blobs.js';
import { createMemoryBlobStore } from '../../../src/adapters/blobs/memory/memory-blobs.js';
import { isPlatformError } from '../../../src/domain/errors.js';
import type { PackageBlobStore } from '../../../src/ports.js';
import { tempDir } from '../../support/tmp.js';

async function* pieces(data: Buffer, size = 1000): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield new Uint8Array(data.subarray(i, i + size));
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const kinds: [string, () => { store: PackageBlobStore; files?: () => string[] }][] = [
  ['memory', () => ({ store: createMemoryBlobStore() })],
  [
    'filesystem',
    () => {
      const dir = tempDir();
      dirs.push(dir);
      return { store: createFsBlobStore(dir), files: () => readdirSync(join(dir, 'tmp')) };
    },
  ],
];

for (const [name, make] of kinds) {
  describe(`package blob store: ${name}`, () => {
    it('stores streamed bytes under their SHA-256 and reads any range back', async () => {
      const { store } = make();
      const data = randomBytes(10_000);
      const digest = createHash('sha256').update(data).digest('hex');
      assert.deepEqual(await store.put(pieces(data), { maxBytes: 20_000, expectedSha256: digest }), { digest, size: 10_000 });
      assert.deepEqual(await store.put(pieces(data, 7), { maxBytes: 20_000 }), { digest, size: 10_000 }, 'the same bytes again');
      assert.deepEqual(await store.read(digest, 0, 10_000), data);
      assert.deepEqual(await store.read(digest, 9_990, 100), data.subarray(9_990), 'short at the end');
      assert.equal((await store.read(digest, 10_000, 10)).length, 0, 'past the end: nothing');
      assert.deepEqual(await collect(store.stream(digest, 100, 199)), data.subarray(100, 200));
      await store.delete(digest);
      await assert.rejects(store.read(digest, 0, 1), (err) => isPlatformError(err, 'PACKAGE_NOT_FOUND'));
    });

    it('refuses more than the limit and a checksum that does not match, keeping nothing', async () => {
      const { store, files } = make();
      const data = randomBytes(5_000);
      await assert.rejects(store.put(pieces(data), { maxBytes: 4_999 }), (err) => isPlatformError(err, 'PAYLOAD_TOO_LARGE'));
      await assert.rejects(store.put(pieces(data), { maxBytes: 10_000, expectedSha256: '0'.repeat(64) }), (err) => isPlatformError(err, 'CHECKSUM_MISMATCH'));
      const digest = createHash('sha256').update(data).digest('hex');
      await assert.rejects(store.read(digest, 0, 1), (err) => isPlatformError(err, 'PACKAGE_NOT_FOUND'));
      if (files) assert.deepEqual(files(), [], 'no temporary file left');
    });

    it('never takes a key that is not a digest (no path out of its folder)', async () => {
      const { store } = make();
      await assert.rejects(store.read('../../etc/passwd', 0, 1), (err) => isPlatformError(err, 'PACKAGE_NOT_FOUND'));
    });
  });
}
