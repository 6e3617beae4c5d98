/** Dashboards in a Map, with the SQLite store's answers (copies in, copies out, sorted by name). */
import type { Dashboard } from '../../../domain/dashboard.js';
import type { CustomerStore, DashboardStore } from '../../../ports.js';
import { checkInt, compareBinary } from '../shared.js';

const copy = (d: Dashboard): Dashboard => JSON.parse(JSON.stringify(d)) as Dashboard;

export function createMemoryDashboards(
  tenantExists: (id: string) => boolean,
  tenantNotFound: (id: string) => Error,
): DashboardStore & Pick<CustomerStore, 'setDashboardCustomer'> {
  const dashboards = new Map<string, Dashboard>();
  return {
    async saveDashboard(dashboard: Dashboard): Promise<void> {
      checkInt(dashboard.createdAt, 'createdAt');
      checkInt(dashboard.updatedAt, 'updatedAt');
      if (!tenantExists(dashboard.tenantId)) throw tenantNotFound(dashboard.tenantId);
      // Saving never changes the customer assignment (setDashboardCustomer does), as in SQLite.
      const { customerId: _ignored, ...rest } = copy(dashboard);
      const assigned = dashboards.get(dashboard.id)?.customerId;
      dashboards.set(dashboard.id, assigned !== undefined ? { ...rest, customerId: assigned } : rest);
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
    async setDashboardCustomer(ids: readonly string[], customerId: string | null): Promise<void> {
      for (const id of ids) {
        const d = dashboards.get(id);
        if (!d) continue;
        const { customerId: _old, ...rest } = d;
        dashboards.set(id, customerId === null ? rest : { ...rest, customerId });
      }
    },
  };
}
