/**
 * The data dir holds the JWT signing secret (settings table), password hashes and device
 * credentials: directory 0700, database files 0600, also when an older version left them open.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestPlatform, tempDir } from '../support/platform.js';

const modeOf = (path: string): string => (statSync(path).mode & 0o777).toString(8);

test('regression: the signing secret sits in a world-readable file', async () => {
  const parent = tempDir();
  const dataDir = join(parent, 'data');
  const previous = process.umask(0o022); // the usual umask: without care, files come out 0644
  try {
    const tp = await startTestPlatform({ dataDir });
    try {
      assert.equal(modeOf(dataDir), '700');
      for (const file of ['continuum.db', 'continuum.db-wal', 'continuum.db-shm']) assert.equal(modeOf(join(dataDir, file)), '600', file);
    } finally {
      await tp.stop();
    }
  } finally {
    process.umask(previous);
  }
});

test('a data dir left readable by an earlier version is tightened at start', async () => {
  const dataDir = join(tempDir(), 'data');
  mkdirSync(dataDir, { mode: 0o755 });
  const first = await startTestPlatform({ dataDir });
  await first.stop();
  chmodSync(dataDir, 0o755);
  chmodSync(join(dataDir, 'continuum.db'), 0o644);
  const second = await startTestPlatform({ dataDir });
  try {
    assert.equal(modeOf(dataDir), '700');
    assert.equal(modeOf(join(dataDir, 'continuum.db')), '600');
  } finally {
    await second.stop();
  }
});
