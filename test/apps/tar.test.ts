/**
 * The backup's tar against GNU tar, an independent implementation: GNU tar unpacks what TarWriter
 * writes, listTar reads what GNU tar writes (ustar), and a damaged header is refused.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { extractEntry, listTar, TarError, TarWriter } from '../../src/apps/tar.js';
import { tempDir } from '../support/tmp.js';

test('GNU tar unpacks what TarWriter writes, byte for byte', () => {
  const dir = tempDir();
  const big = randomBytes(1_500_000 + 17); // several 1 MiB chunks and a partial block
  writeFileSync(join(dir, 'big.bin'), big);
  const archive = join(dir, 'a.tar');
  const fd = openSync(archive, 'w');
  const tar = new TarWriter(fd);
  const added = tar.addFile('ota/sha256/ab/big.bin', join(dir, 'big.bin'));
  tar.addBuffer('manifest.json', Buffer.from('{"x":1}\n'));
  tar.finish();
  closeSync(fd);
  assert.equal(added.size, big.length);
  assert.equal(execFileSync('tar', ['tf', archive], { encoding: 'utf8' }), 'ota/sha256/ab/big.bin\nmanifest.json\n');
  const out = join(dir, 'out');
  mkdirSync(out);
  execFileSync('tar', ['xf', archive, '-C', out]);
  assert.deepEqual(readFileSync(join(out, 'ota/sha256/ab/big.bin')), big);
  assert.equal(readFileSync(join(out, 'manifest.json'), 'utf8'), '{"x":1}\n');
});

test('listTar reads a ustar archive made by GNU tar, and refuses a damaged header', () => {
  const dir = tempDir();
  const data = randomBytes(5000);
  writeFileSync(join(dir, 'continuum.db'), data);
  const archive = join(dir, 'gnu.tar');
  execFileSync('tar', ['--format=ustar', '-cf', archive, '-C', dir, 'continuum.db']);
  const fd = openSync(archive, 'r');
  try {
    const entries = listTar(fd);
    assert.deepEqual(entries.map((e) => [e.name, e.size]), [['continuum.db', 5000]]);
    const dest = join(dir, 'copy');
    extractEntry(fd, entries[0]!, dest);
    assert.deepEqual(readFileSync(dest), data);
  } finally {
    closeSync(fd);
  }
  const damaged = readFileSync(archive);
  damaged[10] = 0x41; // inside the first header's name
  writeFileSync(join(dir, 'bad.tar'), damaged);
  const bad = openSync(join(dir, 'bad.tar'), 'r');
  try {
    assert.throws(() => listTar(bad), (err: unknown) => err instanceof TarError && /checksum mismatch/.test(err.message));
  } finally {
    closeSync(bad);
  }
  // Cut short: no end marker.
  writeFileSync(join(dir, 'short.tar'), readFileSync(archive).subarray(0, 1024));
  const short = openSync(join(dir, 'short.tar'), 'r');
  try {
    assert.throws(() => listTar(short), TarError);
  } finally {
    closeSync(short);
  }
});
