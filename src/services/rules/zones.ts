/**
 * The rule engine's cache of each tenant's zones: read whole from the store the first time a
 * rule with a zone call meets one of the tenant's devices (the engine awaits that load in
 * `prepare`), refreshed after a change made through this node (`invalidate`) and at most
 * ZONE_TTL_MS later for a change made elsewhere in a cluster — so evaluation reads no store per
 * message.
 */
import type { Clock, ZoneStore } from '../../ports.js';
import { resolveZone, type Zone } from '../../domain/zones/zone.js';

export const ZONE_TTL_MS = 30_000;

interface Entry {
  zones: readonly Zone[];
  at: number;
  refreshing: boolean;
}

export class ZoneCache {
  private readonly tenants = new Map<string, Entry>();

  constructor(private readonly deps: { store: Pick<ZoneStore, 'listZones'>; clock: Clock }) {}

  isLoaded(tenantId: string): boolean {
    const e = this.tenants.get(tenantId);
    if (e && this.deps.clock.now() - e.at >= ZONE_TTL_MS && !e.refreshing) this.refresh(tenantId, e);
    return e !== undefined;
  }

  async load(tenantId: string): Promise<void> {
    if (this.tenants.has(tenantId)) return;
    const zones = await this.deps.store.listZones(tenantId);
    this.tenants.set(tenantId, { zones, at: this.deps.clock.now(), refreshing: false });
  }

  /** A stale entry keeps serving while it is read again in the background (a failure retries next time). */
  private refresh(tenantId: string, e: Entry): void {
    e.refreshing = true;
    this.deps.store.listZones(tenantId).then(
      (zones) => this.tenants.set(tenantId, { zones, at: this.deps.clock.now(), refreshing: false }),
      () => {
        e.refreshing = false;
        e.at = this.deps.clock.now();
      },
    );
  }

  /** After a zone of the tenant changed: the next evaluation reads them again. */
  invalidate(tenantId: string): void {
    this.tenants.delete(tenantId);
  }

  zone(device: { readonly id: string; readonly tenantId: string; readonly profileId?: string }, ref: string): Zone | undefined {
    const e = this.tenants.get(device.tenantId);
    return e ? resolveZone(e.zones, ref, device) : undefined;
  }
}
