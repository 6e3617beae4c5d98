/**
 * Which tenants are suspended, held in memory: device authentication (every HTTP request, every
 * MQTT/CoAP connect) and every API request ask it, so it must not read the store. Loaded at
 * start; the tenants service updates it on every change made through this process. Another node
 * of a cluster learns of a change at its next `load()`: `start()` reloads every 30 s.
 */
import { PlatformError } from '../domain/errors.js';
import type { Logger, TenancyStore, TenantStatus } from '../ports.js';

const RELOAD_MS = 30_000;

/** Told when a tenant's live connections must end: it was suspended or deleted. */
export type TenantRevokedListener = (tenantId: string, status: 'suspended' | 'deleted') => void;

export class TenantStatusCache {
  private suspended = new Set<string>();
  private readonly revoked: TenantRevokedListener[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly store: Pick<TenancyStore, 'listTenants'>) {}

  /** Loads now, then again every `everyMs` (a change made on another node of a cluster). */
  async start(logger: Pick<Logger, 'warn'>, everyMs = RELOAD_MS): Promise<void> {
    await this.load();
    this.timer = setInterval(() => {
      this.load().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'tenant statuses: reload failed; keeping the last ones'));
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the statuses; a tenant suspended elsewhere since the last load is revoked here too. */
  async load(): Promise<void> {
    const tenants = await this.store.listTenants();
    const before = this.suspended;
    this.suspended = new Set(tenants.filter((t) => t.status === 'suspended').map((t) => t.id));
    for (const id of this.suspended) if (!before.has(id)) this.tell(id, 'suspended');
  }

  set(tenantId: string, status: TenantStatus | 'deleted'): void {
    if (status === 'active') {
      this.suspended.delete(tenantId);
      return;
    }
    const known = this.suspended.has(tenantId);
    // A deleted tenant stays refused (devices may still sit in the authentication cache).
    this.suspended.add(tenantId);
    if (!known || status === 'deleted') this.tell(tenantId, status);
  }

  /**
   * Checks at authentication refuse new connections; connections already open (MQTT sessions)
   * are ended by whoever listens here.
   */
  onRevoked(listener: TenantRevokedListener): void {
    this.revoked.push(listener);
  }

  isSuspended(tenantId: string): boolean {
    return this.suspended.has(tenantId);
  }

  private tell(tenantId: string, status: 'suspended' | 'deleted'): void {
    for (const listener of this.revoked) listener(tenantId, status);
  }

  /** Throws the not-authorized answer of every protocol (HTTP 401, CoAP 4.01, MQTT CONNACK 0x87) for a suspended tenant. */
  check(tenantId: string, who: 'device' | 'user'): void {
    if (this.suspended.has(tenantId)) throw new PlatformError('UNAUTHORIZED', `the ${who}'s tenant is suspended`);
  }
}
