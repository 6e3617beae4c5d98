/**
 * The bus outbox (OutboxStore): records are inserted by appendTelemetry in its transaction
 * (telemetry.ts), read oldest first, and deleted when acknowledged. bigserial ids grow in insert
 * order; with concurrent writers a later id may commit first, which only reorders publication of
 * independent batches (the relay publishes each record at least once).
 */
import type pg from 'pg';
import type { IdStore, OutboxRecord, OutboxStore } from '../../../ports.js';
import { checkBlock } from '../actions-shared.js';
import { all, one } from './db.js';

export function createPgOutbox(pool: pg.Pool): OutboxStore {
  return {
    async takeOutbox(limit: number): Promise<OutboxRecord[]> {
      return all<OutboxRecord>(pool, 'SELECT id, payload FROM bus_outbox ORDER BY id LIMIT $1', [Math.max(0, Math.trunc(limit))]);
    },
    async ackOutbox(ids: readonly number[]): Promise<void> {
      if (ids.length === 0) return;
      await pool.query('DELETE FROM bus_outbox WHERE id = ANY($1::bigint[])', [[...ids]]);
    },
  };
}

/** Id blocks: one upsert, atomic across every node sharing the database (row lock on the sequence). */
export function createPgIds(pool: pg.Pool): IdStore {
  return {
    async reserveIds(sequence: string, count: number, max: number): Promise<number> {
      checkBlock(count, max);
      const r = await one<{ first: number }>(
        pool,
        `INSERT INTO id_sequences AS q (name, next) VALUES ($1, 1 + $2::bigint)
         ON CONFLICT (name) DO UPDATE SET next = CASE WHEN q.next + $2::bigint - 1 > $3::bigint THEN 1 + $2::bigint ELSE q.next + $2::bigint END
         RETURNING next - $2::bigint AS first`,
        [sequence, count, max],
      );
      return r!.first;
    },
  };
}
