/**
 * Zones (geofences) of a tenant: create, list, read, change, delete — checked against the domain's
 * rules (domain/zones/zone.ts) and, for a profile or device zone, that the owner is the tenant's.
 * Every change tells the rule engine (`changed`), whose zone cache reads the tenant's zones again.
 */
import { randomUUID } from 'node:crypto';
import { PlatformError } from '../domain/errors.js';
import { checkZoneInput, type Zone, type ZoneInput, type ZoneOwnerType } from '../domain/zones/zone.js';
import type { Clock, RegistryStore, ZoneFilter, ZoneStore } from '../ports.js';

export interface ZoneServiceDeps {
  readonly store: ZoneStore & Pick<RegistryStore, 'getProfile' | 'getDevice'>;
  readonly clock: Clock;
  /** After a tenant's zones changed (the rule engine's cache). */
  readonly changed?: (tenantId: string) => void;
}

export interface ZonePatch {
  readonly name?: string;
  readonly geometry?: unknown;
  readonly marginM?: number;
}

export class ZoneService {
  constructor(private readonly deps: ZoneServiceDeps) {}

  private async checkOwner(tenantId: string, ownerType: ZoneOwnerType, ownerId: string | undefined): Promise<void> {
    if (ownerType === 'profile') {
      const p = await this.deps.store.getProfile(ownerId as string);
      if (!p || p.tenantId !== tenantId) throw new PlatformError('PROFILE_NOT_FOUND', ownerId);
    } else if (ownerType === 'device') {
      const d = await this.deps.store.getDevice(ownerId as string);
      if (!d || d.tenantId !== tenantId) throw new PlatformError('DEVICE_NOT_FOUND', ownerId);
    }
  }

  async create(tenantId: string, input: ZoneInput): Promise<Zone> {
    const checked = checkZoneInput(input);
    await this.checkOwner(tenantId, checked.ownerType, checked.ownerId);
    const now = this.deps.clock.now();
    const zone: Zone = { id: randomUUID(), tenantId, ...checked, createdAt: now, updatedAt: now };
    await this.deps.store.createZone(zone);
    this.deps.changed?.(tenantId);
    return zone;
  }

  list(tenantId: string, filter?: ZoneFilter): Promise<Zone[]> {
    return this.deps.store.listZones(tenantId, filter);
  }

  async get(tenantId: string, id: string): Promise<Zone> {
    const z = await this.deps.store.getZone(tenantId, id);
    if (!z) throw new PlatformError('ZONE_NOT_FOUND', id);
    return z;
  }

  /** Name, geometry and margin change; the owner stays (a zone moved to another owner is another zone). */
  async update(tenantId: string, id: string, patch: ZonePatch): Promise<Zone> {
    const cur = await this.get(tenantId, id);
    const checked = checkZoneInput({
      name: patch.name ?? cur.name,
      ownerType: cur.ownerType,
      ...(cur.ownerId !== undefined ? { ownerId: cur.ownerId } : {}),
      geometry: patch.geometry ?? cur.geometry,
      marginM: patch.marginM ?? cur.marginM,
    });
    const zone: Zone = { ...cur, name: checked.name, geometry: checked.geometry, marginM: checked.marginM, updatedAt: Math.max(this.deps.clock.now(), cur.updatedAt) };
    if (!(await this.deps.store.updateZone(zone))) throw new PlatformError('ZONE_NOT_FOUND', id);
    this.deps.changed?.(tenantId);
    return zone;
  }

  async remove(tenantId: string, id: string): Promise<void> {
    if (!(await this.deps.store.deleteZone(tenantId, id))) throw new PlatformError('ZONE_NOT_FOUND', id);
    this.deps.changed?.(tenantId);
  }
}
