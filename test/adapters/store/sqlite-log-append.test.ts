/**
 * The multi-row ts_log appender (src/adapters/store/sqlite/log-append.ts) numbers each row with
 * the rowid SQLite gave it: the unmerged tail orders same-timestamp points by rowid and the merge
 * deletes the log up to one, so a wrong number would lose or reorder points.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLogAppender, LOG_CHUNK } from '../../../src/adapters/store/sqlite/log-append.js';
import { createSqliteStore } from '../../../src/adapters/store/sqlite/index.js';
import type { TelemetryRow } from '../../../src/ports.js';

function logDb(): Database.Database {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE ts_log (device INTEGER NOT NULL, key INTEGER NOT NULL, ts INTEGER NOT NULL, t INTEGER NOT NULL, v ANY NOT NULL) STRICT');
  return db;
}

const dir = mkdtempSync(join(tmpdir(), 'continuum-log-append-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('ts_log multi-row appends', () => {
  it('reports for each row the rowid it was stored under, over full chunks and the rest, after deletions at either end', () => {
    const db = logDb();
    const assigned = new Map<number, number>();
    const log = createLogAppender(db, (i, rowid) => assigned.set(i, rowid));
    const write = (base: number, n: number): void => {
      const tx = db.transaction(() => {
        for (let i = 0; i < n; i++) log.add(base + i, i % 7, i % 3, base + i, 1, base + i);
        log.finish();
      });
      tx();
    };
    write(0, LOG_CHUNK * 2 + 5);
    db.exec('DELETE FROM ts_log WHERE rowid <= 10'); // the merge deletes the oldest rows
    write(1000, LOG_CHUNK + 1);
    db.exec('DELETE FROM ts_log WHERE rowid = (SELECT max(rowid) FROM ts_log)'); // the newest gone: its number is given again
    write(2000, LOG_CHUNK * 3);
    const stored = db.prepare<[], { rowid: number; ts: number }>('SELECT rowid, ts FROM ts_log').all();
    for (const row of stored) assert.equal(assigned.get(row.ts), row.rowid, `row ${row.ts}`);
    assert.equal(stored.length, LOG_CHUNK * 6 + 6 - 10 - 1);
  });

  it('a transaction that failed midway leaves nothing queued for the next one (regression: stale chunk rows)', () => {
    const db = logDb();
    const assigned = new Map<number, number>();
    const log = createLogAppender(db, (i, rowid) => assigned.set(i, rowid));
    const failing = db.transaction(() => {
      for (let i = 0; i < 10; i++) log.add(i, 1, 1, i, 1, i);
      throw new Error('the commit fails');
    });
    assert.throws(() => failing(), /the commit fails/);
    log.discard();
    db.transaction(() => {
      log.add(100, 1, 1, 100, 1, 100);
      log.finish();
    })();
    assert.deepEqual(db.prepare('SELECT ts FROM ts_log').pluck().all(), [100]);
  });

  it('a store commit of many rows per series keeps the newest of equal timestamps (the later row wins)', async () => {
    // Never merged: the reads combine ts_kv with the log's rows by their rowids.
    const store = createSqliteStore({ file: join(dir, 'store', 'continuum.db'), synchronous: 'NORMAL', telemetryLog: { mergeRows: 1e12, mergeIntervalMs: 1e9 } });
    try {
      const device = '00000000-0000-4000-8000-000000000001';
      // One row per device and key spread over many devices: every row goes through the log.
      const rows: TelemetryRow[] = [];
      for (let d = 0; d < 300; d++) rows.push({ deviceId: `00000000-0000-4000-8000-${String(d + 10).padStart(12, '0')}`, key: 'v', ts: 5, value: d });
      rows.push({ deviceId: device, key: 'v', ts: 7, value: 1 });
      await store.appendTelemetry(rows);
      await store.appendTelemetry([...rows.slice(0, 200), { deviceId: device, key: 'v', ts: 7, value: 2 }]);
      const raw = await store.queryRaw({ deviceId: device, keys: ['v'], from: 0, to: 10, limit: 10, order: 'asc' });
      assert.deepEqual(raw.v, [{ ts: 7, value: 2 }]);
      const other = await store.queryRaw({ deviceId: '00000000-0000-4000-8000-000000000150', keys: ['v'], from: 0, to: 10, limit: 10, order: 'asc' });
      assert.deepEqual(other.v, [{ ts: 5, value: 140 }]);
    } finally {
      await store.close();
    }
  });
});
