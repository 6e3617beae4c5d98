/**
 * Latest value per series (ts_latest), kept off the append path.
 *
 * A group commit used to upsert ts_latest once per (device, key) of the batch: one row on a
 * random page of a small table per series per commit, most of what a commit cost after the
 * telemetry log (docs/BENCHMARKS.md, "ts_latest off the commit path"). Now:
 *
 * - rows that go through ts_log leave ts_latest alone; the merge step that moves them into ts_kv
 *   upserts, in the same transaction, the newest point per series of its devices (from memory,
 *   below: one row per series, no sort of the log). Durable invariant: the newest of ts_latest
 *   and the series' ts_log rows is the series' latest point; writing a point whose row is still
 *   in the log is harmless, so the step writes every entry of its devices.
 * - rows written straight to ts_kv (the direct path: ≥ DIRECT_ROWS rows of a series in one
 *   commit) upsert ts_latest in their commit, once per series: they are not in the log.
 * - in memory, `recent` holds per series the newest unmerged log point, rebuilt
 *   from ts_log on open, so latest() is exact right after an acknowledged write and after a
 *   restart: it answers the newer of ts_latest and `recent` (on equal ts, `recent`: it was
 *   written later). Entries leave when the merge step that flushed them commits; the map holds at
 *   most one entry per series with unmerged rows, so the log's own bound (MAX_LOG_ROWS_FACTOR ×
 *   mergeRows rows) bounds it.
 * - a device deletion drops its entries inside a transaction that may still roll back, leaving
 *   its log rows without entries: such a device is marked, and the next merge step over it
 *   computes its newest points from the log in SQL instead (exact whatever memory holds).
 */
import type { TsValue } from '../../../domain/telemetry.js';
import { putOwn } from '../shared.js';
import type { Db } from './sql.js';
import { decode } from './values.js';

/** The newest unmerged log point of a series. */
interface Recent {
  readonly ts: number;
  readonly t: number;
  readonly v: number | string;
}

export interface SqliteLatest {
  /** After commit, for each row appended to ts_log (in rowid order). */
  noteLogged(device: number, key: number, ts: number, t: number, v: number | string): void;
  /** Inside the append transaction: the newest row of a series written straight to ts_kv. */
  putDirect(device: number, key: number, ts: number, t: number, v: number | string): void;
  /** After that commit: a `recent` entry no newer than the direct row is now superseded. */
  afterDirect(device: number, key: number, ts: number): void;
  /** Inside a merge step's transaction, before the log rows are deleted. */
  flushMerge(upto: number, lo: number, hi: number): void;
  /** After the merge step committed: the entries of its devices are in ts_latest now. */
  afterMerge(lo: number, hi: number): void;
  one(device: number, key: number): TsValue | undefined;
  all(device: number, out: Record<string, TsValue>): void;
  keys(device: number): string[];
  /** Inside the caller's transaction (device deletion). */
  deleteDevice(device: number): void;
}

/** UTF-8 byte order, as SQLite's BINARY collation sorts the keys it returns. */
const binary = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

