/**
 * Telemetry retention on SQLite (TelemetryStore.pruneTelemetry): a device's points older than a
 * cut-off leave ts_kv, and its roll-up hours that end by then leave ts_hourly; ts_latest stays.
 * Work goes key by key along the (device, key, ts) primary key, at most `limit` points per call
 * in one transaction, so a long history is deleted in short steps the caller spreads over the
 * event loop, and appends go on between them.
 *
 * The device's rows still in the telemetry log (telemetry.ts: seconds old in normal operation)
 * are merged into ts_kv first, so a late point with an old timestamp is not missed.
 */
import type { SeriesIds } from './series-ids.js';
import type { Db } from './sql.js';

export function createSqlitePrune(db: Db, ids: SeriesIds, mergeDevice: (device: number) => void): (deviceId: string, before: number, limit: number) => Promise<number> {
  const s = {
    keys: db.prepare<[number], number>('SELECT key FROM ts_latest WHERE device = ? ORDER BY key').pluck(),
    // The ts of the (room + 1)-th oldest point before the cut-off: deleting below it removes room points.
    nth: db.prepare<[number, number, number, number], number>('SELECT ts FROM ts_kv WHERE device = ? AND key = ? AND ts < ? ORDER BY ts LIMIT 1 OFFSET ?').pluck(),
    deleteKv: db.prepare<[number, number, number]>('DELETE FROM ts_kv WHERE device = ? AND key = ? AND ts < ?'),
    deleteHours: db.prepare<[number, number, number]>('DELETE FROM ts_hourly WHERE device = ? AND key = ? AND hour + 3600000 <= ?'),
  };
  const step = db.transaction((device: number, before: number, limit: number): number => {
    let deleted = 0;
    for (const key of s.keys.all(device)) {
      const room = limit - deleted;
      if (room <= 0) break;
      const nth = s.nth.get(device, key, before, room);
      const upTo = nth ?? before;
      deleted += s.deleteKv.run(device, key, upTo).changes;
      // Only hours whose points are all gone: a partly deleted hour keeps its roll-up until the next step.
      s.deleteHours.run(device, key, upTo);
      if (nth !== undefined) break;
    }
    return deleted;
  });
  return async (deviceId, before, limit) => {
    const device = ids.knownDevice(deviceId);
    if (device === undefined) return 0;
    mergeDevice(device);
    return step(device, before, Math.max(1, Math.floor(limit)));
  };
}
