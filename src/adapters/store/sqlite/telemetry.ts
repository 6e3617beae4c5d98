/**
 * Time series. Device UUIDs and key names map to integer surrogates (ts_device, ts_key, both
 * cached in memory), so a ts_kv row is (int, int, int, tag, value) in a WITHOUT ROWID table
 * clustered on (device, key, ts): one B-tree, range scans read contiguous pages.
 *
 * appendTelemetry is one transaction per batch (group commit) of prepared statements; ts_latest
 * gets one upsert per (device, key) of the batch, which only moves forward in time.
 */
import { PlatformError } from '../../../domain/errors.js';
import type { Aggregation, JsonValue, TelemetryValue, TsValue } from '../../../domain/telemetry.js';
import type { AggregateQuery, RawQuery, TelemetryRow, TelemetryStore } from '../../../ports.js';
import { checkAggregateQuery, checkRawQuery, checkTs, clampLimit, putOwn, tagOf, ValueTag } from '../shared.js';
import type { Db, Statement } from './sql.js';

type Stored = [tag: number, value: number | string];

function encode(value: TelemetryValue): Stored {
  const tag = tagOf(value);
  switch (tag) {
    case ValueTag.Number:
      return [tag, value as number];
    case ValueTag.Boolean:
      return [tag, value ? 1 : 0];
    case ValueTag.String:
      return [tag, value as string];
    default:
      return [tag, JSON.stringify(value)];
  }
}

function decode(tag: number, v: unknown): TelemetryValue {
  switch (tag) {
    case ValueTag.Number:
      return v as number;
    case ValueTag.Boolean:
      return v !== 0;
    case ValueTag.String:
      return v as string;
    case ValueTag.Json:
      return JSON.parse(v as string) as JsonValue[] | { [key: string]: JsonValue };
    default:
      throw new PlatformError('INTERNAL', `unknown value tag ${tag}`);
  }
}

/** Aggregate expressions by name: SQL text comes from this table only, never from the caller. */
const AGG_SQL: Record<Aggregation, string> = {
  avg: 'avg(v)',
  min: 'min(v)',
  max: 'max(v)',
  sum: 'sum(v)',
  count: 'count(*)',
};

export interface SqliteTelemetry extends TelemetryStore {
  /** Removes the device's series (inside the caller's transaction). */
  deleteDevice(deviceId: string): void;
}

