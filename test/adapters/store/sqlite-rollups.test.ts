/**
 * Hourly roll-ups (src/adapters/store/sqlite/rollups.ts): an aggregate read answered from
 * ts_hourly must equal the one computed from the raw points. A model in JS (last write of each
 * (device, key, ts) wins, numbers only) is the reference; random data brings out-of-order and
 * duplicate timestamps, replaced values, non-numeric values, the direct path and the log, merged
 * or not. After each phase ts_hourly itself is checked against ts_kv, hour by hour.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../../../src/adapters/store/sqlite/index.js';
import { failNextDeviceDeletion } from './sqlite-support.js';
import { MIGRATIONS } from '../../../src/adapters/store/sqlite/schema.js';
import type { Aggregation, TelemetryValue } from '../../../src/domain/telemetry.js';
import type { Store, TelemetryRow } from '../../../src/ports.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 1); // a whole hour
const HOURS = 12;
const DEVICES = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b'];
const KEYS = ['x', 'y', 'z'];
const AGGS: readonly Aggregation[] = ['count', 'sum', 'min', 'max', 'avg'];
const NEVER = { mergeRows: 1e12, mergeIntervalMs: 1e9 };

let seed = 7;
const rand = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

/** The reference: device → key → ts → value, the last write wins. */
type Model = Map<string, Map<string, Map<number, TelemetryValue>>>;

function write(model: Model, rows: readonly TelemetryRow[]): void {
  for (const r of rows) {
    let byKey = model.get(r.deviceId);
    if (!byKey) model.set(r.deviceId, (byKey = new Map()));
    let series = byKey.get(r.key);
    if (!series) byKey.set(r.key, (series = new Map()));
    series.set(r.ts, r.value);
  }
}

function expected(model: Model, device: string, key: string, from: number, to: number, interval: number, agg: Aggregation): [number, number][] {
  const acc = new Map<number, number[]>();
  for (const [ts, v] of model.get(device)?.get(key) ?? []) {
    if (ts < from || ts > to || typeof v !== 'number') continue;
    const b = Math.floor((ts - from) / interval);
    const a = acc.get(b);
    if (!a) acc.set(b, [1, v, v, v]);
    else acc.set(b, [(a[0] as number) + 1, (a[1] as number) + v, Math.min(a[2] as number, v), Math.max(a[3] as number, v)]);
  }
  const f = { count: (a: number[]) => a[0], sum: (a: number[]) => a[1], min: (a: number[]) => a[2], max: (a: number[]) => a[3], avg: (a: number[]) => (a[1] as number) / (a[0] as number) }[agg];
  return [...acc.entries()].sort((x, y) => x[0] - y[0]).map(([b, a]) => [from + b * interval, f(a) as number]);
}

/** Equal bucket by bucket; sums (and averages) of floats up to rounding, the rest exactly. */
function assertSame(actual: [number, number][], wanted: [number, number][], what: string): void {
  assert.deepEqual(actual.map(([ts]) => ts), wanted.map(([ts]) => ts), `${what}: buckets`);
  actual.forEach(([ts, v], i) => {
    const w = (wanted[i] as [number, number])[1];
    assert.ok(Math.abs(v - w) <= 1e-9 * Math.max(1, Math.abs(w)), `${what}: bucket ${ts}: ${v} != ${w}`);
  });
}

/** Hour-aligned queries (the roll-up path) with partial edge hours, and a few unaligned ones. */
async function checkQueries(store: Store, model: Model, what: string): Promise<void> {
  const ranges: [number, number, number][] = [
    [T0, T0 + HOURS * H - 1, H],
    [T0, T0 + 3 * HOURS * H, 5 * H],
    [T0, T0 + HOURS * H, 2 * H],
    [T0 + H, T0 + 5 * H + 1_234_567, H], // a partial hour at the end
    [T0 + 2 * H, T0 + 2 * H + 59 * 60_000, H], // no whole hour: the raw path
    [T0 - 24 * H, T0 + 48 * H, 24 * H],
    [T0 + 17_000, T0 + 9 * H, H], // not aligned: the raw path
    [T0 + 3 * H, T0 + 11 * H + 30 * 60_000, 3 * H],
  ];
  for (const device of DEVICES) {
    for (const [from, to, interval] of ranges) {
      for (const agg of AGGS) {
        const got = await store.queryAggregated({ deviceId: device, keys: KEYS, from, to, interval, agg });
        for (const key of KEYS) {
          const actual = (got[key] ?? []).map((p): [number, number] => [p.ts, p.value as number]);
          assertSame(actual, expected(model, device, key, from, to, interval, agg), `${what}: ${device.slice(-1)}/${key} ${agg} [${from - T0}, ${to - T0}] / ${interval}`);
        }
      }
    }
  }
}

