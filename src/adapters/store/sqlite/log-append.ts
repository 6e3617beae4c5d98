/**
 * Appending a group commit's rows to ts_log in multi-row INSERTs (telemetry.ts).
 *
 * Why: each better-sqlite3 `run()` pays a native call, five bindings, a reset and a result object;
 * for this narrow table that is about half the cost of a row. A statement of LOG_CHUNK rows pays
 * it once per chunk: 1.9× the per-row rate in a loop of 5,000-row transactions on this machine
 * (docs/BENCHMARKS.md, "What the cluster-ready seams cost"). The rows left over after the last full chunk
 * go one by one.
 *
 * Rowids: ts_log is a rowid table without AUTOINCREMENT, written only inside the append
 * transaction, so each inserted row gets the largest rowid in the table plus one
 * (https://www.sqlite.org/autoinc.html, "the usual algorithm"): the rows of one INSERT are
 * numbered consecutively, in VALUES order, ending at `lastInsertRowid`. The rowids matter — the
 * unmerged tail orders points by them and the merge deletes up to one — so appendChunk checks
 * that the statement wrote every row.
 */
import type { Db } from './sql.js';

/** Rows per multi-row INSERT: 5 bindings each, well under SQLite's 32,766 variables. */
export const LOG_CHUNK = 64;

const COLUMNS = 5;

export interface LogAppender {
  /** Queues row `index` of the batch; written when its chunk is full or at finish(). */
  add(index: number, device: number, key: number, ts: number, t: number, v: number | string): void;
  /** Writes what is queued. Calls `assigned(index, rowid)` for every row written since the last finish. */
  finish(): void;
  /** Drops what is queued: at the start of a transaction, in case the last one failed midway. */
  discard(): void;
}

/** `assigned` learns the rowid of each row as it is written (the caller keeps them per row index). */
export function createLogAppender(db: Db, assigned: (index: number, rowid: number) => void): LogAppender {
  const single = db.prepare('INSERT INTO ts_log (device, key, ts, t, v) VALUES (?, ?, ?, ?, ?)');
  const chunk = db.prepare(`INSERT INTO ts_log (device, key, ts, t, v) VALUES ${new Array(LOG_CHUNK).fill('(?, ?, ?, ?, ?)').join(', ')}`);
  const args: (number | string)[] = new Array<number | string>(LOG_CHUNK * COLUMNS);
  const indexes = new Int32Array(LOG_CHUNK);
  let queued = 0;

  function appendChunk(): void {
    const result = chunk.run(args);
    if (result.changes !== LOG_CHUNK) throw new Error(`ts_log chunk wrote ${result.changes} of ${LOG_CHUNK} rows`);
    const first = Number(result.lastInsertRowid) - LOG_CHUNK + 1;
    for (let j = 0; j < LOG_CHUNK; j++) assigned(indexes[j] as number, first + j);
    queued = 0;
  }

  return {
    add(index, device, key, ts, t, v) {
      const o = queued * COLUMNS;
      args[o] = device;
      args[o + 1] = key;
      args[o + 2] = ts;
      args[o + 3] = t;
      args[o + 4] = v;
      indexes[queued++] = index;
      if (queued === LOG_CHUNK) appendChunk();
    },
    finish() {
      for (let j = 0; j < queued; j++) {
        const o = j * COLUMNS;
        assigned(indexes[j] as number, Number(single.run(args[o], args[o + 1], args[o + 2], args[o + 3], args[o + 4]).lastInsertRowid));
      }
      queued = 0;
    },
    discard() {
      queued = 0;
    },
  };
}
