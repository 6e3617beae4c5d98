/**
 * Stored XSS (issue 12 item 1) in Chromium against a whole platform: a gateway on the embedded
 * broker (MQTT.js) names a child with an HTML payload and gives it a position; more payloads sit
 * in a label, a client attribute, a telemetry key, a rule name, an alarm type, a command method,
 * a dashboard name and a widget title. Every page that shows them is visited (markers hovered so
 * their tooltips open) and no payload may run: each one would record itself in `window.xss`, and
 * its image request would reach a recorded route. A securitypolicyviolation means the browser
 * parsed markup (the CSP stopped it): that fails too. The text must show literally.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { connectMqtt, eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWeb, openBrowser, signIn, type Browser } from './browser-support.js';

/** Markup that, if ever parsed, requests /xss-<tag> and runs an inline handler recording <tag>. */
const payload = (tag: string): string => `<img src="/xss-${tag}" onerror="window.xss.push('${tag}')">${tag}`;
const CHILD = payload('child-name');
const LABEL = payload('label');
const ATTRIBUTE = payload('attribute');
const KEY = payload('key');
const RULE = payload('rule');
const ALARM = payload('alarm');
const METHOD = payload('method');
const DASHBOARD = payload('dashboard');
const WIDGET = payload('widget');

let tp: TestPlatform;
let b: Browser;
let child: { id: string };
let labelled: { id: string };
let dashboardId: string;
/** Requests for /xss-*: an <img> payload was parsed. */
const payloadRequests: string[] = [];
const dialogs: string[] = [];

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
  // Every device with temperature > 50 raises an alarm whose type (and rule name) is a payload.
  const rule = await tp.api.request('POST', '/api/rules', { name: RULE, condition: 'temperature > 50', actions: [{ type: 'alarm', alarmType: ALARM, severity: 'major', details: { note: payload('details') } }] });
  assert.equal(rule.status, 201, JSON.stringify(rule.body));

  const gateway = await tp.api.createDevice('xss-gateway', { gateway: true });
  const gw = await connectMqtt(tp.ports.mqtt, { username: gateway.accessToken, protocolVersion: 5 });
  try {
    await gw.publishAsync('v1/gateway/connect', JSON.stringify({ device: CHILD }), { qos: 1 });
    await gw.publishAsync('v1/gateway/telemetry', JSON.stringify({ [CHILD]: { latitude: 48.85, longitude: 2.35, temperature: 70, [KEY]: 1 } }), { qos: 1 });
    await gw.publishAsync('v1/gateway/attributes', JSON.stringify({ [CHILD]: { note: ATTRIBUTE } }), { qos: 1 });
  } finally {
    await gw.endAsync();
  }
  const found = await tp.api.request<{ items: { id: string; name: string }[] }>('GET', `/api/devices?search=${encodeURIComponent('child-name')}`);
  const made = found.body.items.find((d) => d.name === CHILD);
  assert.ok(made, `the gateway created its child: ${JSON.stringify(found.body)}`);
  child = made;
  // A geofence away from the marker, so both can be hovered.
  const fence = await tp.api.request('POST', `/api/devices/${child.id}/attributes/server`, { geofence: [[48.6, 2.0], [48.6, 2.1], [48.7, 2.1], [48.7, 2.0]] });
  assert.equal(fence.status, 200, JSON.stringify(fence.body));
  labelled = await tp.api.createDevice('xss-labelled', { label: LABEL });
  const command = await tp.api.request('POST', `/api/devices/${child.id}/commands`, { method: METHOD, params: { text: payload('params') }, persistent: true });
  assert.equal(command.status, 201, JSON.stringify(command.body));
  const dashboard = await tp.api.request<{ id: string }>('POST', '/api/dashboards', {
    name: DASHBOARD,
    widgets: [
      { type: 'value', title: WIDGET, deviceId: child.id, keys: ['temperature'], x: 0, y: 0, w: 4, h: 2 },
      { type: 'map', title: payload('map-widget'), x: 4, y: 0, w: 8, h: 4 },
    ],
  });
  assert.equal(dashboard.status, 201, JSON.stringify(dashboard.body));
  dashboardId = dashboard.body.id;
  await eventually(async () => {
    const alarms = await tp.api.request<{ items: { type: string }[] }>('GET', '/api/alarms');
    return alarms.body.items.some((a) => a.type === ALARM) ? true : undefined;
  }, 10_000, 'the rule raised its alarm');

  b = await openBrowser();
  await b.context.addInitScript(() => {
    const w = window as unknown as { xss: string[]; violations: string[] };
    w.xss = [];
    w.violations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
  });
  await b.context.route(/\/xss-/, (route) => {
    payloadRequests.push(route.request().url());
    return route.fulfill({ status: 404, body: '' });
  });
  b.page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await signIn(b.page, tp.baseUrl);
});

