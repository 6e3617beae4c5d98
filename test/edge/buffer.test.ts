import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ReadingBuffer } from '../../src/edge/buffer/sqlite-buffer.js';
import { tempDir } from '../support/tmp.js';

const warnings: object[] = [];
const logger = { debug() {}, info() {}, warn: (o: object) => void warnings.push(o), error() {} };

test('bounded: the oldest rows are dropped, counted persistently and logged; order and sequence survive a reopen', () => {
  const file = join(tempDir(), 'b.db');
  const buf = new ReadingBuffer({ file, maxRows: 5, logger });
  for (let i = 0; i < 8; i++) buf.append({ device: 'd', ts: 1000 + i, values: { i } });
  assert.deepEqual(buf.stats(), { depth: 5, appended: 8, dropped: 3 });
  assert.equal(warnings.length, 1, 'drop logged');
  assert.deepEqual(buf.read(0, 100).map((r) => r.ts), [1003, 1004, 1005, 1006, 1007]);
  buf.remove([4, 5]);
  buf.close();

  const again = new ReadingBuffer({ file, maxRows: 5, logger });
  assert.deepEqual(again.stats(), { depth: 3, appended: 8, dropped: 3 });
  assert.deepEqual(again.read(0, 2).map((r) => [r.seq, r.values]), [[6, { i: 5 }], [7, { i: 6 }]]);
  assert.deepEqual(again.read(6, 10, 7).map((r) => r.seq), [7], 'upper bound for the backlog cursor');
  assert.equal(again.append({ device: 'd', ts: 2000, values: {} }), 9, 'sequence numbers are never reused');
  again.close();
});
