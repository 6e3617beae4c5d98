/** The dashboard: sign-in, fleet, device and alarm pages over hash routes (#/devices/<id>). */
import './style.css';
import { can, currentRole, currentSession, finishOidcSignIn, get, listDashboards, loadRole, onSessionRenewed, onSignOut, signOutOnServer, type Page, type Alarm, type Session } from './api.js';
import { debounce, h, replaceChildren } from './dom.js';
import { live } from './live.js';
import { accountPage } from './pages/account.js';
import { alarmsPage } from './pages/alarms.js';
import { auditPage } from './pages/audit.js';
import { customersPage } from './pages/customers.js';
import { grantsPage } from './pages/grants.js';
import { groupsPage } from './pages/groups.js';
import { rolesPage } from './pages/roles.js';
import { tenantsPage } from './pages/tenants.js';
import { dashboardPage } from './pages/dashboard.js';
import { dashboardsPage } from './pages/dashboards.js';
import { devicePage } from './pages/device.js';
import { fleetPage } from './pages/fleet.js';
import { mapPage } from './pages/map.js';
import { otaPage } from './pages/ota.js';
import { otaDeploymentPage } from './pages/ota-deployment.js';
import { profilesPage } from './pages/profiles.js';
import { rulesHelpPage } from './pages/help-rules.js';
import { rulesPage } from './pages/rules.js';
import { registerServiceWorker } from './pwa/register.js';
import { signInPage } from './pages/sign-in.js';
import { usersPage } from './pages/users.js';

export interface View {
  readonly title: string;
  readonly el: HTMLElement;
  dispose?(): void;
}

const root = document.getElementById('app') as HTMLElement;
let current: View | undefined;
let expiryTimer: ReturnType<typeof setTimeout> | undefined;
let signOutReason: string | undefined;
let roleLoading = false;
/** Set by a fresh sign-in: where to land is decided once the role is known. */
let landing = false;
let shell: { main: HTMLElement; alarmCount: HTMLElement; liveState: HTMLElement; header: HTMLElement; dispose(): void } | undefined;

export function navigate(hash: string): void {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function buildShell(email: string): NonNullable<typeof shell> {
  const main = h('main', { id: 'main', tabindex: '-1' });
  const alarmCount = h('span', { class: 'count', 'aria-live': 'polite' });
  const liveState = h('span', { class: 'live-state', role: 'status' }, 'Connecting…');
  // Each page only for a role that may read it (the API refuses the rest anyway); a customer user gets Fleet, Alarms and Dashboards.
  const customerUser = currentRole() === 'customer-user';
  const link = (section: string, text: string, permission: string, ...extra: HTMLElement[]): HTMLElement | null =>
    can(permission) ? h('a', { href: `#/${section}`, 'data-nav': section }, text, ...extra) : null;
  const nav = h(
    'nav',
    { 'aria-label': 'Main' },
    link('devices', 'Fleet', 'devices:read'),
    link('alarms', 'Alarms ', 'alarms:read', alarmCount),
    link('dashboards', 'Dashboards', 'dashboards:read'),
    customerUser ? null : link('map', 'Map', 'devices:read'),
    link('rules', 'Rules', 'rules:read'),
    link('profiles', 'Profiles', 'profiles:read'),
    link('groups', 'Groups', 'groups:read'),
    customerUser ? null : link('ota', 'Firmware', 'ota:read'),
    link('customers', 'Customers', 'customers:read'),
    link('users', 'Users', 'users:read'),
    link('roles', 'Roles', 'roles:read'),
    link('grants', 'Grants', 'grants:read'),
    link('tenants', 'Tenants', 'tenants:read'),
    link('audit', 'Audit', 'audit:read'),
  );
  const signOutButton = h('button', { type: 'button', class: 'link', onclick: () => void signOutNow(signOutButton) }, 'Sign out');
  const skip = h('a', { class: 'skip-link', href: '#main', onclick: (e: Event) => { e.preventDefault(); main.focus(); } }, 'Skip to content');
  const header = h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: '#/devices' }, 'Continuum'),
    nav,
    h('div', { class: 'who' }, liveState, h('span', { class: 'email' }, email), h('a', { href: '#/account', 'data-nav': 'account' }, 'My account'), signOutButton),
  );
  replaceChildren(root, skip, header, main);
  const offState = live.onState((state) => {
    liveState.textContent = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Reconnecting…';
    liveState.className = `live-state live-${state}`;
  });
  const refreshCount = debounce(() => {
    get<Page<Alarm>>('/api/alarms?status=active&limit=1')
      .then((page) => {
        alarmCount.textContent = page.total > 0 ? String(page.total) : '';
        alarmCount.setAttribute('aria-label', `${page.total} active`);
        alarmCount.title = `${page.total} active alarms`;
      })
      .catch(() => undefined);
  }, 300);
  refreshCount();
  const offAlarms = live.subscribe({ type: 'alarms' }, () => refreshCount());
  return {
    main,
    alarmCount,
    liveState,
    header,
    dispose: () => {
      offState();
      offAlarms();
    },
  };
}

/** The server revokes the session first, so the token is worthless even if it was copied. */
async function signOutNow(button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  await signOutOnServer();
  sessionStorage.clear();
  teardown('signed-out');
}

