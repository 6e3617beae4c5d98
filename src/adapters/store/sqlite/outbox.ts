/**
 * The transactional outbox (schema v10): one row per group commit that announces its rows, written
 * inside the telemetry transaction (telemetry.ts calls write()). Acknowledgements are cheap: the
 * ids are kept in memory and deleted with the next write transaction (or by a timer when writes
 * stop, or at close), so the hot path pays one INSERT and one DELETE per commit and no
 * transaction of its own. An acknowledgement lost in a crash only makes its record be published
 * again (at least once).
 */
import type { OutboxRecord, OutboxStore } from '../../../ports.js';
import type { Db } from './sql.js';

/** How long an acknowledgement may wait for a write transaction to carry it. */
const ACK_FLUSH_MS = 1000;

export interface SqliteOutbox extends OutboxStore {
  /** Inside the caller's transaction: inserts the record (and deletes acknowledged ones); its id. */
  write(payload: string): number;
  /** Deletes what was acknowledged (close). */
  flush(): void;
}

export function createSqliteOutbox(db: Db): SqliteOutbox {
  const insert = db.prepare<[string]>('INSERT INTO bus_outbox (payload) VALUES (?)');
  const remove = db.prepare<[string]>('DELETE FROM bus_outbox WHERE id IN (SELECT value FROM json_each(?))');
  const take = db.prepare<[number], { id: number; payload: string }>('SELECT id, payload FROM bus_outbox ORDER BY id LIMIT ?');
  let acked: number[] = [];
  let timer: NodeJS.Timeout | undefined;

  /** Runs inside a transaction (the caller's or its own). */
  function deleteAcked(): void {
    if (acked.length === 0) return;
    const ids = acked;
    acked = [];
    remove.run(JSON.stringify(ids));
  }

  const flushTx = db.transaction(deleteAcked);

  function flush(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (acked.length === 0 || !db.open) return;
    const ids = acked;
    try {
      flushTx();
    } catch {
      // e.g. another process holds the lock: the ids wait for the next write or the next timer
      acked = ids.concat(acked);
      timer = setTimeout(flush, ACK_FLUSH_MS);
      timer.unref();
    }
  }

  return {
    write(payload: string): number {
      deleteAcked();
      return Number(insert.run(payload).lastInsertRowid);
    },

    flush,

    async takeOutbox(limit: number): Promise<OutboxRecord[]> {
      flush();
      return take.all(Math.max(0, Math.floor(limit)));
    },

    async ackOutbox(ids: readonly number[]): Promise<void> {
      for (const id of ids) acked.push(id);
      if (timer === undefined && acked.length > 0) {
        timer = setTimeout(flush, ACK_FLUSH_MS);
        timer.unref();
      }
    },
  };
}
