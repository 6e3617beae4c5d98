/** Dashboards in a Map, with the SQLite store's answers (copies in, copies out, sorted by name). */
import type { Dashboard } from '../../../domain/dashboard.js';
import type { DashboardStore } from '../../../ports.js';
import { checkInt, compareBinary } from '../shared.js';

const copy = (d: Dashboard): Dashboard => JSON.parse(JSON.stringify(d)) as Dashboard;

export function createMemoryDashboards(tenantExists: (id: string) => boolean, tenantNotFound: (id: string) => Error): DashboardStore {
  const dashboards = new Map<string, Dashboard>();
  return {
    async saveDashboard(dashboard: Dashboard): Promise<void> {
      checkInt(dashboard.createdAt, 'createdAt');
      checkInt(dashboard.updatedAt, 'updatedAt');
      if (!tenantExists(dashboard.tenantId)) throw tenantNotFound(dashboard.tenantId);
      dashboards.set(dashboard.id, copy(dashboard));
    },
    async getDashboard(id: string): Promise<Dashboard | undefined> {
      const d = dashboards.get(id);
      return d && copy(d);
    },
    async listDashboards(tenantId: string): Promise<Dashboard[]> {
      return [...dashboards.values()]
        .filter((d) => d.tenantId === tenantId)
        .sort((a, b) => compareBinary(a.name, b.name) || compareBinary(a.id, b.id))
        .map(copy);
    },
    async deleteDashboard(id: string): Promise<boolean> {
      return dashboards.delete(id);
    },
  };
}
