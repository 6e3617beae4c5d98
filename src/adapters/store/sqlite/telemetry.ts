/**
 * Time series. Device UUIDs and key names map to integer surrogates (ts_device, ts_key, both
 * cached in memory), so a ts_kv row is (int, int, int, tag, value) in a WITHOUT ROWID table
 * clustered on (device, key, ts): one B-tree, range scans read contiguous pages.
 *
 * Writes go through a log (docs/BENCHMARKS.md, item 1). appendTelemetry is one transaction per
 * batch (group commit) that appends the rows to ts_log, a rowid table without index: a commit
 * dirties only the last pages, where writing ts_kv directly dirtied one leaf page per series
 * (~20 KB written per message at one message per device and commit). A series with DIRECT_ROWS
 * or more rows in the commit and none in the log (pipelined devices) still goes straight to
 * ts_kv: its leaf page is filled by that commit anyway, and the log would only copy it twice.
 * ts_latest is not written for log rows: the merge step that moves them writes it, and latest()
 * reads ts_latest plus the newest unmerged point per series kept in memory (latest.ts). A series
 * written straight to ts_kv upserts ts_latest in its commit, once.
 *
 * How and when the log is merged, and how reads combine ts_kv with unmerged rows: telemetry-log.ts.
 */
import type { Aggregation, TsValue } from '../../../domain/telemetry.js';
import type { AggregateQuery, RawQuery, TelemetryRow, TelemetryStore } from '../../../ports.js';
import { checkAggregateQuery, checkRawQuery, checkTs, clampLimit, putOwn, ValueTag } from '../shared.js';
import { createSqliteLatest } from './latest.js';
import { createLogAppender } from './log-append.js';
import { createSqlitePrune } from './prune.js';
import { createSeriesIds } from './series-ids.js';
import { createSqliteRollups, PICK } from './rollups.js';
import { AGG_SQL, decode, encode, type Stored } from './values.js';
import type { Db, Statement } from './sql.js';
import {
  DIRECT_ROWS,
  MAX_LOG_ROWS_FACTOR,
  MERGE_CHUNK_ROWS,
  MERGE_INTERVAL_MS,
  MERGE_ROWS,
  type TelemetryLogOptions,
} from './telemetry-log.js';

export type { TelemetryLogOptions };

export interface SqliteTelemetry extends TelemetryStore {
  /** Removes the device's series (inside the caller's transaction). */
  deleteDevice(deviceId: string): void;
  /** Merges what is left in the log and stops the timer; the store calls it before closing. */
  closeTelemetry(): void;
}

/** An unmerged point: its log rowid (later wins) and its stored form. */
interface TailPoint {
  readonly rowid: number;
  readonly t: number;
  readonly v: number | string;
}
/** Unmerged points of one series by ts (one per ts: the latest appended). */
type Series = Map<number, TailPoint>;

