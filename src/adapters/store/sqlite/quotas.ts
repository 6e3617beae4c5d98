/**
 * Tenant quotas (issue 15): each tenant's own limits (a NULL column is unlimited; no row: the
 * configured defaults apply) and the count of points stored per tenant and UTC day, added to
 * in batches by the quota service (never once per message). Migration 22.
 */
import type { QuotaStore } from '../../../ports.js';
import { tenantNotFound } from '../shared.js';
import { toLimits, type LimitsRow } from '../rows/quotas.js';
import type { Db } from './sql.js';

export const V22_TENANT_QUOTAS = `
  CREATE TABLE tenant_quotas (
    tenant_id               TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    max_devices             INTEGER,          -- NULL: unlimited
    max_messages_per_second INTEGER,
    max_points_per_day      INTEGER,
    max_rules               INTEGER
  ) STRICT;

  CREATE TABLE tenant_usage_daily (
    tenant_id TEXT NOT NULL,
    day       TEXT NOT NULL,                  -- UTC, YYYY-MM-DD
    points    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, day)
  ) STRICT, WITHOUT ROWID;
`;

/** Days kept in tenant_usage_daily: only today's count is read; a few more help an operator looking back. */
const KEEP_DAYS = 31;

export function createSqliteQuotas(db: Db): QuotaStore {
  const tenant = db.prepare<[string], { id: string }>('SELECT id FROM tenants WHERE id = ?');
  const get = db.prepare<[string], LimitsRow>('SELECT * FROM tenant_quotas WHERE tenant_id = ?');
  const list = db.prepare<[], LimitsRow>('SELECT * FROM tenant_quotas ORDER BY tenant_id');
  const put = db.prepare(
    `INSERT INTO tenant_quotas (tenant_id, max_devices, max_messages_per_second, max_points_per_day, max_rules) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (tenant_id) DO UPDATE SET max_devices = excluded.max_devices, max_messages_per_second = excluded.max_messages_per_second,
       max_points_per_day = excluded.max_points_per_day, max_rules = excluded.max_rules`,
  );
  const add = db.prepare('INSERT INTO tenant_usage_daily (tenant_id, day, points) VALUES (?, ?, ?) ON CONFLICT (tenant_id, day) DO UPDATE SET points = points + excluded.points');
  const prune = db.prepare('DELETE FROM tenant_usage_daily WHERE day < ?');
  const usage = db.prepare<[string], { tenant_id: string; points: number }>('SELECT tenant_id, points FROM tenant_usage_daily WHERE day = ?');
  const addAll = db.transaction((day: string, points: ReadonlyMap<string, number>) => {
    for (const [tenantId, n] of points) add.run(tenantId, day, n);
    prune.run(new Date(Date.parse(`${day}T00:00:00Z`) - KEEP_DAYS * 86_400_000).toISOString().slice(0, 10));
  });
  return {
    async getTenantQuotas(tenantId) {
      if (!tenant.get(tenantId)) return undefined;
      const row = get.get(tenantId);
      return { limits: row ? toLimits(row) : undefined };
    },
    async listTenantQuotas() {
      return list.all().map((r) => ({ tenantId: r.tenant_id, limits: toLimits(r) }));
    },
    async putTenantQuotas(tenantId, l) {
      if (!tenant.get(tenantId)) throw tenantNotFound(tenantId);
      put.run(tenantId, l.maxDevices, l.maxMessagesPerSecond, l.maxPointsPerDay, l.maxRules);
    },
    async addPointsUsage(day, points) {
      if (points.size > 0) addAll(day, points);
    },
    async pointsUsage(day) {
      return new Map(usage.all(day).map((r) => [r.tenant_id, r.points]));
    },
  };
}