export function createSqliteTelemetry(db: Db): SqliteTelemetry {
  const s = {
    deviceId: db.prepare<[string], number>('SELECT id FROM ts_device WHERE uuid = ?').pluck(),
    newDevice: db.prepare<[string], number>('INSERT INTO ts_device (uuid) VALUES (?) RETURNING id').pluck(),
    keyId: db.prepare<[string], number>('SELECT id FROM ts_key WHERE key = ?').pluck(),
    newKey: db.prepare<[string], number>('INSERT INTO ts_key (key) VALUES (?) RETURNING id').pluck(),
    put: db.prepare('INSERT OR REPLACE INTO ts_kv (device, key, ts, t, v) VALUES (?, ?, ?, ?, ?)'),
    putLatest: db.prepare(
      `INSERT INTO ts_latest (device, key, ts, t, v) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (device, key) DO UPDATE SET ts = excluded.ts, t = excluded.t, v = excluded.v
       WHERE excluded.ts >= ts_latest.ts`,
    ),
    rawAsc: db.prepare('SELECT ts, t, v FROM ts_kv WHERE device = ? AND key = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?').raw(),
    rawDesc: db.prepare('SELECT ts, t, v FROM ts_kv WHERE device = ? AND key = ? AND ts >= ? AND ts <= ? ORDER BY ts DESC LIMIT ?').raw(),
    latestOne: db.prepare('SELECT ts, t, v FROM ts_latest WHERE device = ? AND key = ?').raw(),
    latestAll: db.prepare('SELECT k.key, l.ts, l.t, l.v FROM ts_latest l JOIN ts_key k ON k.id = l.key WHERE l.device = ?').raw(),
    keys: db.prepare<[number], string>('SELECT k.key FROM ts_latest l JOIN ts_key k ON k.id = l.key WHERE l.device = ? ORDER BY k.key').pluck(),
    deleteKv: db.prepare('DELETE FROM ts_kv WHERE device = ?'),
    deleteLatest: db.prepare('DELETE FROM ts_latest WHERE device = ?'),
    deleteDevice: db.prepare('DELETE FROM ts_device WHERE id = ?'),
  };
  // Buckets in SQL: integer division of integers (the CASTs keep bound JS numbers from being REAL).
  const aggregate = Object.fromEntries(
    Object.entries(AGG_SQL).map(([name, expr]) => [
      name,
      db
        .prepare(
          `SELECT (ts - CAST(@from AS INTEGER)) / CAST(@interval AS INTEGER) AS bucket, ${expr}
           FROM ts_kv WHERE device = @device AND key = @key AND ts >= @from AND ts <= @to AND t = ${ValueTag.Number}
           GROUP BY bucket ORDER BY bucket`,
        )
        .raw(),
    ]),
  ) as Record<Aggregation, Statement>;

  // Read-through caches. A surrogate created inside a transaction is cached only after commit.
  const deviceIds = new Map<string, number>();
  const keyIds = new Map<string, number>();

  function knownDevice(uuid: string): number | undefined {
    let id = deviceIds.get(uuid);
    if (id === undefined) {
      id = s.deviceId.get(uuid);
      if (id !== undefined) deviceIds.set(uuid, id);
    }
    return id;
  }

  function knownKey(key: string): number | undefined {
    let id = keyIds.get(key);
    if (id === undefined) {
      id = s.keyId.get(key);
      if (id !== undefined) keyIds.set(key, id);
    }
    return id;
  }

  // Surrogates created by the running append transaction: consulted before the SELECT, so a row
  // this transaction inserted never reaches the caches unless the transaction commits.
  let createdDevices = new Map<string, number>();
  let createdKeys = new Map<string, number>();

  function deviceFor(uuid: string): number {
    let id = deviceIds.get(uuid) ?? createdDevices.get(uuid);
    if (id !== undefined) return id;
    id = s.deviceId.get(uuid);
    if (id !== undefined) deviceIds.set(uuid, id);
    else createdDevices.set(uuid, (id = s.newDevice.get(uuid) as number));
    return id;
  }

  function keyFor(key: string): number {
    let id = keyIds.get(key) ?? createdKeys.get(key);
    if (id !== undefined) return id;
    id = s.keyId.get(key);
    if (id !== undefined) keyIds.set(key, id);
    else createdKeys.set(key, (id = s.newKey.get(key) as number));
    return id;
  }

  const appendTx = db.transaction((rows: readonly TelemetryRow[]) => {
    // device → key → index of the row that ends up latest within this batch
    const newest = new Map<number, Map<number, number>>();
    const encoded: Stored[] = new Array<Stored>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as TelemetryRow;
      checkTs(row.ts);
      const device = deviceFor(row.deviceId);
      const key = keyFor(row.key);
      const value = encode(row.value);
      encoded[i] = value;
      s.put.run(device, key, row.ts, value[0], value[1]);
      let byKey = newest.get(device);
      if (!byKey) newest.set(device, (byKey = new Map()));
      const best = byKey.get(key);
      if (best === undefined || row.ts >= (rows[best] as TelemetryRow).ts) byKey.set(key, i);
    }
    for (const [device, byKey] of newest) {
      for (const [key, i] of byKey) {
        const value = encoded[i] as Stored;
        s.putLatest.run(device, key, (rows[i] as TelemetryRow).ts, value[0], value[1]);
      }
    }
  });

  function rawKey(q: RawQuery, device: number, key: string, limit: number): TsValue[] {
    const k = knownKey(key);
    if (k === undefined) return [];
    const st = q.order === 'desc' ? s.rawDesc : s.rawAsc;
    return (st.all(device, k, q.from, q.to, limit) as [number, number, unknown][]).map(([ts, t, v]) => ({ ts, value: decode(t, v) }));
  }

  return {
    async appendTelemetry(rows: readonly TelemetryRow[]): Promise<void> {
      if (rows.length === 0) return;
      createdDevices = new Map();
      createdKeys = new Map();
      try {
        appendTx(rows);
        for (const [uuid, id] of createdDevices) deviceIds.set(uuid, id);
        for (const [key, id] of createdKeys) keyIds.set(key, id);
      } finally {
        createdDevices = new Map();
        createdKeys = new Map();
      }
    },

    async queryRaw(q: RawQuery): Promise<Record<string, TsValue[]>> {
      checkRawQuery(q);
      const out: Record<string, TsValue[]> = {};
      const device = knownDevice(q.deviceId);
      const limit = clampLimit(q.limit);
      if (device === undefined || limit === 0) return out;
      for (const key of q.keys) {
        const points = rawKey(q, device, key, limit);
        if (points.length > 0) putOwn(out, key, points);
      }
      return out;
    },

    async queryAggregated(q: AggregateQuery): Promise<Record<string, TsValue[]>> {
      checkAggregateQuery(q);
      const out: Record<string, TsValue[]> = {};
      const device = knownDevice(q.deviceId);
      if (device === undefined) return out;
      const st = aggregate[q.agg];
      for (const key of q.keys) {
        const k = knownKey(key);
        if (k === undefined) continue;
        const rows = st.all({ from: q.from, interval: q.interval, device, key: k, to: q.to }) as [number, number][];
        if (rows.length > 0) putOwn(out, key, rows.map(([bucket, value]) => ({ ts: q.from + bucket * q.interval, value })));
      }
      return out;
    },

    async latest(deviceId: string, keys?: readonly string[]): Promise<Record<string, TsValue>> {
      const out: Record<string, TsValue> = {};
      const device = knownDevice(deviceId);
      if (device === undefined) return out;
      if (keys === undefined) {
        for (const [key, ts, t, v] of s.latestAll.all(device) as [string, number, number, unknown][]) putOwn(out, key, { ts, value: decode(t, v) });
        return out;
      }
      for (const key of keys) {
        const k = knownKey(key);
        const row = k === undefined ? undefined : (s.latestOne.get(device, k) as [number, number, unknown] | undefined);
        if (row) putOwn(out, key, { ts: row[0], value: decode(row[1], row[2]) });
      }
      return out;
    },

    async telemetryKeys(deviceId: string): Promise<string[]> {
      const device = knownDevice(deviceId);
      return device === undefined ? [] : s.keys.all(device);
    },

    deleteDevice(deviceId: string): void {
      const device = knownDevice(deviceId);
      deviceIds.delete(deviceId);
      if (device === undefined) return;
      s.deleteKv.run(device);
      s.deleteLatest.run(device);
      s.deleteDevice.run(device);
    },
  };
}
