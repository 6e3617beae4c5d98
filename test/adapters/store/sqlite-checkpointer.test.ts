import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../../src/adapters/store/sqlite/index.js';
import type { CheckpointReport } from '../../../src/adapters/store/sqlite/checkpointer.js';

const dir = mkdtempSync(join(tmpdir(), 'continuum-ckpt-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshFile = (): string => join(dir, `store-${++n}`, 'continuum.db');

/** Resolves with the first report that satisfies `done`; checkpoints run every few ms here. */
function waitForReport(reports: CheckpointReport[], done: (r: CheckpointReport) => boolean): Promise<CheckpointReport> {
  return new Promise((resolve) => {
    const poll = (): void => {
      const hit = reports.find(done);
      if (hit) resolve(hit);
      else setTimeout(poll, 5);
    };
    poll();
  });
}

function rows(deviceId: string, from: number, count: number): { deviceId: string; key: string; ts: number; value: number }[] {
  return Array.from({ length: count }, (_, i) => ({ deviceId, key: 'k', ts: from + i, value: i }));
}

describe('SQLite WAL checkpoints on a worker thread', () => {
  it('copies committed pages back from the worker while the writer never checkpoints', async () => {
    const file = freshFile();
    const reports: CheckpointReport[] = [];
    const store = createSqliteStore({ file, synchronous: 'NORMAL', checkpoints: { intervalMs: 10, onCheckpoint: (r) => reports.push(r) } });
    const id = randomUUID();
    try {
      await store.appendTelemetry(rows(id, 0, 20_000));
      const report = await waitForReport(reports, (r) => r.log > 0 && r.checkpointed === r.log);
      assert.ok(report.log > 0);
      // the pages are in the database file itself: a reader that ignores the WAL size sees them
      assert.ok(statSync(file).size > 4096 * 10);
    } finally {
      await store.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.prepare('SELECT count(*) FROM ts_kv').pluck().get(), 20_000);
    } finally {
      db.close();
    }
  });

  it('bounds the WAL: past maxWalFrames the writer checkpoints once itself, and nothing is lost', async () => {
    const file = freshFile();
    const reports: CheckpointReport[] = [];
    const store = createSqliteStore({
      file,
      synchronous: 'NORMAL',
      checkpoints: { intervalMs: 10, maxWalFrames: 1, onCheckpoint: (r) => reports.push(r) },
    });
    const id = randomUUID();
    try {
      for (let i = 0; i < 5; i++) await store.appendTelemetry(rows(id, i * 1_000, 1_000));
      await waitForReport(reports, (r) => r.log > 1);
      await store.appendTelemetry(rows(id, 5_000, 1_000));
      const raw = await store.queryRaw({ deviceId: id, keys: ['k'], from: 0, to: 10_000, limit: 10_000, order: 'asc' });
      assert.equal(raw.k?.length, 6_000);
    } finally {
      await store.close();
    }
  });

  it('closes cleanly when closed twice at once, and an in-memory store has no worker', async () => {
    const store = createSqliteStore({ file: freshFile(), synchronous: 'NORMAL' });
    await Promise.all([store.close(), store.close()]);
    const memory = createSqliteStore({ file: ':memory:', synchronous: 'NORMAL' });
    await memory.appendTelemetry(rows(randomUUID(), 0, 10));
    await memory.close();
  });
});
