/**
 * Which tenants are suspended, held in memory: device authentication (every HTTP request, every
 * MQTT/CoAP connect) and every API request ask it, so it must not read the store. Loaded at
 * start; the tenants service updates it on every change made through this process. Another node
 * of a cluster learns of a change at its next `load()` (the platform reloads periodically).
 */
import { PlatformError } from '../domain/errors.js';
import type { TenancyStore, TenantStatus } from '../ports.js';

export class TenantStatusCache {
  private suspended = new Set<string>();

  constructor(private readonly store: Pick<TenancyStore, 'listTenants'>) {}

  async load(): Promise<void> {
    const tenants = await this.store.listTenants();
    this.suspended = new Set(tenants.filter((t) => t.status === 'suspended').map((t) => t.id));
  }

  set(tenantId: string, status: TenantStatus | 'deleted'): void {
    if (status === 'suspended') this.suspended.add(tenantId);
    else this.suspended.delete(tenantId);
  }

  isSuspended(tenantId: string): boolean {
    return this.suspended.has(tenantId);
  }

  /** Throws the not-authorized answer of every protocol (HTTP 401, CoAP 4.01, MQTT CONNACK 0x87) for a suspended tenant. */
  check(tenantId: string, who: 'device' | 'user'): void {
    if (this.suspended.has(tenantId)) throw new PlatformError('UNAUTHORIZED', `the ${who}'s tenant is suspended`);
  }
}
