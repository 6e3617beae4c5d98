/**
 * Hourly roll-ups (ts_hourly): per series and UTC hour, count / sum / min / max of the NUMERIC
 * rows of ts_kv (t = 0: the rows the aggregate SQL of telemetry.ts counts; booleans, strings and
 * JSON never enter). Aggregate reads whose buckets are whole hours read one row per hour instead
 * of ~60-3,600 rows of ts_kv (docs/ARCHITECTURE.md, "Telemetry store").
 *
 * Consistency: ts_hourly mirrors ts_kv, not the log. It changes in the transaction of every write
 * to ts_kv: the merge step (merge), the direct path (direct), device deletion (deleteDevice) and
 * the migration that builds it from ts_kv once (schema.ts, version 6). Unmerged rows are not in
 * it; reads combine it with the tail as they combine ts_kv with it.
 *
 * Maintenance is incremental. Per series, `marks` holds an upper bound of the newest ts in ts_kv
 * (loaded with one index seek on first use). A written row newer than it cannot replace a row of
 * ts_kv, so it is added to its hour (aggregated per hour in JS, one upsert per series and hour).
 * A row at or below it may replace one (another value, or a number by a string), so its hour is
 * recomputed from ts_kv. A mark too high only sends rows to the recompute, which is always right,
 * so a mark may grow inside a transaction that rolls back; it never shrinks, except by deletion.
 *
 * Sums are floating point: a bucket of several hours (or with tail points) adds partial sums, as
 * aggregateWithTail already did, so sum and avg may differ from one SQL sum() in the last bits;
 * count, min and max are exact.
 */
import type { Aggregation } from '../../../domain/telemetry.js';
import type { AggregateQuery, TelemetryRow } from '../../../ports.js';
import { ValueTag } from '../shared.js';
import type { Db } from './sql.js';
import type { Stored } from './values.js';

export const HOUR_MS = 3_600_000;

/** Start of the UTC hour holding ts; the same expression in SQL is HOUR_SQL. */
export function hourOf(ts: number): number {
  let h = Math.floor(ts / HOUR_MS);
  if (h * HOUR_MS > ts) h--; // the division rounded up to the next integer
  return h * HOUR_MS;
}

/** hourOf(ts) in SQL (% truncates toward zero, so negative ts need the second modulo). */
export const HOUR_SQL = `ts - ((ts % ${HOUR_MS}) + ${HOUR_MS}) % ${HOUR_MS}`;

/** What the roll-ups read of the unmerged tail: device → key → ts → point (see telemetry.ts). */
interface TailPoint {
  readonly rowid: number;
  readonly t: number;
  readonly v: number | string;
}
type Tail = ReadonlyMap<number, ReadonlyMap<number, ReadonlyMap<number, TailPoint>>>;

/** count, sum, min, max */
type Acc = [number, number, number, number];

export interface SqliteRollups {
  /** Called by addToTail: `replaces` = the series already held an unmerged point at ts. */
  noteTail(device: number, key: number, ts: number, replaces: boolean): void;
  /** Inside the append transaction, before the direct rows are written to ts_kv... */
  direct(rows: readonly TelemetryRow[], logged: Float64Array, encoded: readonly Stored[], isDirect: (device: number, key: number) => boolean): void;
  /** ...and after: recomputes the hours they may have replaced rows in. */
  afterDirect(): void;
  /** Inside a merge step's transaction: `write` moves the log rows into ts_kv. */
  merge(upto: number, lo: number, hi: number, write: () => void): void;
  /** After the merge step committed. */
  afterMerge(lo: number, hi: number): void;
  /** Inside the device deletion's transaction. */
  deleteDevice(device: number): void;
  /** Buckets of an hour-aligned aggregate query, or undefined when it is not aligned. */
  aggregate(q: AggregateQuery, device: number, key: number, unmerged: readonly [number, TailPoint][]): [number, number][] | undefined;
}

/** The answer of each aggregation from a bucket's count, sum, min and max. */
export const PICK: Record<Aggregation, (a: Acc) => number> = {
  count: (a) => a[0],
  sum: (a) => a[1],
  min: (a) => a[2],
  max: (a) => a[3],
  avg: (a) => a[1] / a[0],
};

function addTo(acc: Map<number, Acc>, at: number, n: number, sum: number, min: number, max: number): void {
  const a = acc.get(at);
  if (!a) acc.set(at, [n, sum, min, max]);
  else {
    a[0] += n;
    a[1] += sum;
    if (min < a[2]) a[2] = min;
    if (max > a[3]) a[3] = max;
  }
}

function nested<V>(m: Map<number, Map<number, V>>, a: number): Map<number, V> {
  let inner = m.get(a);
  if (!inner) m.set(a, (inner = new Map()));
  return inner;
}

