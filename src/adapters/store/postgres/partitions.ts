/**
 * Monthly range partitions of ts_kv. A partition covers one UTC calendar month of `ts`; the store
 * creates the current and next month's at start, and any other month just before a batch that
 * falls into it is written (devices report old or future timestamps). Timestamps outside years
 * 0–9999 go to two open-ended partitions. Retention drops whole partitions: no row-by-row DELETE,
 * no table bloat.
 */
import type pg from 'pg';
import { all, quoteIdent } from './db.js';

const YEAR_0 = new Date('0000-01-01T00:00:00Z').getTime();
const YEAR_10000 = new Date('+010000-01-01T00:00:00Z').getTime();

export interface PartitionRange {
  readonly name: string;
  /** Inclusive lower bound, or 'MINVALUE'. */
  readonly from: number | 'MINVALUE';
  /** Exclusive upper bound, or 'MAXVALUE'. */
  readonly to: number | 'MAXVALUE';
}

/** The partition holding `ts`. */
export function partitionOf(ts: number): PartitionRange {
  if (ts < YEAR_0) return { name: 'ts_kv_before_0000', from: 'MINVALUE', to: YEAR_0 };
  if (ts >= YEAR_10000) return { name: 'ts_kv_after_9999', from: YEAR_10000, to: 'MAXVALUE' };
  const d = new Date(ts);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const from = new Date(0);
  from.setUTCFullYear(y, m, 1);
  const to = new Date(0);
  to.setUTCFullYear(y, m + 1, 1);
  return { name: `ts_kv_${String(y).padStart(4, '0')}${String(m + 1).padStart(2, '0')}`, from: from.getTime(), to: to.getTime() };
}

const bound = (b: number | string): string => String(b);

export interface Partitions {
  /** Creates the partitions these timestamps fall into, if missing (before the transaction that writes them). */
  ensure(tss: Iterable<number>): Promise<void>;
  /** Drops every monthly partition that ends at or before `cutoff`; resolves with their names. */
  dropBefore(cutoff: number): Promise<string[]>;
}

export async function openPartitions(pool: pg.Pool, now: () => number): Promise<Partitions> {
  const known = new Set<string>();
  const listed = async (): Promise<{ name: string; to: number | null }[]> => {
    const rows = await all<{ name: string; bound: string }>(
      pool,
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'ts_kv'::regclass`,
    );
    return rows.map((r) => {
      const m = /TO \('?(-?\d+)'?\)/.exec(r.bound);
      return { name: r.name, to: m ? Number(m[1]) : null };
    });
  };
  for (const p of await listed()) known.add(p.name);

  async function create(p: PartitionRange): Promise<void> {
    try {
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${quoteIdent(p.name)} PARTITION OF ts_kv FOR VALUES FROM (${bound(p.from)}) TO (${bound(p.to)})`,
      );
    } catch (err) {
      // Another node (or batch) created it between our check and this statement.
      const code = (err as { code?: string }).code;
      if (code !== '42P07' && code !== '23505') throw err;
    }
    known.add(p.name);
  }

  const partitions: Partitions = {
    async ensure(tss: Iterable<number>): Promise<void> {
      const missing = new Map<string, PartitionRange>();
      let last = '';
      for (const ts of tss) {
        const p = partitionOf(ts);
        if (p.name === last) continue; // batches are mostly one month
        last = p.name;
        if (!known.has(p.name)) missing.set(p.name, p);
      }
      for (const p of missing.values()) await create(p);
    },

    async dropBefore(cutoff: number): Promise<string[]> {
      const dropped: string[] = [];
      for (const p of await listed()) {
        if (p.to === null || p.to > cutoff) continue;
        await pool.query(`DROP TABLE IF EXISTS ${quoteIdent(p.name)}`);
        known.delete(p.name);
        dropped.push(p.name);
      }
      return dropped;
    },
  };
  const t = now();
  await partitions.ensure([t, partitionOf(t).to as number]);
  return partitions;
}
