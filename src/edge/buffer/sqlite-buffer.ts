/**
 * The store-and-forward buffer: every reading is written here before anyone tries to upload it,
 * and a row is deleted only after the platform acknowledged it (PUBACK, which the platform sends
 * after its own commit). Rows are numbered by an AUTOINCREMENT sequence, so the order of upload
 * is the order of capture and a sequence number is never reused, even after the oldest rows were
 * dropped or the process was killed.
 *
 * WAL with synchronous=NORMAL: a committed row survives a process kill (SIGKILL), which is what
 * the edge must survive; FULL would also survive power loss at a cost per reading.
 *
 * Bounded: beyond maxRows the oldest rows are dropped, counted in `meta.dropped` (persistent)
 * and logged — the documented policy, never silent.
 */
import Database from 'better-sqlite3';
import type { JsonValue } from '../../domain/telemetry.js';
import type { EdgeLogger, Reading } from '../ports.js';

export interface BufferedReading extends Reading {
  readonly seq: number;
}

export interface BufferStats {
  readonly depth: number;
  /** Readings ever appended (the sequence's high-water mark). */
  readonly appended: number;
  readonly dropped: number;
}

export interface BufferOptions {
  readonly file: string;
  readonly maxRows: number;
  readonly logger: EdgeLogger;
  readonly synchronous?: 'NORMAL' | 'FULL';
}

const DROP_LOG_INTERVAL_MS = 10_000;

export class ReadingBuffer {
  private readonly db: Database.Database;
  private depth: number;
  private dropped: number;
  private droppedSinceLog = 0;
  private lastDropLog = 0;
  private readonly insert: Database.Statement;
  private readonly dropOldest: Database.Statement;
  private readonly selectAfter: Database.Statement;
  private readonly deleteOne: Database.Statement;
  private readonly setMeta: Database.Statement;
  private readonly appendTx: (reading: Reading) => number;
  private readonly removeTx: (seqs: readonly number[]) => number;
  private listeners: (() => void)[] = [];

  constructor(private readonly options: BufferOptions) {
    this.db = new Database(options.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS readings (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        device TEXT NOT NULL,
        ts INTEGER NOT NULL,
        payload TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    this.insert = this.db.prepare('INSERT INTO readings (device, ts, payload) VALUES (?, ?, ?)');
    this.dropOldest = this.db.prepare('DELETE FROM readings WHERE seq IN (SELECT seq FROM readings ORDER BY seq LIMIT ?)');
    this.selectAfter = this.db.prepare('SELECT seq, device, ts, payload FROM readings WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?');
    this.deleteOne = this.db.prepare('DELETE FROM readings WHERE seq = ?');
    this.setMeta = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.depth = (this.db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;
    this.dropped = (this.db.prepare("SELECT value FROM meta WHERE key = 'dropped'").get() as { value: number } | undefined)?.value ?? 0;

    this.appendTx = this.db.transaction((reading: Reading): number => {
      const seq = Number(this.insert.run(reading.device, reading.ts, JSON.stringify(reading.values)).lastInsertRowid);
      this.depth++;
      const excess = this.depth - this.options.maxRows;
      if (excess > 0) {
        const removed = this.dropOldest.run(excess).changes;
        this.depth -= removed;
        this.dropped += removed;
        this.droppedSinceLog += removed;
        this.setMeta.run('dropped', this.dropped);
      }
      return seq;
    });
    this.removeTx = this.db.transaction((seqs: readonly number[]): number => {
      let n = 0;
      for (const seq of seqs) n += this.deleteOne.run(seq).changes;
      this.depth -= n;
      return n;
    });
  }

  /** Persists a reading (committed when this returns) and returns its sequence number. */
  append(reading: Reading): number {
    const seq = this.appendTx(reading);
    if (this.droppedSinceLog > 0 && Date.now() - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
      this.options.logger.warn({ dropped: this.droppedSinceLog, droppedTotal: this.dropped, maxRows: this.options.maxRows }, 'buffer full: dropped the oldest readings');
      this.droppedSinceLog = 0;
      this.lastDropLog = Date.now();
    }
    for (const l of this.listeners) l();
    return seq;
  }

  /** Rows with afterSeq < seq ≤ uptoSeq, oldest first. */
  read(afterSeq: number, limit: number, uptoSeq = Number.MAX_SAFE_INTEGER): BufferedReading[] {
    const rows = this.selectAfter.all(afterSeq, uptoSeq, limit) as { seq: number; device: string; ts: number; payload: string }[];
    return rows.map((r) => ({ seq: r.seq, device: r.device, ts: r.ts, values: JSON.parse(r.payload) as Record<string, JsonValue> }));
  }

  /** Deletes acknowledged rows; rows already dropped are ignored. */
  remove(seqs: readonly number[]): void {
    if (seqs.length > 0) this.removeTx(seqs);
  }

  /** The highest sequence number handed out so far (0 when none). */
  lastSeq(): number {
    return (this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'readings'").get() as { seq: number } | undefined)?.seq ?? 0;
  }

  stats(): BufferStats {
    return { depth: this.depth, appended: this.lastSeq(), dropped: this.dropped };
  }

  /** Called after every append (the uplink wakes up on it). */
  onAppend(listener: () => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    this.listeners = [];
    if (this.db.open) this.db.close();
  }
}
