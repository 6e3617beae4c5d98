/**
 * Screenshot sweep: every page of the dashboard's router (web/src/main.ts), with some data in
 * it, at 1280 px and at 390 px. Each page must show its main heading, log no console error, and
 * (at 390 px) not scroll sideways. The screenshots go to
 * test-output/screenshots/<nn>-<page>-<width>.png for a person to look at.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWeb, horizontalOverflow, openBrowser, run, SHOTS, signIn, type Browser } from './browser-support.js';

let tp: TestPlatform;
let b: Browser;
const ids = { device: '', dashboard: '' };

interface Visit {
  readonly hash: () => string;
  readonly name: string;
  readonly heading: string | RegExp;
  /** What shows the page loaded its data (not just its heading). */
  readonly ready?: (page: Page) => Promise<unknown>;
}

/** Every route of web/src/main.ts (the sign-in page is visited signed out, last). */
const VISITS: Visit[] = [
  { hash: () => '#/devices', name: 'fleet', heading: 'Devices', ready: (p) => p.locator('.fleet-counts', { hasText: 'in total' }).waitFor() },
  { hash: () => `#/devices/${ids.device}`, name: 'device', heading: 'greenhouse-sensor-with-a-long-name-01', ready: (p) => p.locator('.device[data-chart]').waitFor() },
  { hash: () => '#/alarms', name: 'alarms', heading: 'Alarms', ready: (p) => p.locator('.alarms-page[data-live="ready"]').waitFor() },
  { hash: () => '#/dashboards', name: 'dashboards', heading: 'Dashboards', ready: (p) => p.getByRole('link', { name: 'Greenhouse overview' }).waitFor() },
  { hash: () => `#/dashboards/${ids.dashboard}`, name: 'dashboard', heading: 'Greenhouse overview', ready: (p) => p.locator('.dashboard[data-loaded]').waitFor() },
  { hash: () => `#/dashboards/${ids.dashboard}?edit`, name: 'dashboard-edit', heading: /Greenhouse overview/, ready: (p) => p.locator('.dashboard[data-loaded]').waitFor() },
  { hash: () => '#/map', name: 'map', heading: 'Map', ready: (p) => p.locator('.map-page[data-loaded="true"]').waitFor() },
  { hash: () => '#/rules', name: 'rules', heading: 'Rules', ready: (p) => p.locator('.rules-page[data-loaded="true"]').waitFor() },
  { hash: () => '#/help/rules', name: 'rules-help', heading: 'Writing rules', ready: (p) => p.locator('.help[data-loaded="true"]').waitFor() },
  { hash: () => '#/profiles', name: 'profiles', heading: 'Device profiles', ready: (p) => p.locator('.profiles-page[data-loaded="true"]').waitFor() },
  { hash: () => '#/groups', name: 'groups', heading: 'Groups', ready: (p) => p.locator('.groups-page[data-loaded="true"]').waitFor() },
  { hash: () => '#/customers', name: 'customers', heading: 'Customers', ready: (p) => p.locator('.customers-page[data-loaded="true"]').waitFor() },
  { hash: () => '#/users', name: 'users', heading: 'Users', ready: (p) => p.locator('.users-page[data-loaded="true"]').waitFor() },
  { hash: () => '#/roles', name: 'roles', heading: 'Roles', ready: (p) => p.locator('.roles-page[data-loaded="true"]').waitFor() },
  { hash: () => '#/grants', name: 'grants', heading: 'Grants', ready: (p) => p.locator('.grants-page[data-loaded="true"]').waitFor() },
  { hash: () => '#/tenants', name: 'tenants', heading: 'Tenants', ready: (p) => p.locator('.tenants-page[data-loaded="true"]').waitFor() },
  { hash: () => '#/audit', name: 'audit', heading: 'Audit log', ready: (p) => p.locator('.audit-page[data-loaded="true"]').waitFor() },
  { hash: () => '#/account', name: 'account', heading: 'My account', ready: (p) => p.locator('.account-page .card[data-loaded="true"]').waitFor() },
];