function armExpiry(session: Session): void {
  if (expiryTimer !== undefined) clearTimeout(expiryTimer);
  expiryTimer = setTimeout(() => {
    sessionStorage.clear();
    teardown('expired');
  }, Math.min(Math.max(session.expiresAt - Date.now(), 0), 2_147_000_000));
}

// A password change answers a new token: the live socket and the expiry follow it.
onSessionRenewed((session) => {
  armExpiry(session);
  live.renew();
});

function teardown(reason: string | undefined): void {
  signOutReason = reason;
  sessionStorage.removeItem('continuum.role');
  current?.dispose?.();
  current = undefined;
  shell?.dispose();
  shell = undefined;
  live.stop();
  if (expiryTimer !== undefined) clearTimeout(expiryTimer);
  if (location.hash && location.hash !== '#/') location.hash = '#/';
  else render();
}

onSignOut((reason) => teardown(reason));

function render(): void {
  const session = currentSession();
  current?.dispose?.();
  current = undefined;
  if (!session) {
    shell?.dispose();
    shell = undefined;
    live.stop();
    // Back from single sign-on: a one-time code in the fragment, redeemed (and removed from the address bar) at once.
    const oidcCode = /^#\/oidc\?code=([A-Za-z0-9_-]+)$/.exec(location.hash)?.[1];
    if (oidcCode) {
      history.replaceState(null, '', '#/devices');
      landing = true;
      finishOidcSignIn(oidcCode)
        .then(() => render())
        .catch((err: unknown) => {
          signOutReason = undefined;
          render();
          const alert = root.querySelector('.form-error');
          if (alert) alert.textContent = err instanceof Error ? err.message : String(err);
        });
      return;
    }
    const view = signInPage(signOutReason, () => {
      signOutReason = undefined;
      landing = true;
      navigate('#/devices');
    });
    replaceChildren(root, view.el);
    document.title = `${view.title} · Continuum`;
    current = view;
    return;
  }
  // The role decides which controls pages show: fetch it once per session before the first page.
  if (!currentRole()) {
    if (!roleLoading) {
      roleLoading = true;
      loadRole()
        .catch(() => undefined)
        .finally(() => {
          roleLoading = false;
          if (currentSession()) render();
        });
    }
    return;
  }
  // A customer user starts on its dashboards: the first assigned one, or the (empty) list.
  if (landing) {
    landing = false;
    if (currentRole() === 'customer-user') {
      listDashboards()
        .then(({ items }) => navigate(items[0] ? `#/dashboards/${encodeURIComponent(items[0].id)}` : '#/dashboards'))
        .catch(() => navigate('#/dashboards'));
      return;
    }
  }
  if (!shell) {
    live.start();
    shell = buildShell(session.email);
    armExpiry(session);
  }
  const path = location.hash.replace(/^#/, '') || '/';
  const deviceMatch = /^\/devices\/([^/]+)$/.exec(path);
  const deploymentMatch = /^\/ota\/deployments\/([^/]+)$/.exec(path);
  const dashboardMatch = /^\/dashboards\/([^/?]+)(\?edit)?$/.exec(path);
  let view: View;
  let section = 'devices';
  if (deviceMatch?.[1]) view = devicePage(decodeURIComponent(deviceMatch[1]));
  else if (path === '/alarms') {
    view = alarmsPage();
    section = 'alarms';
  } else if (path === '/map') {
    view = mapPage();
    section = 'map';
  } else if (path === '/dashboards') {
    view = dashboardsPage();
    section = 'dashboards';
  } else if (dashboardMatch?.[1]) {
    view = dashboardPage(decodeURIComponent(dashboardMatch[1]), dashboardMatch[2] === '?edit');
    section = 'dashboards';
  } else if (path === '/rules') {
    view = rulesPage();
    section = 'rules';
  } else if (path === '/ota') {
    view = otaPage();
    section = 'ota';
  } else if (deploymentMatch?.[1]) {
    view = otaDeploymentPage(decodeURIComponent(deploymentMatch[1]));
    section = 'ota';
  } else if (path === '/profiles') {
    view = profilesPage();
    section = 'profiles';
  } else if (path === '/help/rules') {
    view = rulesHelpPage();
    section = 'rules';
  } else if (path === '/users') {
    view = usersPage();
    section = 'users';
  } else if (path === '/tenants') {
    view = tenantsPage();
    section = 'tenants';
  } else if (path === '/customers') {
    view = customersPage();
    section = 'customers';
  } else if (path === '/groups') {
    view = groupsPage();
    section = 'groups';
  } else if (path === '/grants') {
    view = grantsPage();
    section = 'grants';
  } else if (path === '/roles') {
    view = rolesPage();
    section = 'roles';
  } else if (path === '/audit') {
    view = auditPage();
    section = 'audit';
  } else if (path === '/account') {
    view = accountPage();
    section = 'account';
  } else {
    if (path !== '/devices') {
      history.replaceState(null, '', '#/devices');
    }
    view = fleetPage();
  }
  for (const a of shell.header.querySelectorAll<HTMLAnchorElement>('a[data-nav]')) {
    if (a.dataset.nav === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  replaceChildren(shell.main, view.el);
  document.title = `${view.title} · Continuum`;
  current = view;
}

window.addEventListener('hashchange', () => render());
render();
registerServiceWorker();
