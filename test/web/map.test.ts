/**
 * The map page in Chromium against a whole platform: positions from telemetry and from server
 * attributes, status colours (online, offline, alarm), popups linking to the device, a track
 * over a chosen range, geofence polygons, live moves, and no tile requests unless configured.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { loadConfig } from '../../src/apps/config.js';
import { webRoutes } from '../../src/api/web.js';
import { connectMqtt, eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWeb, openBrowser, run, signIn, type Browser } from './browser-support.js';

let tp: TestPlatform;
let b: Browser;
const tileRequests: string[] = [];
let truck: { id: string; accessToken: string };
let depot: { id: string };
let boiler: { id: string; accessToken: string };

async function publish(token: string, payload: unknown): Promise<void> {
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', token, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify(payload)]);
}

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
  truck = await tp.api.createDevice('truck-1');
  depot = await tp.api.createDevice('depot');
  boiler = await tp.api.createDevice('boiler-room');
  await tp.api.createDevice('no-position-sensor');
  const now = Date.now();
  // A drive north-east over the last three hours, one fix every 20 minutes.
  await publish(truck.accessToken, Array.from({ length: 10 }, (_, i) => ({ ts: now - (9 - i) * 20 * 60_000, values: { latitude: 48.85 + i * 0.01, longitude: 2.35 + i * 0.01 } })));
  // The depot never reports: its position is a server attribute, its geofence too.
  const attrs = await tp.api.request('POST', `/api/devices/${depot.id}/attributes/server`, { lat: 48.8, lon: 2.3, geofence: [[48.79, 2.29], [48.79, 2.31], [48.81, 2.31], [48.81, 2.29]] });
  assert.equal(attrs.status, 200, JSON.stringify(attrs.body));
  const rule = await tp.api.request('POST', '/api/rules', { name: 'too hot', deviceId: boiler.id, condition: 'temperature > 50', actions: [{ type: 'alarm', alarmType: 'Overheat', severity: 'major' }] });
  assert.equal(rule.status, 201, JSON.stringify(rule.body));
  await publish(boiler.accessToken, { lat: 48.9, lon: 2.4, temperature: 70 });
  b = await openBrowser();
  await b.context.route(/\/tiles\//, (route) => {
    tileRequests.push(route.request().url());
    return route.abort();
  });
});

after(async () => {
  await b?.close();
  await tp?.stop();
});

test('GET /api/ui-config answers without a token, null tiles by default, and --map-tile-url sets them', async () => {
  const res = await fetch(`${tp.baseUrl}/api/ui-config`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { tileUrl: null, tileAttribution: null });
  const config = loadConfig({ env: { CONTINUUM_WEB_TILE_ATTRIBUTION: '© Example' }, flags: { 'map-tile-url': 'https://tiles.example.org/{z}/{x}/{y}.png' } });
  assert.equal(config.web.tileUrl, 'https://tiles.example.org/{z}/{x}/{y}.png');
  assert.equal(config.web.tileAttribution, '© Example');
  const app = Fastify();
  await app.register(webRoutes, { root: '/nonexistent', ui: config.web });
  const answer = await app.inject({ method: 'GET', url: '/api/ui-config' });
  assert.deepEqual(answer.json(), { tileUrl: 'https://tiles.example.org/{z}/{x}/{y}.png', tileAttribution: '© Example' });
  await app.close();
});

test('the map shows devices with a position as markers coloured by status, a geofence, and no tiles offline', async () => {
  await signIn(b.page, tp.baseUrl);
  await b.page.getByRole('link', { name: 'Map', exact: true }).click();
  await b.page.getByRole('heading', { name: 'Map', exact: true }).waitFor();
  await b.page.locator('.map-page[data-loaded="true"]').waitFor();
  assert.match(await b.page.locator('.map-page > p.hint').first().innerText(), /3 of 4 devices with a position/);
  const status = (id: string) => b.page.locator(`path[data-device-id="${id}"]`).getAttribute('data-status');
  await eventually(async () => ((await status(boiler.id)) === 'alarm' ? true : undefined), 10_000, 'boiler in alarm');
  assert.equal(await status(truck.id), 'offline');
  assert.equal(await status(depot.id), 'offline');
  // Newest fix of the truck, from telemetry; the depot's from its server attributes.
  const rows = b.page.locator('table.map-list tbody tr');
  assert.match(await rows.filter({ hasText: 'truck-1' }).innerText(), /48\.94, 2\.44/);
  assert.match(await rows.filter({ hasText: 'depot' }).innerText(), /48\.8, 2\.3/);
  assert.equal(await b.page.locator('.map-canvas.no-tiles').count(), 1);
  assert.equal(await b.page.locator('img.leaflet-tile').count(), 0);
  assert.deepEqual(tileRequests, []);
  // The geofence polygon (a closed path that is not a marker).
  assert.equal(await b.page.locator('path.leaflet-interactive:not([data-device-id])').count(), 1);
  await b.shot('20-map');
});

test('a marker popup links to the device page', async () => {
  await b.page.getByRole('button', { name: 'Show truck-1' }).click();
  const popup = b.page.locator('.leaflet-popup');
  await popup.getByRole('link', { name: 'truck-1' }).click();
  await b.page.getByRole('heading', { name: 'truck-1' }).waitFor();
});

test('markers move live and change colour when the device connects', async () => {
  await b.page.goto(`${tp.baseUrl}/#/map`);
  await b.page.locator('.map-page[data-loaded="true"]').waitFor();
  await b.page.locator('.map-canvas[data-live="ready"]').waitFor();
  const row = b.page.locator('table.map-list tbody tr', { hasText: 'truck-1' });
  const client = await connectMqtt(tp.ports.mqtt, { username: truck.accessToken });
  try {
    await client.publishAsync('v1/devices/me/telemetry', JSON.stringify({ latitude: 49.01, longitude: 2.55 }), { qos: 1 });
    await eventually(async () => (/49\.01, 2\.55/.test(await row.innerText()) ? true : undefined), 10_000, 'live position');
    await eventually(async () => ((await b.page.locator(`path[data-device-id="${truck.id}"]`).getAttribute('data-status')) === 'online' ? true : undefined), 10_000, 'online colour');
  } finally {
    await client.endAsync();
  }
});

test('the track of a device over a chosen range is drawn from its history', async () => {
  await b.page.getByLabel('Track of').selectOption({ label: 'truck-1' });
  await b.page.getByLabel('Over').selectOption('1h');
  await b.page.getByRole('button', { name: 'Show track' }).click();
  // 1 hour: the fixes 0, 20 and 40 minutes old plus the live one.
  await b.page.getByText('4 positions of truck-1 over 1 hour.').waitFor();
  await b.page.getByLabel('Over').selectOption('24h');
  await b.page.getByRole('button', { name: 'Show track' }).click();
  await b.page.getByText('11 positions of truck-1 over 24 hours.').waitFor();
  assert.equal(await b.page.locator('path.map-track').count(), 1);
  await b.shot('21-map-track');
  await b.page.getByRole('button', { name: 'Clear track' }).click();
  assert.equal(await b.page.locator('path.map-track').count(), 0);
  assert.deepEqual(b.errors, []);
});