/** `writeOutbox` writes an outbox record inside the append transaction (outbox.ts) and returns its id. */
export function createSqliteTelemetry(db: Db, opts: TelemetryLogOptions = {}, writeOutbox?: (payload: string) => number): SqliteTelemetry {
  const mergeRows = opts.mergeRows ?? MERGE_ROWS;
  const mergeIntervalMs = opts.mergeIntervalMs ?? MERGE_INTERVAL_MS;
  const maxLogRows = mergeRows * MAX_LOG_ROWS_FACTOR;
  const s = {
    putKv: db.prepare('INSERT OR REPLACE INTO ts_kv (device, key, ts, t, v) VALUES (?, ?, ?, ?, ?)'),
    merge: db.prepare(
      `INSERT OR REPLACE INTO ts_kv (device, key, ts, t, v)
       SELECT device, key, ts, t, v FROM ts_log WHERE rowid <= ? AND device BETWEEN ? AND ?
       ORDER BY device, key, ts, rowid`,
    ),
    unlog: db.prepare('DELETE FROM ts_log WHERE rowid <= ? AND device BETWEEN ? AND ?'),
    logMax: db.prepare<[], number | null>('SELECT max(rowid) FROM ts_log').pluck(),
    logAll: db.prepare('SELECT rowid, device, key, ts, t, v FROM ts_log ORDER BY rowid').raw(),
    deleteLog: db.prepare('DELETE FROM ts_log WHERE device = ?'),
    rawAsc: db.prepare('SELECT ts, t, v FROM ts_kv WHERE device = ? AND key = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?').raw(),
    rawDesc: db.prepare('SELECT ts, t, v FROM ts_kv WHERE device = ? AND key = ? AND ts >= ? AND ts <= ? ORDER BY ts DESC LIMIT ?').raw(),
    deleteKv: db.prepare('DELETE FROM ts_kv WHERE device = ?'),
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
  // The same over ts_kv minus the points the tail replaces, every aggregate at once, to combine with the tail.
  const partial = db
    .prepare(
      `SELECT (ts - CAST(@from AS INTEGER)) / CAST(@interval AS INTEGER) AS bucket, count(*), sum(v), min(v), max(v)
       FROM ts_kv WHERE device = @device AND key = @key AND ts >= @from AND ts <= @to AND t = ${ValueTag.Number}
         AND ts NOT IN (SELECT value FROM json_each(@skip))
       GROUP BY bucket ORDER BY bucket`,
    )
    .raw();

  // ---------------------------------------------------------------- the unmerged tail

  const tail = new Map<number, Map<number, Series>>();
  const latest = createSqliteLatest(db);
  const rollups = createSqliteRollups(db, tail); // ts_hourly, written with every write to ts_kv
  /** Rows in ts_log (replaced ones included): what the next merge moves. */
  let logRows = 0;

  function addToTail(device: number, key: number, ts: number, point: TailPoint): void {
    let byKey = tail.get(device);
    if (!byKey) tail.set(device, (byKey = new Map()));
    let series = byKey.get(key);
    if (!series) byKey.set(key, (series = new Map()));
    rollups.noteTail(device, key, ts, series.has(ts));
    series.set(ts, point);
  }

  for (const [rowid, device, key, ts, t, v] of s.logAll.all() as [number, number, number, number, number, number | string][]) {
    addToTail(device, key, ts, { rowid, t, v });
    latest.noteLogged(device, key, ts, t, v);
    logRows++;
  }

  /** Tail points of a series within [from, to], unsorted. */
  function tailIn(device: number, key: number, from: number, to: number): [number, TailPoint][] {
    const series = tail.get(device)?.get(key);
    const out: [number, TailPoint][] = [];
    if (series) for (const e of series) if (e[0] >= from && e[0] <= to) out.push(e);
    return out;
  }

  // A merge step moves the log rows up to a rowid of a range of devices. Any step is correct at
  // any time between appends: ts_kv receives the rows in rowid order (later wins), and the same
  // predicate removes them from the log and from the tail. Rows of one (device, key, ts) are
  // always in the same step, and a row appended later always has a higher rowid than the rows
  // still in the log, so an older row never lands after a newer one.
  const mergeTx = db.transaction((upto: number, lo: number, hi: number): number => {
    rollups.merge(upto, lo, hi, () => s.merge.run(upto, lo, hi));
    latest.flushMerge(upto, lo, hi);
    return s.unlog.run(upto, lo, hi).changes;
  });

  function mergeStep(upto: number, lo: number, hi: number): void {
    const started = performance.now();
    let moved: number;
    try {
      moved = mergeTx(upto, lo, hi);
    } catch (err) {
      opts.onMerge?.(0, performance.now() - started, err);
      throw err;
    }
    logRows = Math.max(0, logRows - moved);
    latest.afterMerge(lo, hi);
    rollups.afterMerge(lo, hi);
    for (const [device, byKey] of tail) {
      if (device < lo || device > hi) continue;
      for (const [key, series] of byKey) {
        for (const [ts, p] of series) if (p.rowid <= upto) series.delete(ts);
        if (series.size === 0) byKey.delete(key);
      }
      if (byKey.size === 0) tail.delete(device);
    }
    opts.onMerge?.(moved, performance.now() - started);
  }

  /** Device ranges [lo, hi] covering every device, each with about MERGE_CHUNK_ROWS tail points. */
  function planRanges(): [number, number][] {
    const counts: [number, number][] = [];
    for (const [device, byKey] of tail) {
      let n = 0;
      for (const series of byKey.values()) n += series.size;
      counts.push([device, n]);
    }
    counts.sort((a, b) => a[0] - b[0]);
    const ranges: [number, number][] = [];
    let lo = Number.MIN_SAFE_INTEGER;
    let rows = 0;
    for (const [device, n] of counts) {
      rows += n;
      if (rows >= MERGE_CHUNK_ROWS) {
        ranges.push([lo, device]);
        lo = device + 1;
        rows = 0;
      }
    }
    ranges.push([lo, Number.MAX_SAFE_INTEGER]);
    return ranges;
  }

  /** Moves one device's log rows into ts_kv now (retention reads ts_kv alone: prune.ts). */
  function mergeDevice(device: number): void {
    if (!tail.has(device)) return;
    const upto = s.logMax.get();
    if (upto !== null && upto !== undefined) mergeStep(upto, device, device);
  }

  /** Bumped by every merge plan: a background merge stops when another plan superseded it. */
  let generation = 0;

  /** Moves the whole log into ts_kv now, in steps, without yielding (close, back-pressure). */
  function mergeAll(): void {
    generation++;
    if (!db.open) return; // not logRows === 0: a rolled-back device deletion undercounts it
    const upto = s.logMax.get();
    if (upto === null || upto === undefined) return;
    try {
      for (const [lo, hi] of planRanges()) mergeStep(upto, lo, hi);
    } catch {
      // reported through onMerge; what is left stays in the log for the next merge
    }
  }

  /** The same in the background: one step per turn of the event loop. */
  let mergeRunning = false;
  function mergeInBackground(): void {
    if (mergeRunning || !db.open) return;
    const upto = s.logMax.get();
    if (upto === null || upto === undefined) return;
    const ranges = planRanges();
    const mine = ++generation;
    mergeRunning = true;
    const next = (): void => {
      const range = ranges.shift();
      if (range === undefined || mine !== generation || !db.open) {
        mergeRunning = false;
        return;
      }
      try {
        mergeStep(upto, range[0], range[1]);
      } catch {
        mergeRunning = false; // reported through onMerge; the timer retries
        return;
      }
      setImmediate(next);
    };
    next();
  }

  let mergeScheduled = false;
  function scheduleMerge(): void {
    if (mergeScheduled || mergeRunning) return;
    mergeScheduled = true;
    setImmediate(() => {
      mergeScheduled = false;
      mergeInBackground();
    });
  }
  const timer = setInterval(mergeInBackground, Math.min(mergeIntervalMs, 2 ** 31 - 1));
  timer.unref();
  if (logRows > 0) scheduleMerge(); // a log left by the last run (crash or kill) resumes merging

  const ids = createSeriesIds(db);

  // What the commit wrote, for the caches to take in once it has committed: per row (device, key,
  // log rowid or 0 = written to ts_kv) in `logged`; per series written to ts_kv, its newest row.
  type Appended = { logged: Float64Array; encoded: Stored[]; logCount: number; direct: number[]; outboxId: number | undefined };
  let logging = new Float64Array(0); // the `logged` of the transaction under way, for the appender's rowids
  const logAppend = createLogAppender(db, (i, rowid) => (logging[i * 3 + 2] = rowid));
  const appendTx = db.transaction((rows: readonly TelemetryRow[], outbox: string | undefined): Appended => {
    // device → key → [rows of the series in this batch, index of its newest row]
    const series = new Map<number, Map<number, [number, number]>>();
    const encoded: Stored[] = new Array<Stored>(rows.length);
    const logged = new Float64Array(rows.length * 3);
    logging = logged;
    logAppend.discard();
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as TelemetryRow;
      checkTs(row.ts);
      const device = ids.deviceFor(row.deviceId);
      const key = ids.keyFor(row.key);
      encoded[i] = encode(row.value, row.json);
      logged[i * 3] = device;
      logged[i * 3 + 1] = key;
      let byKey = series.get(device);
      if (!byKey) series.set(device, (byKey = new Map()));
      const c = byKey.get(key);
      if (c === undefined) byKey.set(key, [1, i]);
      else {
        c[0]++;
        if (row.ts >= (rows[c[1]] as TelemetryRow).ts) c[1] = i;
      }
    }
    // Many rows of one series in this commit, none in the log: straight into ts_kv, whose page
    // this commit fills anyway (pipelined devices). With log rows the series must go through
    // the log, or a later merge would put an older row over this one.
    const direct: number[] = [];
    for (const [device, byKey] of series) {
      for (const [key, c] of byKey) {
        if (c[0] >= DIRECT_ROWS && tail.get(device)?.get(key) === undefined) {
          c[0] = -1;
          direct.push(c[1]);
        }
      }
    }
    if (direct.length > 0) rollups.direct(rows, logged, encoded, (d, k) => series.get(d)?.get(k)?.[0] === -1);
    let logCount = 0;
    for (let i = 0; i < rows.length; i++) {
      const device = logged[i * 3] as number;
      const key = logged[i * 3 + 1] as number;
      const ts = (rows[i] as TelemetryRow).ts;
      const [t, v] = encoded[i] as Stored;
      if (direct.length > 0 && ((series.get(device) as Map<number, [number, number]>).get(key) as [number, number])[0] === -1) {
        s.putKv.run(device, key, ts, t, v);
      } else {
        logAppend.add(i, device, key, ts, t, v);
        logCount++;
      }
    }
    logAppend.finish();
    if (direct.length > 0) rollups.afterDirect();
    // Not in the log, so no merge will bring them to ts_latest: once per series, here.
    for (const i of direct) {
      const [t, v] = encoded[i] as Stored;
      latest.putDirect(logged[i * 3] as number, logged[i * 3 + 1] as number, (rows[i] as TelemetryRow).ts, t, v);
    }
    const outboxId = outbox === undefined || writeOutbox === undefined ? undefined : writeOutbox(outbox);
    return { logged, encoded, logCount, direct, outboxId };
  });

  function rawKey(q: RawQuery, device: number, key: string, limit: number): TsValue[] {
    const k = ids.knownKey(key);
    if (k === undefined) return [];
    const st = q.order === 'desc' ? s.rawDesc : s.rawAsc;
    const stored = st.all(device, k, q.from, q.to, limit) as [number, number, unknown][];
    const unmerged = tailIn(device, k, q.from, q.to);
    if (unmerged.length === 0) return stored.map(([ts, t, v]) => ({ ts, value: decode(t, v) }));
    // The first `limit` of ts_kv ∪ tail: ts_kv rows past its own first `limit` cannot be among them.
    const byTs = new Map<number, [number, unknown]>();
    for (const [ts, t, v] of stored) byTs.set(ts, [t, v]);
    for (const [ts, p] of unmerged) byTs.set(ts, [p.t, p.v]);
    const order = [...byTs.keys()].sort(q.order === 'desc' ? (a, b) => b - a : (a, b) => a - b);
    if (order.length > limit) order.length = limit;
    return order.map((ts) => {
      const [t, v] = byTs.get(ts) as [number, unknown];
      return { ts, value: decode(t, v) };
    });
  }

  /** Buckets of ts_kv (minus what the tail replaces) combined with the tail's numeric points. */
  function aggregateWithTail(q: AggregateQuery, device: number, k: number, unmerged: [number, TailPoint][]): [number, number][] {
    // bucket → [count, sum, min, max]
    const acc = new Map<number, [number, number, number, number]>();
    const skip = JSON.stringify(unmerged.map(([ts]) => ts));
    for (const [bucket, count, sum, min, max] of partial.all({ from: q.from, interval: q.interval, device, key: k, to: q.to, skip }) as number[][]) {
      acc.set(bucket as number, [count as number, sum as number, min as number, max as number]);
    }
    for (const [ts, p] of unmerged) {
      if (p.t !== ValueTag.Number) continue;
      const v = p.v as number;
      const d = ts - q.from;
      let bucket = Math.floor(d / q.interval);
      if (bucket * q.interval > d) bucket--;
      const a = acc.get(bucket);
      if (!a) acc.set(bucket, [1, v, v, v]);
      else {
        a[0]++;
        a[1] += v;
        if (v < a[2]) a[2] = v;
        if (v > a[3]) a[3] = v;
      }
    }
    const f = PICK[q.agg];
    return [...acc.entries()].sort((x, y) => x[0] - y[0]).map(([bucket, a]) => [bucket, f(a)]);
  }

  return {
    pruneTelemetry: createSqlitePrune(db, ids, mergeDevice),
    async appendTelemetry(rows: readonly TelemetryRow[], outbox?: string): Promise<number | undefined> {
      if (rows.length === 0 && outbox === undefined) return undefined;
      if (logRows >= maxLogRows) mergeAll(); // the caller never yielded to let a scheduled merge run
      ids.begin();
      let outboxId: number | undefined;
      try {
        let logged, encoded, logCount, direct;
        ({ logged, encoded, logCount, direct, outboxId } = appendTx(rows, outbox));
        ids.committed();
        for (let i = 0; logCount > 0 && i < rows.length; i++) {
          const rowid = logged[i * 3 + 2] as number;
          if (rowid === 0) continue;
          const [t, v] = encoded[i] as Stored;
          const device = logged[i * 3] as number;
          const key = logged[i * 3 + 1] as number;
          const ts = (rows[i] as TelemetryRow).ts;
          addToTail(device, key, ts, { rowid, t, v });
          latest.noteLogged(device, key, ts, t, v);
        }
        for (const i of direct) latest.afterDirect(logged[i * 3] as number, logged[i * 3 + 1] as number, (rows[i] as TelemetryRow).ts);
        logRows += logCount;
      } finally {
        ids.begin(); // a failed transaction's surrogates never reach the caches
      }
      if (logRows >= mergeRows) scheduleMerge();
      return outboxId;
    },

    async queryRaw(q: RawQuery): Promise<Record<string, TsValue[]>> {
      checkRawQuery(q);
      const out: Record<string, TsValue[]> = {};
      const device = ids.knownDevice(q.deviceId);
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
      const device = ids.knownDevice(q.deviceId);
      if (device === undefined) return out;
      const st = aggregate[q.agg];
      for (const key of q.keys) {
        const k = ids.knownKey(key);
        if (k === undefined) continue;
        const unmerged = tailIn(device, k, q.from, q.to);
        const rows =
          rollups.aggregate(q, device, k, unmerged) ??
          (unmerged.length === 0
            ? (st.all({ from: q.from, interval: q.interval, device, key: k, to: q.to }) as [number, number][])
            : aggregateWithTail(q, device, k, unmerged));
        if (rows.length > 0) putOwn(out, key, rows.map(([bucket, value]) => ({ ts: q.from + bucket * q.interval, value })));
      }
      return out;
    },

    async latest(deviceId: string, keys?: readonly string[]): Promise<Record<string, TsValue>> {
      const out: Record<string, TsValue> = {};
      const device = ids.knownDevice(deviceId);
      if (device === undefined) return out;
      if (keys === undefined) {
        latest.all(device, out);
        return out;
      }
      for (const key of keys) {
        const k = ids.knownKey(key);
        const point = k === undefined ? undefined : latest.one(device, k);
        if (point) putOwn(out, key, point);
      }
      return out;
    },

    async telemetryKeys(deviceId: string): Promise<string[]> {
      const device = ids.knownDevice(deviceId);
      return device === undefined ? [] : latest.keys(device);
    },

    deleteDevice(deviceId: string): void {
      const device = ids.knownDevice(deviceId);
      ids.forgetDevice(deviceId);
      if (device === undefined) return;
      s.deleteKv.run(device);
      rollups.deleteDevice(device);
      logRows -= s.deleteLog.run(device).changes;
      tail.delete(device);
      latest.deleteDevice(device);
      s.deleteDevice.run(device);
    },

    closeTelemetry(): void {
      clearInterval(timer);
      mergeAll();
    },
  };
}
