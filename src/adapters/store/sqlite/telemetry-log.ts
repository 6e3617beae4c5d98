/**
 * Settings of the telemetry log (the write path is described at the top of telemetry.ts), and
 * how the log is merged.
 *
 * The merge moves the log into ts_kv sorted by (device, key, ts, rowid), so each leaf page is
 * written once for many rows and a later log row replaces an earlier one (idempotent replace, as
 * before). It never runs inside the append transaction: it starts after a commit that brings the
 * log to MERGE_ROWS (setImmediate), every MERGE_INTERVAL_MS (timer) and when an unmerged log is
 * found on open; it runs in steps of ~MERGE_CHUNK_ROWS rows (a range of devices, one transaction
 * each, one step per turn of the event loop: ~5 ms each, where steps of 10,000 rows took 20-25
 * ms under load and 50,000 at once 50-110 ms; shorter steps keep the p99 publish-to-PUBACK time
 * under 50 ms, docs/BENCHMARKS.md). Before an append that finds the log at 4 × MERGE_ROWS (a caller that never
 * yields to the event loop) and on close, it runs to the end at once.
 *
 * Unmerged rows are also kept in memory per series (`tail`, reloaded from ts_log on open), and
 * reads combine ts_kv with them, the tail winning on the same (device, key, ts). A series
 * without tail rows in the queried range reads ts_kv alone, with the same statements as before.
 * (If a device deletion rolls back after its telemetry part ran, the tail has lost that device's
 * unmerged rows until the next merge moves them from ts_log to ts_kv: a read may miss them for
 * a few seconds, latest() too (latest.ts merges that device's ts_latest from the log); nothing
 * is lost.)
 */

/** The log is merged into ts_kv once it holds this many rows. */
export const MERGE_ROWS = 50_000;
/** Tail points per merge step (one transaction); steps run one per turn of the event loop. */
export const MERGE_CHUNK_ROWS = 2_500;
/** A series with at least this many rows in one commit and none in the log skips the log. */
export const DIRECT_ROWS = 8;
/** A non-empty log is merged at least this often. */
export const MERGE_INTERVAL_MS = 5_000;
/** appendTelemetry merges inline first when the log holds this many rows (no merge could run). */
export const MAX_LOG_ROWS_FACTOR = 4;

export interface TelemetryLogOptions {
  /** For tests and benches; the defaults are MERGE_ROWS and MERGE_INTERVAL_MS. */
  readonly mergeRows?: number;
  readonly mergeIntervalMs?: number;
  /** Called with each merge's size and duration (metrics, benches); a failed merge with its error. */
  readonly onMerge?: (rows: number, ms: number, err?: unknown) => void;
}