after(async () => {
  await b?.close();
  await tp?.stop();
});

/** Nothing ran, nothing was parsed as markup, no console error. */
async function assertNothingRan(page: Page, where: string): Promise<void> {
  const state = await page.evaluate(() => {
    const w = window as unknown as { xss: string[]; violations: string[] };
    return { ran: w.xss, violations: w.violations };
  });
  assert.deepEqual(state.ran, [], `${where}: a payload ran`);
  assert.deepEqual(state.violations, [], `${where}: markup was parsed (CSP violation)`);
  assert.deepEqual(payloadRequests, [], `${where}: a payload's image was requested`);
  assert.deepEqual(dialogs, [], `${where}: a dialog opened`);
  assert.deepEqual(b.errors, [], `${where}: console errors`);
}

async function visit(page: Page, hash: string): Promise<void> {
  await page.goto(`${tp.baseUrl}/${hash}`);
}

/** Hovers the centre of an SVG shape and returns the text of the tooltip that opens. */
async function hoverTooltip(page: Page, shape: string): Promise<string> {
  await page.locator(shape).first().hover({ force: true });
  const tooltip = page.locator('.leaflet-tooltip').last();
  await tooltip.waitFor();
  return tooltip.innerText();
}

test('regression: a gateway child named <img onerror> runs script in the admin\'s session from the map tooltip — every page shows device and user text as text', async () => {
  const { page } = b;

  await visit(page, '#/devices');
  await page.getByText(CHILD, { exact: true }).waitFor();
  await page.getByText(LABEL, { exact: true }).waitFor();
  await assertNothingRan(page, 'fleet');

  await visit(page, `#/devices/${encodeURIComponent(child.id)}`);
  await page.getByRole('heading', { name: CHILD }).waitFor();
  await page.getByText(KEY, { exact: true }).first().waitFor();
  await page.getByText(ATTRIBUTE).first().waitFor();
  await page.getByText(ALARM).first().waitFor();
  await page.getByText(METHOD).first().waitFor();
  assert.equal(await page.title(), `${CHILD} · Continuum`);
  await assertNothingRan(page, 'device page');

  await visit(page, `#/devices/${encodeURIComponent(labelled.id)}`);
  await page.getByText(LABEL).first().waitFor();
  await assertNothingRan(page, 'labelled device page');

  await visit(page, '#/map');
  await page.locator('.map-page[data-loaded="true"]').waitFor();
  const markerText = await hoverTooltip(page, `path[data-device-id="${child.id}"]`);
  await assertNothingRan(page, 'map marker tooltip');
  assert.equal(markerText, CHILD);
  const fenceText = await hoverTooltip(page, 'path[stroke="#b06000"]');
  await assertNothingRan(page, 'map geofence tooltip');
  assert.equal(fenceText, `Geofence of ${CHILD}`);
  await page.locator(`path[data-device-id="${child.id}"]`).click({ force: true });
  await page.locator('.leaflet-popup').getByRole('link', { name: CHILD }).waitFor();
  await assertNothingRan(page, 'map popup');

  await visit(page, '#/alarms');
  await page.getByText(ALARM, { exact: true }).first().waitFor();
  await assertNothingRan(page, 'alarms');

  await visit(page, '#/dashboards');
  await page.getByRole('link', { name: DASHBOARD }).waitFor();
  await assertNothingRan(page, 'dashboards');

  await visit(page, `#/dashboards/${encodeURIComponent(dashboardId)}`);
  await page.getByText(WIDGET, { exact: true }).first().waitFor();
  await page.locator('.widget-body[data-markers="1"]').waitFor();
  // The grid sizes the map widget: its marker must sit inside the map's box (Leaflet measured the
  // box after gridstack placed it), or hovering it would open nothing.
  await eventually(async () => {
    const [box, marker] = await Promise.all([page.locator('.widget-map').boundingBox(), page.locator('.widget-map path.leaflet-interactive').first().boundingBox()]);
    if (!box || !marker) return undefined;
    const [cx, cy] = [marker.x + marker.width / 2, marker.y + marker.height / 2];
    return cx > box.x && cx < box.x + box.width && cy > box.y && cy < box.y + box.height ? true : undefined;
  }, 10_000, 'the map widget marker lies inside the grid-sized map');
  const widgetText = await hoverTooltip(page, '.widget-map path.leaflet-interactive');
  await assertNothingRan(page, 'dashboard');
  assert.equal(widgetText, CHILD);
  assert.equal(await page.title(), `${DASHBOARD} · Continuum`);

  await visit(page, '#/rules');
  await page.getByText(RULE, { exact: true }).first().waitFor();
  await assertNothingRan(page, 'rules');
});