export function createSqliteLatest(db: Db): SqliteLatest {
  const upsert = `ON CONFLICT (device, key) DO UPDATE SET ts = excluded.ts, t = excluded.t, v = excluded.v
       WHERE excluded.ts >= ts_latest.ts`;
  const s = {
    put: db.prepare(`INSERT INTO ts_latest (device, key, ts, t, v) VALUES (?, ?, ?, ?, ?) ${upsert}`),
    // Per series the newest of the moved rows of one device; on equal ts the later rowid (the
    // later write wins). WHERE n = 1 also keeps the SELECT from being parsed as a join's ON before ON CONFLICT.
    merge: db.prepare(
      `INSERT INTO ts_latest (device, key, ts, t, v)
       SELECT device, key, ts, t, v FROM (
         SELECT device, key, ts, t, v, row_number() OVER (PARTITION BY device, key ORDER BY ts DESC, rowid DESC) AS n
         FROM ts_log WHERE rowid <= ? AND device BETWEEN ? AND ?)
       WHERE n = 1 ${upsert}`,
    ),
    one: db.prepare('SELECT ts, t, v FROM ts_latest WHERE device = ? AND key = ?').raw(),
    all: db.prepare('SELECT l.key, k.key, l.ts, l.t, l.v FROM ts_latest l JOIN ts_key k ON k.id = l.key WHERE l.device = ?').raw(),
    keys: db.prepare<[number], string>('SELECT k.key FROM ts_latest l JOIN ts_key k ON k.id = l.key WHERE l.device = ? ORDER BY k.key').pluck(),
    keyName: db.prepare<[number], string>('SELECT key FROM ts_key WHERE id = ?').pluck(),
    delete: db.prepare('DELETE FROM ts_latest WHERE device = ?'),
  };
  const recent = new Map<number, Map<number, Recent>>();
  /** Devices deleted since their last merge step (see the top of this file). */
  const unsure = new Set<number>();

  function keyName(key: number): string | undefined {
    return s.keyName.get(key);
  }

  return {
    noteLogged(device, key, ts, t, v): void {
      let byKey = recent.get(device);
      if (!byKey) recent.set(device, (byKey = new Map()));
      const r = byKey.get(key);
      if (r === undefined || ts >= r.ts) byKey.set(key, { ts, t, v });
    },

    putDirect(device, key, ts, t, v): void {
      s.put.run(device, key, ts, t, v);
    },

    afterDirect(device, key, ts): void {
      const byKey = recent.get(device);
      const r = byKey?.get(key);
      if (byKey && r !== undefined && r.ts <= ts) {
        byKey.delete(key);
        if (byKey.size === 0) recent.delete(device);
      }
    },

    flushMerge(upto, lo, hi): void {
      // SQL first: entries noted after a deletion are later writes than its log rows
      for (const device of unsure) if (device >= lo && device <= hi) s.merge.run(upto, device, device);
      for (const [device, byKey] of recent) {
        if (device < lo || device > hi) continue;
        for (const [key, r] of byKey) s.put.run(device, key, r.ts, r.t, r.v);
      }
    },

    afterMerge(lo, hi): void {
      for (const device of recent.keys()) if (device >= lo && device <= hi) recent.delete(device);
      for (const device of unsure) if (device >= lo && device <= hi) unsure.delete(device);
    },

    one(device, key): TsValue | undefined {
      const r = recent.get(device)?.get(key);
      const row = s.one.get(device, key) as [number, number, unknown] | undefined;
      if (r !== undefined && (row === undefined || r.ts >= row[0])) return { ts: r.ts, value: decode(r.t, r.v) };
      return row === undefined ? undefined : { ts: row[0], value: decode(row[1], row[2]) };
    },

    all(device, out): void {
      const byKey = recent.get(device);
      const seen = new Set<number>();
      for (const [key, name, ts, t, v] of s.all.all(device) as [number, string, number, number, unknown][]) {
        const r = byKey?.get(key);
        seen.add(key);
        if (r !== undefined && r.ts >= ts) putOwn(out, name, { ts: r.ts, value: decode(r.t, r.v) });
        else putOwn(out, name, { ts, value: decode(t, v) });
      }
      for (const [key, r] of byKey ?? []) {
        if (seen.has(key)) continue;
        const name = keyName(key);
        if (name !== undefined) putOwn(out, name, { ts: r.ts, value: decode(r.t, r.v) });
      }
    },

    keys(device): string[] {
      const keys = s.keys.all(device);
      const byKey = recent.get(device);
      if (!byKey) return keys;
      const known = new Set(keys);
      let added = false;
      for (const key of byKey.keys()) {
        const name = keyName(key);
        if (name !== undefined && !known.has(name)) {
          keys.push(name);
          known.add(name);
          added = true;
        }
      }
      return added ? keys.sort(binary) : keys;
    },

    deleteDevice(device): void {
      s.delete.run(device);
      recent.delete(device);
      unsure.add(device);
    },
  };
}
