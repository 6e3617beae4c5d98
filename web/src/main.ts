/** The dashboard: sign-in, fleet, device and alarm pages over hash routes (#/devices/<id>). */
import './style.css';
import { can, currentRole, currentSession, finishOidcSignIn, get, listDashboards, loadRole, onSessionRenewed, onSignOut, signOutOnServer, type Page, type Alarm, type Session } from './api.js';
import { debounce, h, replaceChildren } from './dom.js';
import { live } from './live.js';
import { registerServiceWorker } from './pwa/register.js';
import { fleetPage } from './pages/fleet.js';
import { signInPage } from './pages/sign-in.js';
import { route } from './routes.js';

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
/** Counts renders: a page whose chunk arrives after a later render is dropped. */
let renders = 0;
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
  const seq = ++renders;
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
  let target = route(path);
  if (!target) {
    history.replaceState(null, '', '#/devices');
    target = { section: 'devices', open: fleetPage };
  }
  for (const a of shell.header.querySelectorAll<HTMLAnchorElement>('a[data-nav]')) {
    if (a.dataset.nav === target.section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const opened = target.open();
  if (!(opened instanceof Promise)) {
    show(shell.main, opened);
    return;
  }
  // A page in a chunk of its own, fetched on its first visit (routes.ts).
  const main = shell.main;
  replaceChildren(main, h('p', { class: 'hint', role: 'status' }, 'Loading…'));
  opened.then(
    (view) => {
      // Navigated elsewhere (or signed out) while the chunk loaded: this view is not wanted.
      if (seq !== renders) view.dispose?.();
      else show(main, view);
    },
    (err: unknown) => {
      if (seq === renders) show(main, loadFailedView(err));
    },
  );
}

function show(main: HTMLElement, view: View): void {
  replaceChildren(main, view.el);
  document.title = `${view.title} · Continuum`;
  current = view;
}

/**
 * A page's chunk failed to load: offline before the service worker kept it, or the platform was
 * upgraded while this tab was open (the old build's hashed chunk names are gone). A reload fetches
 * index.html, hence the current build.
 */
function loadFailedView(err: unknown): View {
  const reason = err instanceof Error ? err.message : String(err);
  const el = h(
    'section',
    { class: 'card' },
    h('h1', {}, 'This page could not be loaded'),
    h('p', { class: 'form-error', role: 'alert' }, navigator.onLine ? 'The dashboard may have been updated since this tab was opened.' : 'You are offline.'),
    h('p', { class: 'hint' }, reason),
    h('button', { type: 'button', onclick: () => location.reload() }, 'Reload'),
  );
  return { title: 'Not loaded', el };
}

window.addEventListener('hashchange', () => render());
render();
registerServiceWorker();
