import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore, SCHEMA_VERSION } from '../../../src/adapters/store/sqlite/index.js';
import type { TelemetryRow } from '../../../src/ports.js';
import { device, P1, seed, storeContract, T1, token } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'continuum-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const freshFile = (): string => join(dir, `store-${++n}`, 'continuum.db');

storeContract('sqlite', () => createSqliteStore({ file: freshFile(), synchronous: 'NORMAL' }));
// The telemetry log at both extremes: merged after every commit, and never merged before close.
storeContract('sqlite, merge after every commit', () =>
  createSqliteStore({ file: freshFile(), synchronous: 'NORMAL', telemetryLog: { mergeRows: 1 } }),
);
storeContract('sqlite, log never merged', () =>
  createSqliteStore({ file: freshFile(), synchronous: 'NORMAL', telemetryLog: { mergeRows: 1e12, mergeIntervalMs: 1e9 } }),
);

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const count = (file: string, table: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  } finally {
    db.close();
  }
};

describe('SQLite telemetry log', () => {
  const NEVER = { mergeRows: 1e12, mergeIntervalMs: 1e9 };

  it('a copy of a live file (as after SIGKILL) keeps unmerged rows; reopening reads them and resumes the merge', async () => {
    const file = freshFile();
    const live = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: NEVER });
    const id = randomUUID();
    try {
      await live.appendTelemetry([1, 2, 3].map((ts) => ({ deviceId: id, key: 'e', ts, value: ts })));
      await live.appendTelemetry([{ deviceId: id, key: 'e', ts: 2, value: 'two' }, { deviceId: id, key: 'e', ts: 4, value: 4 }]);
      // what a killed process leaves: the database and its WAL as of the last commit
      const copy = join(dir, `copy-${++n}`, 'continuum.db');
      mkdirSync(dirname(copy), { recursive: true });
      copyFileSync(file, copy);
      if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
      assert.equal(count(copy, 'ts_log'), 5);
      assert.equal(count(copy, 'ts_kv'), 0);

      const reopened = createSqliteStore({ file: copy, synchronous: 'NORMAL' });
      try {
        const expected = { e: [{ ts: 1, value: 1 }, { ts: 2, value: 'two' }, { ts: 3, value: 3 }, { ts: 4, value: 4 }] };
        assert.deepEqual(await reopened.queryRaw({ deviceId: id, keys: ['e'], from: 0, to: 10, limit: 10, order: 'asc' }), expected);
        assert.deepEqual(await reopened.latest(id), { e: { ts: 4, value: 4 } });
        await tick(); // the merge resumed on open
        assert.equal(count(copy, 'ts_log'), 0);
        assert.equal(count(copy, 'ts_kv'), 4);
        assert.deepEqual(await reopened.queryRaw({ deviceId: id, keys: ['e'], from: 0, to: 10, limit: 10, order: 'asc' }), expected);
        const sum = await reopened.queryAggregated({ deviceId: id, keys: ['e'], from: 0, to: 10, interval: 10, agg: 'sum' });
        assert.deepEqual(sum, { e: [{ ts: 0, value: 8 }] });
      } finally {
        await reopened.close();
      }
    } finally {
      await live.close();
    }
  });

  it('merges after the commit that fills the log, and everything on close', async () => {
    const file = freshFile();
    const merged: number[] = [];
    const store = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: { mergeRows: 10, mergeIntervalMs: 1e9, onMerge: (rows) => merged.push(rows) } });
    const devices = Array.from({ length: 6 }, () => randomUUID());
    const batch = (ts: number): TelemetryRow[] => devices.map((deviceId) => ({ deviceId, key: 'k', ts, value: ts }));
    await store.appendTelemetry(batch(1));
    await tick();
    assert.deepEqual(merged, []); // 6 rows: below the threshold
    await store.appendTelemetry(batch(2));
    assert.deepEqual(merged, []); // never inside the append
    await tick();
    assert.equal(merged.reduce((a, b) => a + b, 0), 12);
    assert.equal(count(file, 'ts_log'), 0);
    await store.appendTelemetry(batch(3));
    await store.close();
    assert.equal(count(file, 'ts_log'), 0);
    assert.equal(count(file, 'ts_kv'), 18);
  });

  it('a series with many rows in one commit and none in the log goes straight to ts_kv; otherwise through the log', async () => {
    const file = freshFile();
    const store = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: NEVER });
    try {
      const [a, b] = [randomUUID(), randomUUID()];
      const many = (deviceId: string, value: number): TelemetryRow[] => Array.from({ length: 10 }, (_, i) => ({ deviceId, key: 'k', ts: i + 1, value }));
      await store.appendTelemetry([{ deviceId: b, key: 'k', ts: 5, value: 0 }]); // b has a row in the log
      await store.appendTelemetry([...many(a, 1), ...many(b, 1)]);
      assert.equal(count(file, 'ts_kv'), 10); // a's
      assert.equal(count(file, 'ts_log'), 11); // b's, after its first one
      await store.appendTelemetry(many(a, 2)); // a: again directly, replacing
      assert.equal(count(file, 'ts_kv'), 10);
      for (const d of [a, b]) {
        const got = await store.queryRaw({ deviceId: d, keys: ['k'], from: 0, to: 100, limit: 100, order: 'asc' });
        assert.deepEqual(got.k?.map((p) => p.value), Array(10).fill(d === a ? 2 : 1), d);
      }
    } finally {
      await store.close();
    }
    assert.equal(count(file, 'ts_kv'), 20);
  });
});

