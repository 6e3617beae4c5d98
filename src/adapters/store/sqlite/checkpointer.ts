/**
 * WAL checkpoints on a worker thread.
 *
 * A checkpoint copies committed pages from the -wal file into the database file and, under
 * synchronous=NORMAL, is the only place SQLite fsyncs. Run by `wal_autocheckpoint` on the
 * writer's connection it happens inside whichever commit crosses the threshold, on the event
 * loop, and stalls every transport for 10–300 ms (docs/BENCHMARKS.md, "Checkpoints and fsync").
 * Here the writer's connection never checkpoints (schema.ts turns autocheckpoint off for files);
 * a second connection in a worker thread runs PASSIVE checkpoints, which never block the
 * writer: commits keep appending to the WAL while pages are copied and synced.
 *
 * The WAL file starts over from its beginning only when a writer begins while every frame has
 * been copied back. Under steady load a checkpoint rarely finishes inside a gap between commits,
 * so while the WAL is long the worker runs short ones back to back (each copies only what was
 * committed during the one before) until one catches up and the next commit starts it over. If the WAL still grows past
 * `maxWalFrames` (the writer never pauses), the writer's thread runs one RESTART checkpoint
 * itself: a rare stall that bounds the file instead of letting it grow without limit.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from './sql.js';

/** CommonJS source of the worker: no TypeScript loader is needed inside the thread. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 0, fileMustExist: true });
let stopped = false;
let timer;
function checkpoint() {
  if (stopped) return;
  let delay = workerData.intervalMs;
  try {
    const started = performance.now();
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    const ms = performance.now() - started;
    parentPort.postMessage({ log: row.log, checkpointed: row.checkpointed, ms });
    // The WAL has not started over since the last time (commits kept coming while this one ran):
    // catch up soon, so that one finishes inside a gap between commits and the WAL can restart.
    if (row.log >= workerData.catchUpFrames) delay = workerData.catchUpMs;
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
  timer = setTimeout(checkpoint, delay);
}
timer = setTimeout(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  stopped = true;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

/** What one checkpoint on the worker reported: WAL frames in all, and how many are copied back. */
export interface CheckpointReport {
  readonly log: number;
  readonly checkpointed: number;
  readonly ms: number;
}

export interface CheckpointerOptions {
  /** Pause between checkpoints while the WAL is caught up. */
  readonly intervalMs?: number;
  /** Pause before the next checkpoint while the WAL holds at least `catchUpFrames` pages. */
  readonly catchUpMs?: number;
  readonly catchUpFrames?: number;
  /** WAL size (in pages) beyond which the writer's thread checkpoints once, blocking. */
  readonly maxWalFrames?: number;
  readonly onCheckpoint?: (report: CheckpointReport) => void;
  readonly onError?: (err: Error) => void;
}

export interface Checkpointer {
  close(): Promise<void>;
}

interface WorkerMessage {
  readonly log?: number;
  readonly checkpointed?: number;
  readonly ms?: number;
  readonly error?: string;
}

export const CHECKPOINT_INTERVAL_MS = 1000;
export const CATCH_UP_MS = 5;
/** 1,024 pages of 4 KiB: a WAL this long after a checkpoint has not started over. */
export const CATCH_UP_FRAMES = 1024;
/** 100,000 pages of 4 KiB: the WAL is held near 400 MiB at worst. */
export const MAX_WAL_FRAMES = 100_000;

export function startCheckpointer(db: Db, file: string, opts: CheckpointerOptions = {}): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const workerData = {
    file,
    driver,
    intervalMs: opts.intervalMs ?? CHECKPOINT_INTERVAL_MS,
    catchUpMs: opts.catchUpMs ?? CATCH_UP_MS,
    catchUpFrames: opts.catchUpFrames ?? CATCH_UP_FRAMES,
  };
  const maxWalFrames = opts.maxWalFrames ?? MAX_WAL_FRAMES;
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
  worker.unref(); // a pending checkpoint never keeps the process alive
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  worker.on('error', (err) => opts.onError?.(err));
  worker.on('message', (msg: WorkerMessage) => {
    if (msg.error !== undefined) {
      opts.onError?.(new Error(`WAL checkpoint on the worker failed: ${msg.error}`));
      return;
    }
    const report = { log: msg.log ?? 0, checkpointed: msg.checkpointed ?? 0, ms: msg.ms ?? 0 };
    opts.onCheckpoint?.(report);
    if (report.log > maxWalFrames && db.open) {
      try {
        db.pragma('wal_checkpoint(RESTART)');
      } catch (err) {
        opts.onError?.(err instanceof Error ? err : new Error(String(err)));
      }
    }
  });
  return {
    async close(): Promise<void> {
      if (exited) return;
      worker.ref(); // keep the process alive until the worker has closed its connection
      worker.postMessage('close');
      await exitedPromise;
    },
  };
}
