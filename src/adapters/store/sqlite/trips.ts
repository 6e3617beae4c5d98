/** Trips and trip trackers (tables of migration 25, zones.ts). */
import type { TripStore } from '../../../ports.js';
import { toTrip, toTripSummary, tripValues, type TripRow } from '../rows/trips.js';
import type { Db } from './sql.js';

export function createSqliteTrips(db: Db): TripStore {
  const upsert = db.prepare(
    `INSERT INTO trips (id, tenant_id, device_id, start_ts, end_ts, open, summary, track) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET end_ts = excluded.end_ts, open = excluded.open, summary = excluded.summary, track = excluded.track`,
  );
  const putTracker = db.prepare('INSERT INTO trip_trackers (device_id, state) VALUES (?, ?) ON CONFLICT (device_id) DO UPDATE SET state = excluded.state');
  const getTracker = db.prepare<[string], { state: string }>('SELECT state FROM trip_trackers WHERE device_id = ?');
  const list = db.prepare<[string, number, number, number], TripRow>('SELECT id, start_ts, end_ts, open, summary FROM trips WHERE device_id = ? AND start_ts >= ? AND start_ts < ? ORDER BY start_ts DESC LIMIT ?');
  const get = db.prepare<[string, string], TripRow & { track: string }>('SELECT * FROM trips WHERE device_id = ? AND id = ?');
  const save = db.transaction((tenantId: string, deviceId: string, trips: Parameters<TripStore['saveTrips']>[2], tracker: string) => {
    for (const t of trips) {
      const v = tripValues(t);
      upsert.run(t.id, tenantId, deviceId, t.startTs, t.endTs, t.open ? 1 : 0, v.summary, v.track);
    }
    putTracker.run(deviceId, tracker);
  });
  return {
    async saveTrips(tenantId, deviceId, trips, tracker) {
      save.immediate(tenantId, deviceId, trips, tracker);
    },
    async loadTripTracker(deviceId) {
      return getTracker.get(deviceId)?.state;
    },
    async listTrips(deviceId, from, to, limit) {
      return list.all(deviceId, from, to, limit).map(toTripSummary);
    },
    async getTrip(deviceId, tripId) {
      const r = get.get(deviceId, tripId);
      return r ? toTrip(r) : undefined;
    },
  };
}
