/** The dashboard: sign-in, fleet, device and alarm pages over hash routes (#/devices/<id>). */
import './style.css';
import { currentRole, currentSession, get, loadRole, onSignOut, type Page, type Alarm } from './api.js';
import { debounce, h, replaceChildren } from './dom.js';
import { live } from './live.js';
import { alarmsPage } from './pages/alarms.js';
import { dashboardPage } from './pages/dashboard.js';
import { dashboardsPage } from './pages/dashboards.js';
import { devicePage } from './pages/device.js';
import { fleetPage } from './pages/fleet.js';
import { mapPage } from './pages/map.js';
import { rulesPage } from './pages/rules.js';
import { registerServiceWorker } from './pwa/register.js';
import { signInPage } from './pages/sign-in.js';

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
let shell: { main: HTMLElement; alarmCount: HTMLElement; liveState: HTMLElement; nav: HTMLElement; dispose(): void } | undefined;

export function navigate(hash: string): void {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function buildShell(email: string): NonNullable<typeof shell> {
  const main = h('main', { id: 'main', tabindex: '-1' });
  const alarmCount = h('span', { class: 'count', 'aria-live': 'polite' });
  const liveState = h('span', { class: 'live-state', role: 'status' }, 'Connecting…');
  const nav = h(
    'nav',
    { 'aria-label': 'Main' },
    h('a', { href: '#/devices', 'data-nav': 'devices' }, 'Fleet'),
    h('a', { href: '#/alarms', 'data-nav': 'alarms' }, 'Alarms ', alarmCount),
    h('a', { href: '#/dashboards', 'data-nav': 'dashboards' }, 'Dashboards'),
    h('a', { href: '#/map', 'data-nav': 'map' }, 'Map'),
    h('a', { href: '#/rules', 'data-nav': 'rules' }, 'Rules'),
  );
  const skip = h('a', { class: 'skip-link', href: '#main', onclick: (e: Event) => { e.preventDefault(); main.focus(); } }, 'Skip to content');
  const header = h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: '#/devices' }, 'Continuum'),
    nav,
    h('div', { class: 'who' }, liveState, h('span', { class: 'email' }, email), h('button', { type: 'button', class: 'link', onclick: () => signOutNow() }, 'Sign out')),
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
    nav,
    dispose: () => {
      offState();
      offAlarms();
    },
  };
}

function signOutNow(): void {
  sessionStorage.clear();
  teardown('signed-out');
}

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
    const view = signInPage(signOutReason, () => {
      signOutReason = undefined;
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
  if (!shell) {
    live.start();
    shell = buildShell(session.email);
    if (expiryTimer !== undefined) clearTimeout(expiryTimer);
    expiryTimer = setTimeout(() => {
      sessionStorage.clear();
      teardown('expired');
    }, Math.min(Math.max(session.expiresAt - Date.now(), 0), 2_147_000_000));
  }
  const path = location.hash.replace(/^#/, '') || '/';
  const deviceMatch = /^\/devices\/([^/]+)$/.exec(path);
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
  } else {
    if (path !== '/devices') {
      history.replaceState(null, '', '#/devices');
    }
    view = fleetPage();
  }
  for (const a of shell.nav.querySelectorAll('a')) {
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
