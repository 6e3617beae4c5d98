/** Zones in memory (`--store memory`; lost with the process). */
import { PlatformError } from '../../../domain/errors.js';
import type { Zone } from '../../../domain/zones/zone.js';
import type { ZoneStore } from '../../../ports.js';
import { zoneTaken } from '../shared.js';

export function createMemoryZones(): ZoneStore {
  const zones = new Map<string, Zone>();
  const taken = (z: Zone): boolean =>
    [...zones.values()].some((o) => o.id !== z.id && o.tenantId === z.tenantId && o.ownerType === z.ownerType && o.ownerId === z.ownerId && o.name === z.name);
  return {
    async createZone(zone) {
      if (zones.has(zone.id) || taken(zone)) throw new PlatformError('CONFLICT', zoneTaken(zone));
      zones.set(zone.id, structuredClone(zone));
    },
    async getZone(tenantId, id) {
      const z = zones.get(id);
      return z && z.tenantId === tenantId ? structuredClone(z) : undefined;
    },
    async listZones(tenantId, filter) {
      return [...zones.values()]
        .filter((z) => z.tenantId === tenantId && (filter?.ownerType === undefined || z.ownerType === filter.ownerType) && (filter?.ownerId === undefined || z.ownerId === filter.ownerId))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1))
        .map((z) => structuredClone(z));
    },
    async updateZone(zone) {
      const cur = zones.get(zone.id);
      if (!cur || cur.tenantId !== zone.tenantId) return false;
      if (taken(zone)) throw new PlatformError('CONFLICT', zoneTaken(zone));
      zones.set(zone.id, structuredClone({ ...zone, ownerType: cur.ownerType, ...(cur.ownerId !== undefined ? { ownerId: cur.ownerId } : {}), createdAt: cur.createdAt }));
      return true;
    },
    async deleteZone(tenantId, id) {
      const z = zones.get(id);
      if (!z || z.tenantId !== tenantId) return false;
      return zones.delete(id);
    },
  };
}
