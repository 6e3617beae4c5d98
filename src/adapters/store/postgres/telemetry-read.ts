/** Telemetry reads: raw ranges, bucketed aggregates (from the hourly roll-ups when they fit), latest values, keys. */
import type pg from 'pg';
import type { TsValue } from '../../../domain/telemetry.js';
import type { AggregateQuery, RawQuery, TelemetryStore } from '../../../ports.js';
import { checkAggregateQuery, checkRawQuery, clampLimit, putOwn, ValueTag } from '../shared.js';
import { all } from './db.js';
import { HOUR_MS, hourOf } from './rollups.js';
import { tsValue, type ValueColumns } from './values.js';

interface Bucket {
  cnt: number;
  sum: number;
  min: number;
  max: number;
}

interface AggRow extends Bucket {
  key: string;
  bucket: number;
}

function merge(into: Map<string, Map<number, Bucket>>, r: AggRow): void {
  let series = into.get(r.key);
  if (!series) into.set(r.key, (series = new Map()));
  const b = series.get(r.bucket);
  if (!b) series.set(r.bucket, { cnt: r.cnt, sum: r.sum, min: r.min, max: r.max });
  else {
    b.cnt += r.cnt;
    b.sum += r.sum;
    b.min = Math.min(b.min, r.min);
    b.max = Math.max(b.max, r.max);
  }
}

function valueOf(b: Bucket, agg: AggregateQuery['agg']): number {
  switch (agg) {
    case 'count':
      return b.cnt;
    case 'sum':
      return b.sum;
    case 'min':
      return b.min;
    case 'max':
      return b.max;
    default:
      return b.sum / b.cnt;
  }
}

const uniq = (keys: readonly string[]): string[] => [...new Set(keys)];

export function createPgTelemetryReads(pool: pg.Pool): Omit<TelemetryStore, 'appendTelemetry' | 'pruneTelemetry'> {
  /** Numeric rows of ts_kv in [from, to], bucketed from `origin`. */
  const fromKv = (q: AggregateQuery, keys: string[], from: number, to: number): Promise<AggRow[]> =>
    all<AggRow>(
      pool,
      `SELECT key, (ts - $3::bigint) / $5::bigint AS bucket, count(*) AS cnt, sum(n) AS sum, min(n) AS min, max(n) AS max
       FROM ts_kv WHERE device_id = $1 AND key = ANY($2::text[]) AND ts >= $6 AND ts <= $4 AND t = ${ValueTag.Number}
       GROUP BY key, bucket`,
      [q.deviceId, keys, q.from, to, q.interval, from],
    );

  return {
    async queryRaw(q: RawQuery): Promise<Record<string, TsValue[]>> {
      checkRawQuery(q);
      const out: Record<string, TsValue[]> = {};
      const limit = clampLimit(q.limit);
      if (q.keys.length === 0 || limit === 0 || q.from > q.to) return out;
      const order = q.order === 'desc' ? 'DESC' : 'ASC';
      const rows = await all<ValueColumns & { key: string; ts: number }>(
        pool,
        `SELECT k.key, r.ts, r.t, r.n, r.s FROM unnest($2::text[]) WITH ORDINALITY AS k (key, i)
         CROSS JOIN LATERAL (SELECT ts, t, n, s FROM ts_kv WHERE device_id = $1 AND key = k.key AND ts >= $3 AND ts <= $4
                             ORDER BY ts ${order} LIMIT $5) r
         ORDER BY k.i, r.ts ${order}`,
        [q.deviceId, uniq(q.keys), q.from, q.to, limit],
      );
      for (const r of rows) {
        const list = Object.hasOwn(out, r.key) ? out[r.key]! : [];
        if (list.length === 0) putOwn(out, r.key, list);
        list.push(tsValue(r));
      }
      return out;
    },

    async queryAggregated(q: AggregateQuery): Promise<Record<string, TsValue[]>> {
      checkAggregateQuery(q);
      const keys = uniq(q.keys);
      const out: Record<string, TsValue[]> = {};
      if (keys.length === 0 || q.from > q.to) return out;
      const buckets = new Map<string, Map<number, Bucket>>();
      if (q.from % HOUR_MS === 0 && q.interval % HOUR_MS === 0) {
        // Whole hours from the roll-ups, the partial last hour (if any) from ts_kv.
        const partial = Math.max(q.from, hourOf(q.to + 1));
        const hours = await all<AggRow>(
          pool,
          `SELECT key, (hour - $3::bigint) / $5::bigint AS bucket, sum(cnt) AS cnt, sum(sum) AS sum, min(min) AS min, max(max) AS max
           FROM ts_hourly WHERE device_id = $1 AND key = ANY($2::text[]) AND hour >= $3 AND hour < $4
           GROUP BY key, bucket`,
          [q.deviceId, keys, q.from, partial, q.interval],
        );
        for (const r of hours) merge(buckets, r);
        if (partial <= q.to) for (const r of await fromKv(q, keys, partial, q.to)) merge(buckets, r);
      } else {
        for (const r of await fromKv(q, keys, q.from, q.to)) merge(buckets, r);
      }
      for (const key of keys) {
        const series = buckets.get(key);
        if (!series) continue;
        const list = [...series.entries()].sort((a, b) => a[0] - b[0]).map(([i, b]) => ({ ts: q.from + i * q.interval, value: valueOf(b, q.agg) }));
        putOwn(out, key, list);
      }
      return out;
    },

    async latest(deviceId: string, keys?: readonly string[]): Promise<Record<string, TsValue>> {
      const out: Record<string, TsValue> = {};
      if (keys && keys.length === 0) return out;
      const rows = keys
        ? await all<ValueColumns & { key: string; ts: number }>(pool, 'SELECT key, ts, t, n, s FROM ts_latest WHERE device_id = $1 AND key = ANY($2::text[]) ORDER BY key COLLATE "C"', [deviceId, uniq(keys)])
        : await all<ValueColumns & { key: string; ts: number }>(pool, 'SELECT key, ts, t, n, s FROM ts_latest WHERE device_id = $1 ORDER BY key COLLATE "C"', [deviceId]);
      for (const r of rows) putOwn(out, r.key, tsValue(r));
      return out;
    },

    async telemetryKeys(deviceId: string): Promise<string[]> {
      return (await all<{ key: string }>(pool, 'SELECT key FROM ts_latest WHERE device_id = $1 ORDER BY key COLLATE "C"', [deviceId])).map((r) => r.key);
    },
  };
}
