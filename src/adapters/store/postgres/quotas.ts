/**
 * Tenant quotas (a NULL column is unlimited; no row: the configured defaults apply) and the
 * count of points stored per tenant and UTC day, added to in batches by the quota service.
 */
import type pg from 'pg';
import type { QuotaStore } from '../../../ports.js';
import { tenantNotFound } from '../shared.js';
import { toLimits, type LimitsRow } from '../rows/quotas.js';
import { all, inTx, isForeignKeyViolation, one } from './db.js';

/** Days kept in tenant_usage_daily: only today's count is read; a few more help an operator looking back. */
const KEEP_DAYS = 31;

export function createPgQuotas(pool: pg.Pool): QuotaStore {
  return {
    async getTenantQuotas(tenantId) {
      if (!(await one(pool, 'SELECT 1 FROM tenants WHERE id = $1', [tenantId]))) return undefined;
      const r = await one<LimitsRow>(pool, 'SELECT * FROM tenant_quotas WHERE tenant_id = $1', [tenantId]);
      return { limits: r ? toLimits(r) : undefined };
    },
    async listTenantQuotas() {
      return (await all<LimitsRow>(pool, 'SELECT * FROM tenant_quotas ORDER BY tenant_id COLLATE "C"')).map((r) => ({ tenantId: r.tenant_id, limits: toLimits(r) }));
    },
    async putTenantQuotas(tenantId, l) {
      try {
        await pool.query(
          `INSERT INTO tenant_quotas (tenant_id, max_devices, max_messages_per_second, max_points_per_day, max_rules) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (tenant_id) DO UPDATE SET max_devices = excluded.max_devices, max_messages_per_second = excluded.max_messages_per_second,
             max_points_per_day = excluded.max_points_per_day, max_rules = excluded.max_rules`,
          [tenantId, l.maxDevices, l.maxMessagesPerSecond, l.maxPointsPerDay, l.maxRules],
        );
      } catch (err) {
        if (isForeignKeyViolation(err)) throw tenantNotFound(tenantId);
        throw err;
      }
    },
    async addPointsUsage(day, points) {
      if (points.size === 0) return;
      const cutoff = new Date(Date.parse(`${day}T00:00:00Z`) - KEEP_DAYS * 86_400_000).toISOString().slice(0, 10);
      await inTx(pool, async (c) => {
        // Sorted tenant ids: two nodes adding at once lock the rows in the same order (no deadlock).
        const entries = [...points].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        await c.query(
          `INSERT INTO tenant_usage_daily (tenant_id, day, points) SELECT t, $1, n FROM unnest($2::text[], $3::bigint[]) AS x (t, n)
           ON CONFLICT (tenant_id, day) DO UPDATE SET points = tenant_usage_daily.points + excluded.points`,
          [day, entries.map(([t]) => t), entries.map(([, n]) => n)],
        );
        await c.query('DELETE FROM tenant_usage_daily WHERE day < $1', [cutoff]);
      });
    },
    async pointsUsage(day) {
      const rows = await all<{ tenant_id: string; points: number }>(pool, 'SELECT tenant_id, points FROM tenant_usage_daily WHERE day = $1', [day]);
      return new Map(rows.map((r) => [r.tenant_id, r.points]));
    },
  };
}
