/**
 * Retention per device on PostgreSQL (TelemetryStore.pruneTelemetry). Whole months of every
 * device leave by dropping partitions (partitions.ts); this deletes one device's points older than
 * a cut-off, key by key along the (device_id, key, ts) primary key, at most `limit` per call in
 * one transaction together with the roll-up hours that end by then; ts_latest stays.
 */
import type pg from 'pg';
import { inTx } from './db.js';

export async function pruneTelemetry(pool: pg.Pool, deviceId: string, before: number, limit: number): Promise<number> {
  const max = Math.max(1, Math.floor(limit));
  return inTx(pool, async (c) => {
    const keys = await c.query<{ key: string }>('SELECT key FROM ts_latest WHERE device_id = $1 ORDER BY key', [deviceId]);
    let deleted = 0;
    for (const { key } of keys.rows) {
      const room = max - deleted;
      if (room <= 0) break;
      // The (room + 1)-th oldest point before the cut-off: deleting below it removes room points.
      const nth = await c.query<{ ts: string }>('SELECT ts FROM ts_kv WHERE device_id = $1 AND key = $2 AND ts < $3 ORDER BY ts LIMIT 1 OFFSET $4', [deviceId, key, before, room]);
      const upTo = nth.rows[0] ? Number(nth.rows[0].ts) : before;
      deleted += (await c.query('DELETE FROM ts_kv WHERE device_id = $1 AND key = $2 AND ts < $3', [deviceId, key, upTo])).rowCount ?? 0;
      // Only hours whose points are all gone: a partly deleted hour keeps its roll-up until the next call.
      await c.query('DELETE FROM ts_hourly WHERE device_id = $1 AND key = $2 AND hour + 3600000 <= $3', [deviceId, key, upTo]);
      if (nth.rows[0]) break;
    }
    return deleted;
  });
}
