/**
 * The dashboard's code splitting (web/src/routes.ts, issue 20) in Chromium against a whole
 * platform: the first load is the shell with the fleet and device pages; an admin page's chunk,
 * uPlot, Leaflet and gridstack are fetched only where used, served as hashed, immutable
 * JavaScript under the platform's CSP; a chunk that cannot be loaded shows a way out (reload), and
 * a chunk that arrives after the user moved on does not replace the page they moved to.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Request, Route } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWeb, openBrowser, run, signIn } from './browser-support.js';

let tp: TestPlatform;
let deviceId: string;

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
  const device = await tp.api.createDevice('split-probe');
  deviceId = device.id;
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', device.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify({ temperature: 21.5 })]);
  for (let i = 0; i < 100 && !('temperature' in (await tp.api.request<Record<string, unknown>>('GET', `/api/devices/${deviceId}/telemetry/latest`)).body); i++) await new Promise((r) => setTimeout(r, 100));
});

after(async () => {
  await tp?.stop();
});

/** The built assets a page requested, by name without the hash ("users", "uPlot.esm", "index"). */
function assetNames(requests: readonly Request[]): Set<string> {
  const names = new Set<string>();
  for (const r of requests) {
    const m = /\/assets\/(.+)-[A-Za-z0-9_-]{8,}\.js$/.exec(new URL(r.url()).pathname);
    if (m?.[1]) names.add(m[1]);
  }
  return names;
}

test('the first load is the shell, fleet and device pages; admin pages, uPlot, Leaflet and gridstack load where used', async () => {
  // Service workers blocked: their precache would fetch every chunk, which is what pwa.test.ts checks.
  const b = await openBrowser(undefined, { serviceWorkers: 'block' });
  try {
    const requests: Request[] = [];
    b.page.on('request', (r) => void requests.push(r));
    await signIn(b.page, tp.baseUrl);
    const first = assetNames(requests);
    assert.ok(first.has('index'), `the app bundle: ${[...first].join(' ')}`);
    for (const lazy of ['users', 'tenants', 'roles', 'rules', 'ota', 'dashboard', 'uPlot.esm', 'leaflet-src', 'gridstack']) assert.ok(!first.has(lazy), `${lazy} is not in the fleet page's first load (${[...first].join(' ')})`);

    // A chart page: uPlot comes with it, and the chart is drawn.
    await b.page.goto(`${tp.baseUrl}/#/devices/${deviceId}`);
    await b.page.locator('.device[data-chart="ready"]').waitFor();
    assert.ok(assetNames(requests).has('uPlot.esm'), 'uPlot loaded by the chart');
    assert.ok(await b.page.locator('.device .chart canvas').count() > 0, 'the chart is drawn');
    assert.ok(!assetNames(requests).has('users'));

    // An admin page: its chunk on the first visit, as JavaScript the browser may keep for a year.
    await b.page.goto(`${tp.baseUrl}/#/users`);
    await b.page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    const chunk = requests.find((r) => /\/assets\/users-[A-Za-z0-9_-]{8,}\.js$/.test(r.url()));
    assert.ok(chunk, 'the users page came in a chunk of its own');
    const headers = (await chunk.response())?.headers() ?? {};
    assert.match(headers['content-type'] ?? '', /^text\/javascript/);
    assert.equal(headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(await b.page.locator('nav a[data-nav="users"]').getAttribute('aria-current'), 'page');
    assert.ok(!assetNames(requests).has('leaflet-src') && !assetNames(requests).has('gridstack'), 'no map or composer code on pages without them');
    assert.deepEqual(b.errors, [], 'no console errors and no CSP violation');
  } finally {
    await b.close();
  }
});

test('a page whose chunk cannot be loaded (offline, or a newer build) says so and offers a reload', async () => {
  const b = await openBrowser(undefined, { serviceWorkers: 'block' });
  try {
    await signIn(b.page, tp.baseUrl);
    const rolesChunk = /\/assets\/roles-[A-Za-z0-9_-]{8,}\.js$/;
    await b.page.route(rolesChunk, (route) => route.abort('internetdisconnected'));
    await b.page.goto(`${tp.baseUrl}/#/roles`);
    await b.page.getByRole('heading', { name: 'This page could not be loaded' }).waitFor();
    assert.equal(await b.page.title(), 'Not loaded · Continuum');
    await b.page.unroute(rolesChunk);
    await b.page.getByRole('button', { name: 'Reload' }).click();
    await b.page.getByRole('heading', { name: 'Roles', level: 1 }).waitFor();
  } finally {
    await b.close();
  }
});

test('a chunk that arrives after the user moved on does not replace the page they moved to', async () => {
  const b = await openBrowser(undefined, { serviceWorkers: 'block' });
  try {
    await signIn(b.page, tp.baseUrl);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held!: () => void;
    const holding = new Promise<void>((r) => (held = r));
    await b.page.route(/\/assets\/audit-[A-Za-z0-9_-]{8,}\.js$/, async (route: Route) => {
      held();
      await released;
      await route.continue();
    });
    await b.page.evaluate(() => (location.hash = '#/audit'));
    await holding;
    await b.page.evaluate(() => (location.hash = '#/alarms'));
    await b.page.getByRole('heading', { name: 'Alarms', level: 1 }).waitFor();
    // The audit page, once its chunk ran, is made (it reads the log at once) and then dropped:
    // its read is the sign that the late view went through main.ts's check.
    const auditRead = b.page.waitForRequest(/\/api\/audit\b/);
    release();
    await auditRead;
    await b.page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
    assert.equal(await b.page.getByRole('heading', { name: 'Audit log' }).count(), 0);
    assert.equal(await b.page.locator('main h1').first().innerText(), 'Alarms');
    assert.equal(await b.page.title(), 'Alarms · Continuum');
  } finally {
    await b.close();
  }
});
