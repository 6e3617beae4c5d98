/**
 * Telemetry writes: one transaction per group commit (the batch IngestService hands over), which
 * upserts the deduplicated rows into ts_kv with one `INSERT … SELECT FROM unnest(…) ON CONFLICT
 * DO UPDATE`, moves ts_latest forward, keeps the hourly roll-ups and writes the outbox record;
 * the promise resolves after COMMIT, so a device's acknowledgement (PUBACK) follows durability.
 */
import type pg from 'pg';
import type { TelemetryRow, TelemetryStore } from '../../../ports.js';
import { inTx } from './db.js';
import type { Partitions } from './partitions.js';
import { pruneTelemetry } from './prune.js';
import { updateRollups } from './rollups.js';
import { createPgTelemetryReads } from './telemetry-read.js';
import { columns, dedupe, encodeRow, type Encoded } from './values.js';

const UNNEST = 'unnest($1::text[], $2::text[], $3::bigint[], $4::smallint[], $5::float8[], $6::text[]) AS b (device_id, key, ts, t, n, s)';

/** The newest row of each series in the (sorted, deduplicated) batch. */
function newestPerSeries(rows: readonly Encoded[]): Encoded[] {
  const out: Encoded[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const next = rows[i + 1];
    if (!next || next.deviceId !== r.deviceId || next.key !== r.key) out.push(r);
  }
  return out;
}

export async function writeTelemetry(c: pg.PoolClient, rows: readonly Encoded[]): Promise<void> {
  // Points that already exist: their hours' roll-ups are recomputed (a partitioned table has no
  // xmax to tell an update from an insert in RETURNING, so they are looked up first).
  const replaced = await c.query<{ device_id: string; key: string; ts: number }>(
    `SELECT kv.device_id, kv.key, kv.ts FROM unnest($1::text[], $2::text[], $3::bigint[]) AS b (device_id, key, ts)
     JOIN ts_kv kv ON kv.device_id = b.device_id AND kv.key = b.key AND kv.ts = b.ts`,
    columns(rows).slice(0, 3),
  );
  await c.query(
    `INSERT INTO ts_kv (device_id, key, ts, t, n, s) SELECT * FROM ${UNNEST}
     ON CONFLICT (device_id, key, ts) DO UPDATE SET t = excluded.t, n = excluded.n, s = excluded.s`,
    columns(rows),
  );
  await c.query(
    `INSERT INTO ts_latest AS l (device_id, key, ts, t, n, s) SELECT * FROM ${UNNEST}
     ON CONFLICT (device_id, key) DO UPDATE SET ts = excluded.ts, t = excluded.t, n = excluded.n, s = excluded.s
     WHERE l.ts <= excluded.ts`,
    columns(newestPerSeries(rows)),
  );
  await updateRollups(c, rows, replaced.rows);
}

export function createPgTelemetry(pool: pg.Pool, partitions: Partitions): TelemetryStore {
  return {
    async appendTelemetry(input: readonly TelemetryRow[], outbox?: string): Promise<number | undefined> {
      // Everything is checked before the transaction: a bad value fails the batch as a whole.
      const rows = dedupe(input.map(encodeRow));
      if (rows.length === 0 && outbox === undefined) return undefined;
      await partitions.ensure(rows.map((r) => r.ts));
      return inTx(pool, async (c) => {
        if (rows.length > 0) await writeTelemetry(c, rows);
        if (outbox === undefined) return undefined;
        const r = await c.query<{ id: number }>('INSERT INTO bus_outbox (payload) VALUES ($1) RETURNING id', [outbox]);
        return r.rows[0]?.id;
      });
    },
    ...createPgTelemetryReads(pool),
    pruneTelemetry: (deviceId, before, limit) => pruneTelemetry(pool, deviceId, before, limit),
  };
}

/** Inside the store's deleteDevice transaction. */
export async function deleteDeviceTelemetry(c: pg.PoolClient, deviceId: string): Promise<void> {
  await c.query('DELETE FROM ts_kv WHERE device_id = $1', [deviceId]);
  await c.query('DELETE FROM ts_latest WHERE device_id = $1', [deviceId]);
  await c.query('DELETE FROM ts_hourly WHERE device_id = $1', [deviceId]);
}
