/**
 * Dashboards: one row per dashboard, its widgets as a JSON array (always read and written whole).
 * Table: schema.ts, version 5.
 */
import type { Dashboard, Widget } from '../../../domain/dashboard.js';
import type { DashboardStore } from '../../../ports.js';
import { checkInt, tenantNotFound } from '../shared.js';
import type { Db } from './sql.js';

interface DashboardRow {
  id: string;
  tenant_id: string;
  name: string;
  description: string | null;
  widgets: string;
  created_at: number;
  updated_at: number;
  customer_id: string | null;
}

const COLUMNS = 'id, tenant_id, name, description, widgets, created_at, updated_at';
/** customer_id is read here but written only by the customers part (saving never changes an assignment). */
const READ_COLUMNS = `${COLUMNS}, customer_id`;

const toDashboard = (r: DashboardRow): Dashboard => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  ...(r.description !== null ? { description: r.description } : {}),
  widgets: JSON.parse(r.widgets) as Widget[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  ...(r.customer_id !== null ? { customerId: r.customer_id } : {}),
});

export function createSqliteDashboards(db: Db): DashboardStore {
  const s = {
    tenantExists: db.prepare('SELECT 1 FROM tenants WHERE id = ?').pluck(),
    upsert: db.prepare(
      `INSERT INTO dashboards (${COLUMNS}) VALUES (@id, @tenantId, @name, @description, @widgets, @createdAt, @updatedAt)
       ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name, description = excluded.description,
         widgets = excluded.widgets, updated_at = excluded.updated_at`,
    ),
    get: db.prepare<[string], DashboardRow>(`SELECT ${READ_COLUMNS} FROM dashboards WHERE id = ?`),
    list: db.prepare<[string], DashboardRow>(`SELECT ${READ_COLUMNS} FROM dashboards WHERE tenant_id = ? ORDER BY name, id`),
    delete: db.prepare('DELETE FROM dashboards WHERE id = ?'),
  };
  return {
    async saveDashboard(d: Dashboard): Promise<void> {
      checkInt(d.createdAt, 'createdAt');
      checkInt(d.updatedAt, 'updatedAt');
      if (!s.tenantExists.get(d.tenantId)) throw tenantNotFound(d.tenantId);
      s.upsert.run({
        id: d.id,
        tenantId: d.tenantId,
        name: d.name,
        description: d.description ?? null,
        widgets: JSON.stringify(d.widgets),
        createdAt: d.createdAt,
        updatedAt: d.updatedAt,
      });
    },
    async getDashboard(id: string): Promise<Dashboard | undefined> {
      const r = s.get.get(id);
      return r && toDashboard(r);
    },
    async listDashboards(tenantId: string): Promise<Dashboard[]> {
      return s.list.all(tenantId).map(toDashboard);
    },
    async deleteDashboard(id: string): Promise<boolean> {
      return s.delete.run(id).changes > 0;
    },
  };
}
