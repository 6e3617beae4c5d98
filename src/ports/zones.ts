/**
 * Zones (geofences) and trips in the Store. Zones are few per tenant (read whole by the rule
 * engine, cached); trips are written by the trip consumer after ingest commits.
 */
import type { Zone, ZoneOwnerType } from '../domain/zones/zone.js';

export interface ZoneFilter {
  readonly ownerType?: ZoneOwnerType;
  readonly ownerId?: string;
}

export interface ZoneStore {
  /** CONFLICT when the tenant already has a zone of that name with the same owner. */
  createZone(zone: Zone): Promise<void>;
  getZone(tenantId: string, id: string): Promise<Zone | undefined>;
  /** The tenant's zones, by name; all owners unless filtered. */
  listZones(tenantId: string, filter?: ZoneFilter): Promise<Zone[]>;
  /** Replaces name, geometry and margin; false when there is no such zone. CONFLICT on a taken name. */
  updateZone(zone: Zone): Promise<boolean>;
  deleteZone(tenantId: string, id: string): Promise<boolean>;
}