/** ts_hourly holds, per series and hour, the numeric rows of ts_kv: nothing more, nothing less. */
function checkTable(file: string): void {
  const db = new Database(file, { readonly: true });
  try {
    const kv = db
      .prepare(
        `SELECT device, key, ts - ((ts % 3600000) + 3600000) % 3600000 AS hour, count(*), sum(v), min(v), max(v)
         FROM ts_kv WHERE t = 0 GROUP BY device, key, hour ORDER BY device, key, hour`,
      )
      .raw()
      .all() as number[][];
    const hourly = db.prepare('SELECT device, key, hour, cnt, sum, min, max FROM ts_hourly ORDER BY device, key, hour').raw().all() as number[][];
    assert.deepEqual(hourly.map((r) => [r[0], r[1], r[2], r[3], r[5], r[6]]), kv.map((r) => [r[0], r[1], r[2], r[3], r[5], r[6]]));
    hourly.forEach((r, i) => assert.ok(Math.abs((r[4] as number) - ((kv[i] as number[])[4] as number)) <= 1e-9 * Math.max(1, Math.abs(r[4] as number)), 'hour sum'));
  } finally {
    db.close();
  }
}

/** A random value: mostly numbers, some booleans and strings. */
function value(): TelemetryValue {
  const r = rand();
  if (r < 0.08) return 'text';
  if (r < 0.12) return rand() < 0.5;
  return Math.round((rand() - 0.4) * 1e6) / 1e3;
}

/** A batch: random series, random minutes within HOURS hours (so duplicates and replacements). */
function batch(size: number, oneSeries?: [string, string], base = T0): TelemetryRow[] {
  return Array.from({ length: size }, () => {
    const [deviceId, key] = oneSeries ?? [pick(DEVICES), pick(KEYS)];
    return { deviceId, key, ts: base + Math.floor(rand() * HOURS * 60) * 60_000 + (rand() < 0.3 ? Math.floor(rand() * 60_000) : 0), value: value() };
  });
}

/** Random appends: small mixed batches (the log) and runs of one series (the direct path). */
async function appendRandom(store: Store, model: Model, batches: number): Promise<void> {
  for (let i = 0; i < batches; i++) {
    const rows = rand() < 0.3 ? batch(8 + Math.floor(rand() * 40), [pick(DEVICES), pick(KEYS)]) : batch(1 + Math.floor(rand() * 30));
    if (rand() < 0.2 && rows.length > 1) rows.push({ ...(rows[0] as TelemetryRow), value: value() }); // the same ts twice in a commit
    await store.appendTelemetry(rows);
    write(model, rows);
    if (rand() < 0.3) await new Promise((resolve) => setImmediate(resolve)); // lets a merge step run
  }
}

