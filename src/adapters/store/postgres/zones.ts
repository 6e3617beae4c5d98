/** Zones (geofences) of tenants, profiles and devices (issue 17; migration 008). */
import type pg from 'pg';
import { PlatformError } from '../../../domain/errors.js';
import type { ZoneStore } from '../../../ports.js';
import { toZone, zoneValues, type ZoneRow } from '../rows/zones.js';
import { zoneTaken } from '../shared.js';
import { all, isUniqueViolation, one, run } from './db.js';

export function createPgZones(pool: pg.Pool): ZoneStore {
  const conflict = (err: unknown, name: string): unknown => (isUniqueViolation(err) ? new PlatformError('CONFLICT', zoneTaken({ name }), { cause: err }) : err);
  return {
    async createZone(zone) {
      try {
        await pool.query('INSERT INTO zones (id, tenant_id, name, owner_type, owner_id, geometry, margin_m, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', zoneValues(zone));
      } catch (err) {
        throw conflict(err, zone.name);
      }
    },
    async getZone(tenantId, id) {
      const r = await one<ZoneRow>(pool, 'SELECT * FROM zones WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
      return r ? toZone(r) : undefined;
    },
    async listZones(tenantId, filter) {
      const rows = await all<ZoneRow>(
        pool,
        'SELECT * FROM zones WHERE tenant_id = $1 AND ($2::text IS NULL OR owner_type = $2) AND ($3::text IS NULL OR owner_id = $3) ORDER BY name COLLATE "C", id COLLATE "C"',
        [tenantId, filter?.ownerType ?? null, filter?.ownerId ?? null],
      );
      return rows.map(toZone);
    },
    async updateZone(zone) {
      try {
        return (await run(pool, 'UPDATE zones SET name = $1, geometry = $2, margin_m = $3, updated_at = $4 WHERE tenant_id = $5 AND id = $6', [zone.name, JSON.stringify(zone.geometry), zone.marginM, zone.updatedAt, zone.tenantId, zone.id])) > 0;
      } catch (err) {
        throw conflict(err, zone.name);
      }
    },
    async deleteZone(tenantId, id) {
      return (await run(pool, 'DELETE FROM zones WHERE tenant_id = $1 AND id = $2', [tenantId, id])) > 0;
    },
  };
}
