import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore, SCHEMA_VERSION } from '../../../src/adapters/store/sqlite/index.js';
import type { TelemetryRow } from '../../../src/ports.js';
import { device, P1, seed, storeContract, T1, token } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'continuum-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
const freshFile = (): string => join(dir, `store-${++n}`, 'continuum.db');

storeContract('sqlite', () => createSqliteStore({ file: freshFile(), synchronous: 'NORMAL' }));

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
    await first.insertUser({ id: 'u1', tenantId: T1, email: 'a@b.c', passwordHash: 'h', role: 'admin', createdAt: 1 });
    await first.putSetting('secret', 's');
    await first.close();

    const second = createSqliteStore({ file, synchronous: 'NORMAL' });
    try {
      assert.deepEqual(await second.getProfile(P1.id), P1);
      assert.deepEqual(await second.getDevice(d.id), d);
      assert.equal((await second.findCredentials({ type: 'ACCESS_TOKEN', token: 'tok' }))[0]?.deviceId, d.id);
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
