/**
 * Which page a hash route shows, and the nav section it lights up.
 *
 * The first load holds the shell and the pages a visit usually starts on: the fleet, a device and
 * the alarms (the device page shows its alarms with the alarm page's table, so that module is in
 * the first load anyway). Every other page is a dynamic import(): Vite (Rollup) puts it in a chunk
 * of its own, fetched the first time the route is visited, so the admin pages (tenancy, users,
 * roles, OTA, rules, the composer…) no longer cost every cold start their download, parse and run
 * (bench/dashboard-render.ts, docs/BENCHMARKS.md "Dashboard first render").
 */
import type { View } from './main.js';
import { alarmsPage } from './pages/alarms.js';
import { devicePage } from './pages/device.js';
import { fleetPage } from './pages/fleet.js';

export interface Route {
  readonly section: string;
  /** The page's view: at once for the first-load pages, once its chunk is loaded for the rest. */
  open(): View | Promise<View>;
}

/** A page in a chunk of its own; `import()` is written out per page so the bundler sees each one. */
type Lazy = () => Promise<View>;

const PAGES: Readonly<Record<string, { section: string; open: Lazy }>> = {
  '/map': { section: 'map', open: async () => (await import('./pages/map.js')).mapPage() },
  '/dashboards': { section: 'dashboards', open: async () => (await import('./pages/dashboards.js')).dashboardsPage() },
  '/rules': { section: 'rules', open: async () => (await import('./pages/rules.js')).rulesPage() },
  '/help/rules': { section: 'rules', open: async () => (await import('./pages/help-rules.js')).rulesHelpPage() },
  '/ota': { section: 'ota', open: async () => (await import('./pages/ota.js')).otaPage() },
  '/profiles': { section: 'profiles', open: async () => (await import('./pages/profiles.js')).profilesPage() },
  '/users': { section: 'users', open: async () => (await import('./pages/users.js')).usersPage() },
  '/tenants': { section: 'tenants', open: async () => (await import('./pages/tenants.js')).tenantsPage() },
  '/customers': { section: 'customers', open: async () => (await import('./pages/customers.js')).customersPage() },
  '/groups': { section: 'groups', open: async () => (await import('./pages/groups.js')).groupsPage() },
  '/grants': { section: 'grants', open: async () => (await import('./pages/grants.js')).grantsPage() },
  '/roles': { section: 'roles', open: async () => (await import('./pages/roles.js')).rolesPage() },
  '/audit': { section: 'audit', open: async () => (await import('./pages/audit.js')).auditPage() },
  '/account': { section: 'account', open: async () => (await import('./pages/account.js')).accountPage() },
};

/** The route for a path (the hash without '#'), or undefined: the caller falls back to the fleet. */
export function route(path: string): Route | undefined {
  if (path === '/devices') return { section: 'devices', open: fleetPage };
  if (path === '/alarms') return { section: 'alarms', open: alarmsPage };
  const device = /^\/devices\/([^/]+)$/.exec(path)?.[1];
  if (device) return { section: 'devices', open: () => devicePage(decodeURIComponent(device)) };
  const dashboard = /^\/dashboards\/([^/?]+)(\?edit)?$/.exec(path);
  if (dashboard?.[1]) {
    const id = decodeURIComponent(dashboard[1]);
    const edit = dashboard[2] === '?edit';
    return { section: 'dashboards', open: async () => (await import('./pages/dashboard.js')).dashboardPage(id, edit) };
  }
  const deployment = /^\/ota\/deployments\/([^/]+)$/.exec(path)?.[1];
  if (deployment) {
    const id = decodeURIComponent(deployment);
    return { section: 'ota', open: async () => (await import('./pages/ota-deployment.js')).otaDeploymentPage(id) };
  }
  return Object.hasOwn(PAGES, path) ? PAGES[path] : undefined;
}