describe('SQLite store', () => {
  it('keeps everything across close and reopen', async () => {
    const file = freshFile();
    const first = createSqliteStore({ file, synchronous: 'FULL' });
    await seed(first);
    const d = device('meter', { label: 'Main meter' });
    await first.insertDevice(d, [token(d, 'tok'), { type: 'MQTT_BASIC', deviceId: d.id, username: 'u', passwordHash: 'h' }]);
    await first.appendTelemetry([
      { deviceId: d.id, key: 'energy', ts: 1, value: 1.5 },
      { deviceId: d.id, key: 'state', ts: 1, value: { mode: 'eco' } },
    ]);
    await first.setAttributes(d.id, 'shared', { target: 21 }, 5);
    await first.saveStatuses([{ deviceId: d.id, online: true, lastActivity: 9, transport: 'http' }]);
    await first.insertUser({ id: 'u1', tenantId: T1, email: 'a@b.c', passwordHash: 'h', role: 'tenant-admin', createdAt: 1, disabled: false, tokenVersion: 0 });
    await first.putSetting('secret', 's');
    await first.close();

    const second = createSqliteStore({ file, synchronous: 'NORMAL' });
    try {
      assert.deepEqual(await second.getProfile(P1.id), P1);
      assert.deepEqual(await second.getDevice(d.id), d);
      assert.equal((await second.findCredentials({ type: 'ACCESS_TOKEN', tokenHash: 'tok' }))[0]?.deviceId, d.id);
      assert.equal((await second.getCredentials(d.id)).length, 2);
      assert.deepEqual(await second.latest(d.id), { energy: { ts: 1, value: 1.5 }, state: { ts: 1, value: { mode: 'eco' } } });
      // the surrogate ids from the first run are found again, not duplicated
      await second.appendTelemetry([{ deviceId: d.id, key: 'energy', ts: 2, value: 2 }]);
      assert.deepEqual(await second.queryRaw({ deviceId: d.id, keys: ['energy'], from: 0, to: 10, limit: 10, order: 'asc' }), {
        energy: [
          { ts: 1, value: 1.5 },
          { ts: 2, value: 2 },
        ],
      });
      assert.deepEqual(await second.getAttributes(d.id, 'shared'), [{ key: 'target', value: 21, lastUpdateTs: 5 }]);
      assert.deepEqual(await second.getStatuses([d.id]), [{ deviceId: d.id, online: true, lastActivity: 9, transport: 'http' }]);
      assert.equal(await second.countUsers(), 1);
      assert.equal(await second.getSetting('secret'), 's');
    } finally {
      await second.close();
    }
  });

  it('opens in WAL mode at the current schema version and refuses a newer schema', async () => {
    const file = freshFile();
    await createSqliteStore({ file, synchronous: 'NORMAL' }).close();
    const db = new Database(file);
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    } finally {
      db.close();
    }
    assert.throws(() => createSqliteStore({ file, synchronous: 'NORMAL' }), /newer than this build/);
  });

  it('rejects an unknown synchronous mode instead of putting it into a PRAGMA', () => {
    const synchronous = 'OFF; DROP TABLE devices' as 'NORMAL';
    assert.throws(() => createSqliteStore({ file: freshFile(), synchronous }), /synchronous must be/);
  });

  it('appends a batch of 50,000 rows in one call', async () => {
    const store = createSqliteStore({ file: freshFile(), synchronous: 'NORMAL' });
    try {
      const devices = Array.from({ length: 100 }, () => randomUUID());
      const keys = ['voltage', 'current', 'power', 'energy', 'on'];
      const rows: TelemetryRow[] = [];
      for (let t = 0; t < 100; t++) {
        for (const d of devices) for (const key of keys) rows.push({ deviceId: d, key, ts: 1_000 + t, value: key === 'on' ? t % 2 === 0 : t });
      }
      assert.equal(rows.length, 50_000);
      await store.appendTelemetry(rows);
      const d = devices[42] as string;
      const raw = await store.queryRaw({ deviceId: d, keys, from: 0, to: 10_000, limit: 1_000, order: 'asc' });
      for (const key of keys) assert.equal(raw[key]?.length, 100, key);
      assert.deepEqual(await store.latest(d), {
        voltage: { ts: 1_099, value: 99 },
        current: { ts: 1_099, value: 99 },
        power: { ts: 1_099, value: 99 },
        energy: { ts: 1_099, value: 99 },
        on: { ts: 1_099, value: false },
      });
      const count = await store.queryAggregated({ deviceId: d, keys: ['power'], from: 1_000, to: 1_099, interval: 100, agg: 'count' });
      assert.deepEqual(count, { power: [{ ts: 1_000, value: 100 }] });
    } finally {
      await store.close();
    }
  });
});
