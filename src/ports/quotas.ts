/**
 * Per-tenant quotas in the Store (limits set by a system administrator, and the daily count of
 * stored points) and the counters the quota service reports (services/quotas.ts).
 */
import type { QuotaKind, QuotaLimits } from '../domain/quotas.js';

export interface TenantQuotaRow {
  readonly tenantId: string;
  readonly limits: QuotaLimits;
}

export interface QuotaStore {
  /**
   * The tenant's own limits (`limits` undefined: none set, the defaults apply); undefined when
   * no such tenant exists.
   */
  getTenantQuotas(tenantId: string): Promise<{ readonly limits: QuotaLimits | undefined } | undefined>;
  /** Every tenant that has limits of its own. */
  listTenantQuotas(): Promise<TenantQuotaRow[]>;
  /** Replaces the tenant's limits; NOT_FOUND when the tenant does not exist. */
  putTenantQuotas(tenantId: string, limits: QuotaLimits): Promise<void>;
  /** Adds stored points to each tenant's count of the UTC day `day` (`YYYY-MM-DD`), in one transaction. */
  addPointsUsage(day: string, points: ReadonlyMap<string, number>): Promise<void>;
  /** Each tenant's count of stored points on `day`. */
  pointsUsage(day: string): Promise<Map<string, number>>;
}

export interface QuotaMetrics {
  /** continuum_quota_rejections_total{tenant,quota}. */
  rejected(tenantId: string, quota: QuotaKind): void;
  /** continuum_quota_usage{tenant,quota}: read when scraped; only tenants with that quota set. */
  usage(read: () => Iterable<{ tenantId: string; quota: QuotaKind; value: number }>): void;
}
