/**
 * The dashboard composer and profile controls in a real browser (Debian Chromium, playwright-core):
 * compose a dashboard with a value card and a control bound to a device, save, reload, watch the
 * value change after mosquitto_pub, and press the control: an MQTT.js device receives the command
 * and its answer turns the shown state SUCCESSFUL. Then the same from the device page, where the
 * control comes from the device's profile.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type mqtt from 'mqtt';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ADMIN, connectMqtt, eventually, startTestPlatform, tempDir, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join('test-output', 'screenshots');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let tp: TestPlatform;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
let pump: { id: string; name: string; accessToken: string };
let device: mqtt.MqttClient;
const received: { method: string; params: unknown }[] = [];
const consoleErrors: string[] = [];

async function publish(payload: object): Promise<void> {
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', pump.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify(payload)]);
}

before(async () => {
  await run(process.execPath, [join('web', 'build.mjs')], { timeout: 120_000 });
  assert.ok(existsSync(join('web', 'dist', 'index.html')), 'web/dist was built');
  mkdirSync(SHOTS, { recursive: true });
  tp = await startTestPlatform();
  const profile = await tp.api.request<{ id: string }>('POST', '/api/profiles', {
    name: 'Irrigation pumps',
    controls: [{ label: 'Pump power', kind: 'toggle', method: 'setPump', stateKey: 'pump' }],
  });
  assert.equal(profile.status, 201);
  pump = await tp.api.createDevice('pump-north', { profileId: profile.body.id });
  // The device: answers every command with what it now does, and reports the new state as telemetry.
  device = await connectMqtt(tp.ports.mqtt, { username: pump.accessToken, protocolVersion: 5 });
  device.on('message', (topic, payload) => {
    if (!topic.startsWith('v1/devices/me/rpc/request/')) return;
    const request = JSON.parse(payload.toString()) as { method: string; params: { on?: boolean } };
    received.push(request);
    const on = request.params.on === true;
    void device.publishAsync(`v1/devices/me/rpc/response/${topic.split('/').pop()}`, JSON.stringify({ pump: on ? 'on' : 'off' }), { qos: 1 });
    void device.publishAsync('v1/devices/me/telemetry', JSON.stringify({ pump: on }), { qos: 1 });
  });
  await device.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
  userDataDir = tempDir();
  context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 } });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  await page.goto(`${tp.baseUrl}/`);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
});

after(async () => {
  await device?.endAsync();
  await context?.close();
  await tp?.stop();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

test('composes a dashboard with a value card and a control, saves it, and after a reload it is live both ways', async () => {
  await page.getByRole('link', { name: 'Dashboards' }).click();
  await page.getByText('No dashboards yet').waitFor();
  await page.getByLabel('Name').fill('Pump house');
  await page.getByRole('button', { name: 'Create dashboard' }).click();
  await page.getByRole('heading', { name: 'Pump house' }).waitFor();
  const form = page.getByRole('form', { name: 'Add widget' });

  await form.getByLabel('Type').selectOption('value');
  await form.getByLabel('Title').fill('Flow');
  await form.getByLabel('Device').fill('pump-north');
  await form.getByLabel('Keys (comma-separated)').fill('flow');
  await form.getByLabel('Unit').fill('m³/h');
  await form.getByRole('button', { name: 'Add widget' }).click();
  await page.locator('.widget[data-widget-type="value"]').waitFor();

  await form.getByLabel('Type').selectOption('control');
  await form.getByLabel('Title').fill('Main pump');
  await form.getByLabel('Keys (comma-separated)').fill('');
  await form.getByLabel('Control', { exact: true }).selectOption('toggle');
  await form.getByLabel('Method').fill('setPump');
  await form.getByLabel('State key').fill('pump');
  await form.getByRole('button', { name: 'Add widget' }).click();
  await page.locator('.widget[data-widget-type="control"]').waitFor();
  // Layout from the keyboard (the drag handle takes arrow keys): the control moves right of the
  // value card, then up onto the first row.
  const handle = page.getByRole('button', { name: 'Move or resize Main pump' });
  await handle.focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp');
  await page.getByText('Main pump: column 4, row 1, 3 wide, 2 high.').waitFor();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();

  const list = await tp.api.request<{ items: { id: string; widgets: { type: string; deviceId: string; x: number; y: number; keys?: string[]; control?: { method: string } }[] }[] }>('GET', '/api/dashboards');
  assert.equal(list.body.items.length, 1);
  const saved = list.body.items[0];
  assert.ok(saved);
  assert.deepEqual(saved.widgets.map((w) => [w.type, w.deviceId, w.x, w.y]), [['value', pump.id, 0, 0], ['control', pump.id, 3, 0]]);
  assert.deepEqual(saved.widgets[0]?.keys, ['flow']);
  assert.equal(saved.widgets[1]?.control?.method, 'setPump');

  await page.reload();
  const value = page.locator('.widget[data-widget-type="value"]');
  await value.locator('.widget-body[data-live="ready"]').waitFor();
  await page.locator('.widget[data-widget-type="control"] .control[data-live="ready"]').waitFor();
  await publish({ flow: 12.5 });
  await value.locator('output[data-key="flow"]', { hasText: '12.5' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'composer-dashboard.png'), fullPage: true });

  const toggle = page.locator('.widget[data-widget-type="control"]').getByRole('switch', { name: 'Main pump' });
  assert.equal(await toggle.getAttribute('aria-checked'), 'false');
  await toggle.click();
  await eventually(async () => (received.length > 0 ? true : undefined), 10_000, 'command at the device');
  assert.deepEqual(received[0], { method: 'setPump', params: { on: true } });
  await page.locator('.widget[data-widget-type="control"] .command-state[data-status="SUCCESSFUL"]').waitFor();
  // The device reported pump=true: the switch stays on and shows the state key's value.
  await page.locator('.widget[data-widget-type="control"] output[data-key="pump"]', { hasText: 'true' }).waitFor();
  assert.equal(await toggle.getAttribute('aria-checked'), 'true');
});

test("the device page shows its profile's controls; switching off sends {on: false} and shows the state live", async () => {
  await page.goto(`${tp.baseUrl}/#/devices/${pump.id}`);
  const controls = page.getByRole('region', { name: 'Controls' });
  const toggle = controls.getByRole('switch', { name: 'Pump power' });
  await controls.locator('.control[data-live="ready"]').waitFor();
  await toggle.and(page.locator('[aria-checked="true"]')).waitFor();
  const before = received.length;
  await toggle.click();
  await eventually(async () => (received.length > before ? true : undefined), 10_000, 'second command at the device');
  assert.deepEqual(received[before], { method: 'setPump', params: { on: false } });
  await controls.locator('.command-state[data-status="SUCCESSFUL"]').waitFor();
  await controls.locator('output[data-key="pump"]', { hasText: 'false' }).waitFor();
  // The page's own command history shows the same command.
  await page.locator('tr[data-command-id]').filter({ hasText: 'setPump' }).first().locator('.command-status', { hasText: 'SUCCESSFUL' }).waitFor();
  await page.screenshot({ path: join(SHOTS, 'device-controls.png'), fullPage: true });
  assert.deepEqual(consoleErrors, []);
});

test('a dashboard with a chart, a gauge, a map and an alarm list renders each from real data without errors', async () => {
  const van = await tp.api.createDevice('van-7');
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', van.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify({ latitude: 52.52, longitude: 13.405, speed: 42 })]);
  await publish({ flow: 10 });
  await publish({ flow: 14 });
  const created = await tp.api.request<{ id: string }>('POST', '/api/dashboards', {
    name: 'Everything',
    widgets: [
      { type: 'chart', title: 'Flow, last hour', deviceId: pump.id, keys: ['flow'], range: '1h', x: 0, y: 0, w: 6, h: 4 },
      { type: 'gauge', title: 'Speed', deviceId: van.id, keys: ['speed'], min: 0, max: 120, unit: 'km/h', x: 6, y: 0, w: 3, h: 3 },
      { type: 'map', title: 'Van', deviceId: van.id, x: 0, y: 4, w: 6, h: 4 },
      { type: 'alarms', title: 'Open alarms', x: 6, y: 4, w: 6, h: 3 },
    ],
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await page.goto(`${tp.baseUrl}/#/dashboards/${created.body.id}`);
  const widget = (type: string) => page.locator(`.widget[data-widget-type="${type}"]`);
  await widget('chart').locator('.widget-body[data-ready="true"]').waitFor();
  await widget('gauge').locator('output[data-key="speed"]', { hasText: '42 km/h' }).waitFor();
  assert.match((await widget('gauge').locator('svg').getAttribute('aria-label')) ?? '', /speed: 42 km\/h/);
  await widget('map').locator('.widget-body[data-markers="1"]').waitFor();
  await widget('alarms').getByText('No open alarms.').waitFor();
  await page.screenshot({ path: join(SHOTS, 'composer-all-widgets.png'), fullPage: true });
  assert.deepEqual(consoleErrors, []);
});
