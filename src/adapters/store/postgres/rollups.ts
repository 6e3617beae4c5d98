/**
 * Hourly roll-ups of numeric telemetry (ts_hourly: count, sum, min, max per series and UTC hour),
 * kept in the transaction of every write. New points are added incrementally; an hour where a
 * point was replaced is recomputed from ts_kv (a min or max cannot be taken back). Aggregations
 * over whole hours from a whole hour read them (telemetry-read.ts).
 */
import type pg from 'pg';
import { ValueTag } from '../shared.js';
import type { Encoded } from './values.js';

export const HOUR_MS = 3_600_000;

/** Start of the UTC hour holding ts (also for negative ts). */
export function hourOf(ts: number): number {
  return Math.floor(ts / HOUR_MS) * HOUR_MS;
}

const seriesHour = (deviceId: string, key: string, hour: number): string => `${deviceId}\u0000${key}\u0000${hour}`;

export async function updateRollups(
  c: pg.PoolClient,
  rows: readonly Encoded[],
  replaced: readonly { device_id: string; key: string; ts: number }[],
): Promise<void> {
  const recompute = new Map<string, [string, string, number]>();
  for (const r of replaced) recompute.set(seriesHour(r.device_id, r.key, hourOf(r.ts)), [r.device_id, r.key, hourOf(r.ts)]);
  const added = rows.filter((r) => r.t === ValueTag.Number && !recompute.has(seriesHour(r.deviceId, r.key, hourOf(r.ts))));
  if (added.length > 0) {
    await c.query(
      `INSERT INTO ts_hourly AS h (device_id, key, hour, cnt, sum, min, max)
       SELECT d, k, hr, count(*), sum(n), min(n), max(n)
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[]) AS b (d, k, hr, n)
       GROUP BY d, k, hr
       ON CONFLICT (device_id, key, hour) DO UPDATE SET cnt = h.cnt + excluded.cnt, sum = h.sum + excluded.sum,
         min = least(h.min, excluded.min), max = greatest(h.max, excluded.max)`,
      [added.map((r) => r.deviceId), added.map((r) => r.key), added.map((r) => hourOf(r.ts)), added.map((r) => r.n)],
    );
  }
  if (recompute.size === 0) return;
  const hours = [...recompute.values()];
  const params = [hours.map((h) => h[0]), hours.map((h) => h[1]), hours.map((h) => h[2])];
  await c.query(
    `DELETE FROM ts_hourly h USING unnest($1::text[], $2::text[], $3::bigint[]) AS a (d, k, hr)
     WHERE h.device_id = a.d AND h.key = a.k AND h.hour = a.hr`,
    params,
  );
  await c.query(
    `INSERT INTO ts_hourly (device_id, key, hour, cnt, sum, min, max)
     SELECT a.d, a.k, a.hr, count(*), sum(kv.n), min(kv.n), max(kv.n)
     FROM unnest($1::text[], $2::text[], $3::bigint[]) AS a (d, k, hr)
     JOIN ts_kv kv ON kv.device_id = a.d AND kv.key = a.k AND kv.ts >= a.hr AND kv.ts < a.hr + ${HOUR_MS} AND kv.t = ${ValueTag.Number}
     GROUP BY a.d, a.k, a.hr`,
    params,
  );
}
