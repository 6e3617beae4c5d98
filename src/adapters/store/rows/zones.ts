/** Zone rows as both SQL stores hold them (same column names) and their mapping to the domain. */
import type { Zone, ZoneGeometry, ZoneOwnerType } from '../../../domain/zones/zone.js';

export interface ZoneRow {
  id: string;
  tenant_id: string;
  name: string;
  owner_type: string;
  /** '' for a tenant zone, so the (tenant, owner, name) uniqueness holds (NULLs never collide). */
  owner_id: string;
  geometry: string;
  margin_m: number;
  created_at: number | string;
  updated_at: number | string;
}

export function toZone(r: ZoneRow): Zone {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    ownerType: r.owner_type as ZoneOwnerType,
    ...(r.owner_id !== '' ? { ownerId: r.owner_id } : {}),
    geometry: JSON.parse(r.geometry) as ZoneGeometry,
    marginM: Number(r.margin_m),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** The row values in column order: id, tenant_id, name, owner_type, owner_id, geometry, margin_m, created_at, updated_at. */
export function zoneValues(z: Zone): [string, string, string, string, string, string, number, number, number] {
  return [z.id, z.tenantId, z.name, z.ownerType, z.ownerId ?? '', JSON.stringify(z.geometry), z.marginM, z.createdAt, z.updatedAt];
}