export function createSqliteRollups(db: Db, tail: Tail): SqliteRollups {
  const s = {
    mark: db.prepare<[number, number], number | null>('SELECT max(ts) FROM ts_kv WHERE device = ? AND key = ?').pluck(),
    add: db.prepare(
      `INSERT INTO ts_hourly (device, key, hour, cnt, sum, min, max) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (device, key, hour) DO UPDATE SET cnt = cnt + excluded.cnt, sum = sum + excluded.sum,
         min = min(ts_hourly.min, excluded.min), max = max(ts_hourly.max, excluded.max)`,
    ),
    drop: db.prepare('DELETE FROM ts_hourly WHERE device = ? AND key = ? AND hour = ?'),
    hourOfKv: db.prepare(`SELECT count(*), sum(v), min(v), max(v) FROM ts_kv WHERE device = ? AND key = ? AND ts >= ? AND ts < ? AND t = ${ValueTag.Number}`).raw(),
    logHours: db.prepare(`SELECT DISTINCT key, ${HOUR_SQL} FROM ts_log WHERE rowid <= ? AND device = ?`).raw(),
    deleteDevice: db.prepare('DELETE FROM ts_hourly WHERE device = ?'),
    hours: db.prepare('SELECT hour, cnt, sum, min, max FROM ts_hourly WHERE device = ? AND key = ? AND hour >= ? AND hour < ?').raw(),
    // ts_kv rows in [lo, hi] minus the tail's timestamps, in the query's buckets (as telemetry.ts).
    part: db
      .prepare(
        `SELECT (ts - CAST(@from AS INTEGER)) / CAST(@interval AS INTEGER) AS bucket, count(*), sum(v), min(v), max(v)
         FROM ts_kv WHERE device = @device AND key = @key AND ts >= @lo AND ts <= @hi AND t = ${ValueTag.Number}
           AND ts NOT IN (SELECT value FROM json_each(@skip))
         GROUP BY bucket`,
      )
      .raw(),
  };

  /** device → key → upper bound of the newest ts in ts_kv (-Infinity: none). */
  const marks = new Map<number, Map<number, number>>();
  /** Unmerged (device, key, ts) written more than once: the log holds an older row too. */
  const replaced = new Map<number, Map<number, Set<number>>>();
  /** Devices deleted since their last merge step: their log rows may have left the tail. */
  const unsure = new Set<number>();
  /** Hours the running append transaction's direct rows may have replaced: recomputed after its writes. */
  let dirtyDirect: [number, number, Set<number>][] = [];

  function markOf(device: number, key: number): number {
    const byKey = nested(marks, device);
    let m = byKey.get(key);
    if (m === undefined) byKey.set(key, (m = s.mark.get(device, key) ?? -Infinity));
    return m;
  }

  /** Recomputes one hour of a series from ts_kv (after the write), or drops it. */
  function recompute(device: number, key: number, hour: number): void {
    const [n, sum, min, max] = s.hourOfKv.get(device, key, hour, hour + HOUR_MS) as [number, number, number, number];
    s.drop.run(device, key, hour);
    if (n > 0) s.add.run(device, key, hour, n, sum, min, max);
  }

  function applyAdds(device: number, key: number, adds: Map<number, Acc>, dirty: ReadonlySet<number>): void {
    for (const [hour, a] of adds) if (!dirty.has(hour)) s.add.run(device, key, hour, ...a);
  }

  return {
    noteTail(device, key, ts, replaces): void {
      if (!replaces) return;
      const byKey = nested(replaced, device);
      let set = byKey.get(key);
      if (!set) byKey.set(key, (set = new Set()));
      set.add(ts);
    },

    direct(rows, logged, encoded, isDirect): void {
      // One pass in row order: a row at or below the newest ts seen so far (in ts_kv or earlier
      // in this batch) may replace one, so its hour is recomputed after the write (afterDirect);
      // the last row of a ts wins there as in INSERT OR REPLACE.
      dirtyDirect = [];
      const series = new Map<number, Map<number, [top: number, adds: Map<number, Acc>, dirty: Set<number>]>>();
      for (let i = 0; i < rows.length; i++) {
        const device = logged[i * 3] as number;
        const key = logged[i * 3 + 1] as number;
        if (!isDirect(device, key)) continue;
        const byKey = nested(series, device);
        let st = byKey.get(key);
        if (!st) byKey.set(key, (st = [markOf(device, key), new Map(), new Set()]));
        const ts = (rows[i] as TelemetryRow).ts;
        const [t, v] = encoded[i] as Stored;
        if (ts <= st[0]) st[2].add(hourOf(ts));
        else {
          st[0] = ts;
          if (t === ValueTag.Number) addTo(st[1], hourOf(ts), 1, v as number, v as number, v as number);
        }
      }
      for (const [device, byKey] of series) {
        for (const [key, [top, adds, dirty]] of byKey) {
          nested(marks, device).set(key, top);
          applyAdds(device, key, adds, dirty);
          if (dirty.size > 0) dirtyDirect.push([device, key, dirty]);
        }
      }
    },

    afterDirect(): void {
      for (const [device, key, dirty] of dirtyDirect) for (const hour of dirty) recompute(device, key, hour);
      dirtyDirect = [];
    },

    merge(upto, lo, hi, write): void {
      // The tail holds the last point of each ts: what ts_kv receives when its rowid <= upto.
      // A newer point (appended after the step was planned) may hide an older log row <= upto
      // that this step writes: its hour is recomputed when `replaced` says such a row exists.
      const work: [number, number, Map<number, Acc>, Set<number>][] = [];
      for (const [device, byKey] of tail) {
        if (device < lo || device > hi) continue;
        for (const [key, points] of byKey) {
          const mark = markOf(device, key);
          let top = mark;
          const twice = replaced.get(device)?.get(key);
          const adds = new Map<number, Acc>();
          const dirty = new Set<number>();
          for (const [ts, p] of points) {
            if (p.rowid > upto && !twice?.has(ts)) continue; // stays in the log, nothing under it moves
            if (ts > top) top = ts;
            // at or below the mark: may replace a row; a hidden older row: its value is unknown here
            if (ts <= mark || p.rowid > upto) dirty.add(hourOf(ts));
            else if (p.t === ValueTag.Number) addTo(adds, hourOf(ts), 1, p.v as number, p.v as number, p.v as number);
          }
          nested(marks, device).set(key, top);
          if (adds.size > 0 || dirty.size > 0) work.push([device, key, adds, dirty]);
        }
      }
      // A deleted device's log rows may be missing from the tail (the deletion rolled back):
      // their hours come from the log itself, and the marks are reloaded from ts_kv afterwards.
      for (const device of unsure) {
        if (device < lo || device > hi) continue;
        const dirty = new Map<number, Set<number>>();
        for (const [key, hour] of s.logHours.all(upto, device) as [number, number][]) {
          let set = dirty.get(key);
          if (!set) dirty.set(key, (set = new Set()));
          set.add(hour);
        }
        for (const [key, set] of dirty) work.push([device, key, new Map(), set]);
      }
      write();
      for (const [device, key, adds, dirty] of work) {
        applyAdds(device, key, adds, dirty);
        for (const hour of dirty) recompute(device, key, hour);
      }
    },

    afterMerge(lo, hi): void {
      for (const device of unsure) {
        if (device < lo || device > hi) continue;
        unsure.delete(device);
        marks.delete(device);
      }
      for (const [device, byKey] of replaced) {
        if (device < lo || device > hi) continue;
        for (const [key, set] of byKey) {
          const points = tail.get(device)?.get(key);
          for (const ts of set) if (points?.get(ts) === undefined) set.delete(ts);
          if (set.size === 0) byKey.delete(key);
        }
        if (byKey.size === 0) replaced.delete(device);
      }
    },

    deleteDevice(device): void {
      s.deleteDevice.run(device);
      marks.delete(device);
      replaced.delete(device);
      unsure.add(device);
    },

    aggregate(q, device, key, unmerged): [number, number][] | undefined {
      // Buckets start at from + n * interval (telemetry.ts): on hour boundaries only if both are
      // whole hours. Hours [from, end) lie whole inside [from, to] (to is inclusive).
      if (q.from % HOUR_MS !== 0 || q.interval % HOUR_MS !== 0) return undefined;
      const end = hourOf(q.to + 1);
      if (end <= q.from) return undefined;
      const bucketOf = (ts: number): number => Math.floor((ts - q.from) / q.interval);
      // Hours with tail points are read from ts_kv minus the points the tail replaces.
      const rawHours = new Set<number>();
      for (const [ts] of unmerged) if (ts < end) rawHours.add(hourOf(ts));
      const acc = new Map<number, Acc>();
      for (const [hour, n, sum, min, max] of s.hours.all(device, key, q.from, end) as number[][]) {
        if (!rawHours.has(hour as number)) addTo(acc, bucketOf(hour as number), n as number, sum as number, min as number, max as number);
      }
      const ranges: [number, number][] = [...rawHours].map((h) => [h, h + HOUR_MS - 1]);
      if (end <= q.to) ranges.push([end, q.to]);
      const skip = JSON.stringify(unmerged.map(([ts]) => ts));
      for (const [lo, hi] of ranges) {
        for (const [bucket, n, sum, min, max] of s.part.all({ from: q.from, interval: q.interval, device, key, lo, hi, skip }) as number[][]) {
          addTo(acc, bucket as number, n as number, sum as number, min as number, max as number);
        }
      }
      for (const [ts, p] of unmerged) if (p.t === ValueTag.Number) addTo(acc, bucketOf(ts), 1, p.v as number, p.v as number, p.v as number);
      const f = PICK[q.agg];
      return [...acc.entries()].sort((x, y) => x[0] - y[0]).map(([bucket, a]) => [bucket, f(a)]);
    },
  };
}
