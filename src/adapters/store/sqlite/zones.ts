/**
 * Zones (geofences) of tenants, profiles and devices (issue 17), and the tables of trips.
 * Migration 25.
 */
import { PlatformError } from '../../../domain/errors.js';
import type { ZoneStore } from '../../../ports.js';
import { toZone, zoneValues, type ZoneRow } from '../rows/zones.js';
import { zoneTaken } from '../shared.js';
import { isUniqueViolation, type Db } from './sql.js';

export const V25_ZONES_TRIPS = `
  CREATE TABLE zones (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    owner_type TEXT NOT NULL,               -- tenant | profile | device
    owner_id   TEXT NOT NULL,               -- '' for a tenant zone
    geometry   TEXT NOT NULL,               -- GeoJSON Polygon, or Point with radius
    margin_m   REAL NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (tenant_id, owner_type, owner_id, name)
  ) STRICT;

  CREATE TABLE trips (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    start_ts   INTEGER NOT NULL,
    end_ts     INTEGER NOT NULL,
    open       INTEGER NOT NULL,            -- 1 while the trip is still under way
    summary    TEXT NOT NULL,               -- JSON: places, distance, stops, max speed, idle time
    track      TEXT NOT NULL                -- JSON: [[ts, lat, lon], …], thinned
  ) STRICT;
  CREATE INDEX trips_device_start ON trips (device_id, start_ts);

  CREATE TABLE trip_trackers (
    device_id TEXT PRIMARY KEY,
    state     TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;
`;

const COLUMNS = 'id, tenant_id, name, owner_type, owner_id, geometry, margin_m, created_at, updated_at';

export function createSqliteZones(db: Db): ZoneStore {
  const insert = db.prepare(`INSERT INTO zones (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const get = db.prepare<[string, string], ZoneRow>('SELECT * FROM zones WHERE tenant_id = ? AND id = ?');
  const list = db.prepare<[string, string | null, string | null, string | null, string | null], ZoneRow>(
    'SELECT * FROM zones WHERE tenant_id = ? AND (? IS NULL OR owner_type = ?) AND (? IS NULL OR owner_id = ?) ORDER BY name, id',
  );
  const update = db.prepare('UPDATE zones SET name = ?, geometry = ?, margin_m = ?, updated_at = ? WHERE tenant_id = ? AND id = ?');
  const remove = db.prepare('DELETE FROM zones WHERE tenant_id = ? AND id = ?');
  const conflict = (err: unknown, name: string): unknown => (isUniqueViolation(err) ? new PlatformError('CONFLICT', zoneTaken({ name }), { cause: err }) : err);
  return {
    async createZone(zone) {
      try {
        insert.run(...zoneValues(zone));
      } catch (err) {
        throw conflict(err, zone.name);
      }
    },
    async getZone(tenantId, id) {
      const r = get.get(tenantId, id);
      return r ? toZone(r) : undefined;
    },
    async listZones(tenantId, filter) {
      const type = filter?.ownerType ?? null;
      const owner = filter?.ownerId ?? null;
      return list.all(tenantId, type, type, owner, owner).map(toZone);
    },
    async updateZone(zone) {
      try {
        return update.run(zone.name, JSON.stringify(zone.geometry), zone.marginM, zone.updatedAt, zone.tenantId, zone.id).changes > 0;
      } catch (err) {
        throw conflict(err, zone.name);
      }
    },
    async deleteZone(tenantId, id) {
      return remove.run(tenantId, id).changes > 0;
    },
  };
}
