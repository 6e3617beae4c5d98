/** Tenant quotas and daily point counts in memory (`--store memory`; lost with the process). */
import type { QuotaLimits } from '../../../domain/quotas.js';
import type { QuotaStore } from '../../../ports.js';

export function createMemoryQuotas(tenantExists: (id: string) => boolean, tenantNotFound: (id: string) => Error): QuotaStore {
  const limits = new Map<string, QuotaLimits>();
  /** day → tenant → points */
  const usage = new Map<string, Map<string, number>>();
  return {
    async getTenantQuotas(tenantId) {
      if (!tenantExists(tenantId)) return undefined;
      const own = limits.get(tenantId);
      return { limits: own ? { ...own } : undefined };
    },
    async listTenantQuotas() {
      return [...limits].map(([tenantId, l]) => ({ tenantId, limits: { ...l } }));
    },
    async putTenantQuotas(tenantId, l) {
      if (!tenantExists(tenantId)) throw tenantNotFound(tenantId);
      limits.set(tenantId, { ...l });
    },
    async addPointsUsage(day, points) {
      let ofDay = usage.get(day);
      if (!ofDay) usage.set(day, (ofDay = new Map()));
      for (const [tenantId, n] of points) ofDay.set(tenantId, (ofDay.get(tenantId) ?? 0) + n);
      // Only today and yesterday are ever read: older days go.
      for (const d of usage.keys()) if (d < day && usage.size > 2) usage.delete(d);
    },
    async pointsUsage(day) {
      return new Map(usage.get(day) ?? []);
    },
  };
}