/** SQL that takes a database back from each migration after 5 to the one before it. */
const UNDO_MIGRATION: Record<number, string> = {
  6: 'DROP TABLE ts_hourly',
  7: 'DROP TABLE audit_log',
  8: 'DROP INDEX users_tenant; ALTER TABLE users DROP COLUMN disabled; ALTER TABLE users DROP COLUMN token_version; ALTER TABLE api_keys DROP COLUMN expires_at',
  9: 'ALTER TABLE credentials DROP COLUMN token_hint; ALTER TABLE credentials RENAME COLUMN token_hash TO token',
  10: 'DROP TABLE bus_outbox',
  11: 'DROP TABLE id_sequences; ALTER TABLE commands DROP COLUMN lease_until; ALTER TABLE commands DROP COLUMN claimed_by; ALTER TABLE commands DROP COLUMN version; ALTER TABLE alarms DROP COLUMN version',
  12: 'ALTER TABLE device_status DROP COLUMN epoch; ALTER TABLE device_status DROP COLUMN node_id',
  13: 'DROP TABLE mqtt_sessions; DROP TABLE mqtt_outbound',
  14: 'DROP TABLE mqtt_retained',
  15: 'DROP TABLE ota_profile_assignments; DROP TABLE ota_assignments; DROP TABLE ota_packages',
  16: 'DROP TABLE ota_deployment_devices; DROP TABLE ota_deployments',
  17: 'DROP TABLE integration_exports; DROP TABLE integrations',
  18: "DROP TABLE roles; ALTER TABLE tenants DROP COLUMN status; ALTER TABLE tenants DROP COLUMN created_at; UPDATE users SET role = CASE role WHEN 'operator' THEN 'user' WHEN 'viewer' THEN 'user' WHEN 'customer-user' THEN 'user' ELSE 'admin' END",
  19: 'DROP TABLE group_members; DROP TABLE device_groups; DROP INDEX devices_customer; ALTER TABLE devices DROP COLUMN customer_id; ALTER TABLE dashboards DROP COLUMN customer_id; ALTER TABLE users DROP COLUMN customer_id; DROP TABLE customers',
  20: 'DROP TABLE user_totp; DROP TABLE user_identities; ALTER TABLE api_keys DROP COLUMN role',
  21: 'DROP TABLE mqtt_grants',
  22: 'DROP TABLE tenant_usage_daily; DROP TABLE tenant_quotas',
  23: 'ALTER TABLE profiles DROP COLUMN decoder',
  24:
    'DROP TABLE ota_settings; DROP TABLE ota_signing_keys; ' +
    "CREATE TABLE ota_packages_v15 (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL REFERENCES tenants (id), type TEXT NOT NULL CHECK (type IN ('firmware', 'software')), " +
    'title TEXT NOT NULL, version TEXT NOT NULL, profile_id TEXT, hardware TEXT, size INTEGER NOT NULL, checksum TEXT NOT NULL, created_at INTEGER NOT NULL, ' +
    'UNIQUE (tenant_id, type, title, version)) STRICT; ' +
    "INSERT INTO ota_packages_v15 SELECT id, tenant_id, type, title, version, profile_id, hardware, size, checksum, created_at FROM ota_packages WHERE from_version = ''; " +
    'DROP TABLE ota_packages; ALTER TABLE ota_packages_v15 RENAME TO ota_packages; CREATE INDEX ota_packages_checksum ON ota_packages (checksum)',
  25: 'DROP TABLE trip_trackers; DROP TABLE trips; DROP TABLE zones',
  26: 'ALTER TABLE profiles DROP COLUMN retention_days',
};

