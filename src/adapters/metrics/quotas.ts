/** Tenant quota counters on the platform's prom-client registry (served at /metrics with the rest). */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { QuotaMetrics } from '../../ports/quotas.js';

export function createQuotaMetrics(registry: Registry): QuotaMetrics {
  const registers = [registry];
  const rejections = new Counter({ name: 'continuum_quota_rejections_total', help: 'Messages and creations refused by a tenant quota', labelNames: ['tenant', 'quota'] as const, registers });
  return {
    rejected: (tenant, quota) => rejections.inc({ tenant, quota }),
    usage(read) {
      new Gauge({
        name: 'continuum_quota_usage',
        help: "A tenant's use of its rate and daily quotas: messages in the last second, points stored today (UTC)",
        labelNames: ['tenant', 'quota'] as const,
        registers,
        collect() {
          this.reset();
          for (const s of read()) this.set({ tenant: s.tenantId, quota: s.quota }, s.value);
        },
      });
    },
  };
}