async function ok(res: Promise<{ status: number; body: unknown }>, what: string): Promise<unknown> {
  const { status, body } = await res;
  assert.ok(status >= 200 && status < 300, `${what}: ${status} ${JSON.stringify(body)}`);
  return body;
}

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
  const { api } = tp;
  const profile = (await ok(api.request('POST', '/api/profiles', { name: 'Greenhouse sensor', telemetryKeys: [{ key: 'temperature', type: 'number', unit: '°C' }, { key: 'humidity', type: 'number', unit: '%' }] }), 'profile')) as { id: string };
  const device = await api.createDevice('greenhouse-sensor-with-a-long-name-01', { label: 'north bay, bench 3', profileId: profile.id });
  ids.device = device.id;
  await api.createDevice('pump-02');
  await api.createDevice('edge-gateway', { gateway: true });
  // A few points over the last hour, by MQTT as a device sends them.
  const now = Date.now();
  const points = Array.from({ length: 12 }, (_, i) => ({ ts: now - (12 - i) * 300_000, values: { temperature: 20 + i / 2, humidity: 60 - i, latitude: 52.37, longitude: 4.89 } }));
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', device.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify(points)]);
  await ok(api.request('POST', '/api/rules', { name: 'too warm', deviceId: device.id, condition: 'temperature > 24', actions: [{ type: 'alarm', alarmType: 'HighTemperature', severity: 'major' }] }), 'rule');
  const group = (await ok(api.request('POST', '/api/groups', { name: 'Greenhouse' }), 'group')) as { id: string };
  await ok(api.request('POST', `/api/groups/${group.id}/devices`, { deviceIds: [device.id] }), 'group members');
  await ok(api.request('POST', '/api/customers', { name: 'Acme Farms' }), 'customer');
  await ok(api.request('POST', '/api/users', { email: 'operator@test.local', password: 'operator-password-1', role: 'operator' }), 'user');
  const dashboard = (await ok(
    api.request('POST', '/api/dashboards', {
      name: 'Greenhouse overview',
      widgets: [
        { type: 'chart', title: 'Temperature', deviceId: device.id, keys: ['temperature'], x: 0, y: 0, w: 6, h: 4 },
        { type: 'value', title: 'Humidity', deviceId: device.id, keys: ['humidity'], x: 6, y: 0, w: 3, h: 2 },
      ],
    }),
    'dashboard',
  )) as { id: string };
  ids.dashboard = dashboard.id;
  b = await openBrowser();
});

after(async () => {
  await b?.close();
  await tp?.stop();
});

for (const width of [1280, 390]) {
  test(`at ${width} px every page shows its heading, logs no error${width < 500 ? ' and does not scroll sideways' : ''}`, async () => {
    await b.page.setViewportSize({ width, height: width < 500 ? 844 : 900 });
    if (width === 1280) await signIn(b.page, tp.baseUrl);
    const failures: string[] = [];
    for (const [i, visit] of VISITS.entries()) {
      b.errors.length = 0;
      await b.page.goto(`${tp.baseUrl}/${visit.hash()}`);
      await b.page.locator('main h1', { hasText: visit.heading }).first().waitFor();
      await visit.ready?.(b.page);
      const nn = String(i + 1).padStart(2, '0');
      await b.page.screenshot({ path: join(SHOTS, `${nn}-${visit.name}-${width}.png`), fullPage: true });
      if (b.errors.length > 0) failures.push(`${visit.name}: console errors ${JSON.stringify(b.errors)}`);
      const { scrollWidth, innerWidth } = await horizontalOverflow(b.page);
      if (width < 500 && scrollWidth > innerWidth) failures.push(`${visit.name}: scrollWidth ${scrollWidth} > ${innerWidth}`);
    }
    if (width === 390) {
      // Last: signed out, the sign-in page.
      await b.page.getByRole('button', { name: 'Sign out' }).click();
      await b.page.getByRole('heading', { name: 'Sign in to Continuum' }).waitFor();
      await b.page.screenshot({ path: join(SHOTS, `${String(VISITS.length + 1).padStart(2, '0')}-sign-in-${width}.png`), fullPage: true });
      const { scrollWidth, innerWidth } = await horizontalOverflow(b.page);
      if (scrollWidth > innerWidth) failures.push(`sign-in: scrollWidth ${scrollWidth} > ${innerWidth}`);
    }
    assert.deepEqual(failures, []);
  });
}
