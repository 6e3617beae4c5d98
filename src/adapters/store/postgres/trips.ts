/** Trips and trip trackers (migration 008). */
import type pg from 'pg';
import type { TripStore } from '../../../ports.js';
import { toTrip, toTripSummary, tripValues, type TripRow } from '../rows/trips.js';
import { all, inTx, one } from './db.js';

export function createPgTrips(pool: pg.Pool): TripStore {
  return {
    async saveTrips(tenantId, deviceId, trips, tracker) {
      await inTx(pool, async (c) => {
        for (const t of trips) {
          const v = tripValues(t);
          await c.query(
            `INSERT INTO trips (id, tenant_id, device_id, start_ts, end_ts, open, summary, track) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (id) DO UPDATE SET end_ts = excluded.end_ts, open = excluded.open, summary = excluded.summary, track = excluded.track`,
            [t.id, tenantId, deviceId, t.startTs, t.endTs, t.open, v.summary, v.track],
          );
        }
        await c.query('INSERT INTO trip_trackers (device_id, state) VALUES ($1, $2) ON CONFLICT (device_id) DO UPDATE SET state = excluded.state', [deviceId, tracker]);
      });
    },
    async loadTripTracker(deviceId) {
      return (await one<{ state: string }>(pool, 'SELECT state FROM trip_trackers WHERE device_id = $1', [deviceId]))?.state;
    },
    async listTrips(deviceId, from, to, limit) {
      return (await all<TripRow>(pool, 'SELECT id, start_ts, end_ts, open, summary FROM trips WHERE device_id = $1 AND start_ts >= $2 AND start_ts < $3 ORDER BY start_ts DESC LIMIT $4', [deviceId, from, to, limit])).map(toTripSummary);
    },
    async getTrip(deviceId, tripId) {
      const r = await one<TripRow & { track: string }>(pool, 'SELECT * FROM trips WHERE device_id = $1 AND id = $2', [deviceId, tripId]);
      return r ? toTrip(r) : undefined;
    },
  };
}
