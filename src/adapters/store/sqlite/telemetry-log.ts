/** Settings of the telemetry log; the design is described at the top of telemetry.ts. */

/** The log is merged into ts_kv once it holds this many rows. */
export const MERGE_ROWS = 50_000;
/** Tail points per merge step (one transaction); steps run one per turn of the event loop. */
export const MERGE_CHUNK_ROWS = 10_000;
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