describe('SQLite hourly roll-ups', () => {
  const dir = mkdtempSync(join(tmpdir(), 'continuum-rollups-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('answer hour-aligned aggregates as the raw points do: unmerged, merged, reopened, after a device deletion', async () => {
    const file = join(dir, 'random.db');
    const model: Model = new Map();
    // merges now and then (small threshold), so reads see ts_kv, ts_hourly and the tail together
    let store = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: { mergeRows: 120, mergeIntervalMs: 1e9 } });
    try {
      await appendRandom(store, model, 150);
      await checkQueries(store, model, 'mixed');
    } finally {
      await store.close();
    }
    checkTable(file);
    store = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: NEVER });
    try {
      await checkQueries(store, model, 'reopened');
      for (const deviceId of DEVICES) {
        for (const key of KEYS) {
          // the direct path past the newest row: duplicates within the commit decide
          const rows = batch(60, [deviceId, key], T0 + HOURS * H);
          rows.push(...rows.slice(0, 20).map((r) => ({ ...r, value: value() })));
          await store.appendTelemetry(rows);
          write(model, rows);
        }
      }
      await appendRandom(store, model, 60); // all in the log or direct: replacing merged rows
      await checkQueries(store, model, 'unmerged over merged');
    } finally {
      await store.close();
    }
    checkTable(file);
    store = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: NEVER });
    try {
      assert.equal(await store.deleteDevice(DEVICES[0] as string), false); // no registry row, telemetry goes
      model.delete(DEVICES[0] as string);
      await checkQueries(store, model, 'deleted');
      await appendRandom(store, model, 40);
      await checkQueries(store, model, 'written again');
    } finally {
      await store.close();
    }
    checkTable(file);
  });

  it('a device deletion that rolls back leaves the roll-ups of its rows right once merged', async () => {
    const file = join(dir, 'rollback.db');
    const model: Model = new Map();
    const store = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: NEVER });
    const id = DEVICES[1] as string;
    try {
      await appendRandom(store, model, 30);
      await store.close();
    } catch (err) {
      await store.close();
      throw err;
    }
    const again = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: NEVER });
    try {
      const rows = batch(40);
      await again.appendTelemetry(rows); // in the log: the deletion below takes them from the tail
      write(model, rows);
      failNextDeviceDeletion(file, id);
      await assert.rejects(again.deleteDevice(id), /held/);
      await again.appendTelemetry(batch(20, [id, 'x']).map((r) => ({ ...r, ts: r.ts + HOURS * H }))); // newer, after the lost rows
    } finally {
      await again.close(); // merges the log, with the rows the tail lost
    }
    checkTable(file);
  });

  // A background merge plans its steps once (up to a rowid), then runs one per turn of the event
  // loop: a write between two steps may replace, in the tail, a log row that the next step moves.
  it('a write between two merge steps that replaces a row the next step moves', async () => {
    const file = join(dir, 'steps.db');
    const model: Model = new Map();
    let steps = 0;
    const store = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: { mergeRows: 24_000, mergeIntervalMs: 1e9, onMerge: () => steps++ } });
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    try {
      // 12,000 log rows per device (7 per series and commit: never the direct path): two steps
      for (const deviceId of DEVICES) {
        for (let i = 0; i < 4_000; i += 7) {
          const rows = KEYS.flatMap((key) => Array.from({ length: Math.min(7, 4_000 - i) }, (_, j) => ({ deviceId, key, ts: T0 + (i + j) * 10_000, value: Math.round(rand() * 1e4) / 100 })));
          await store.appendTelemetry(rows);
          write(model, rows);
        }
      }
      await turn();
      assert.equal(steps, 1, 'the first step ran, the second waits for the next turn');
      const again = KEYS.flatMap((key) => [5, 3_999].map((i) => ({ deviceId: DEVICES[1] as string, key, ts: T0 + i * 10_000, value: 1e6 }))); // an older and the newest ts
      await store.appendTelemetry(again);
      write(model, again);
      for (let i = 0; steps < 2 && i < 1_000; i++) await turn();
      assert.equal(steps, 2, 'the second step ran');
      checkTable(file); // the second step moved the replaced rows: their hours are right
      await checkQueries(store, model, 'between steps');
    } finally {
      await store.close();
    }
    checkTable(file);
  });

  it('a database from before the roll-ups gets them from ts_kv when it is opened', async () => {
    const file = join(dir, 'v5.db');
    const model: Model = new Map();
    const store = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: NEVER });
    try {
      await appendRandom(store, model, 80);
    } finally {
      await store.close();
    }
    // back to schema version 5: as if written by the build before the roll-ups. Every later
    // migration is undone too (each needs an entry here), so they can run again on reopen.
    const db = new Database(file);
    const before = MIGRATIONS.filter((m) => m.version < 6).at(-1)?.version as number;
    for (const m of MIGRATIONS.filter((m) => m.version > before).reverse()) {
      const undo = UNDO_MIGRATION[m.version];
      assert.ok(undo, `test: add how to undo migration ${m.version} to UNDO_MIGRATION`);
      db.exec(undo);
    }
    db.pragma(`user_version = ${before}`);
    db.close();
    const reopened = createSqliteStore({ file, synchronous: 'NORMAL', telemetryLog: NEVER });
    try {
      await checkQueries(reopened, model, 'migrated');
    } finally {
      await reopened.close();
    }
    checkTable(file);
  });
});
