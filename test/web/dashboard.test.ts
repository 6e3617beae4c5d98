/**
 * The dashboard in a real browser: Debian Chromium driven by playwright-core (headless) against a
 * whole platform in this process. Devices are real clients: mosquitto_pub for telemetry, MQTT.js
 * answering commands. Screenshots go to test-output/screenshots/.
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
const consoleErrors: string[] = [];
let pump: { id: string; name: string; accessToken: string };

async function publish(token: string, payload: object): Promise<void> {
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', token, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify(payload)]);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function noHorizontalOverflow(): Promise<{ scrollWidth: number; innerWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.scrollingElement?.scrollWidth ?? 0, innerWidth: window.innerWidth }));
}

before(async () => {
  // Normally built by `npm install`/`npm start`; builds here when web/dist is missing or stale.
  await run(process.execPath, [join('web', 'build.mjs')], { timeout: 120_000 });
  assert.ok(existsSync(join('web', 'dist', 'index.html')), 'web/dist was built');
  mkdirSync(SHOTS, { recursive: true });
  tp = await startTestPlatform();
  const pumps = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: 'Pumps' });
  assert.equal(pumps.status, 201);
  pump = await tp.api.createDevice('pump-station-7', { label: 'North field pump', profileId: pumps.body.id });
  for (let i = 1; i <= 30; i++) await tp.api.createDevice(`sensor-${String(i).padStart(3, '0')}`, { label: i % 2 ? 'greenhouse' : 'orchard' });
  userDataDir = tempDir();
  context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 } });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(String(err)));
});

after(async () => {
  await context?.close();
  await tp?.stop();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

test('serves the dashboard at / with a sign-in form, assets cached, client routes and the JSON API 404 intact', async () => {
  const index = await fetch(`${tp.baseUrl}/`);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type') ?? '', /text\/html/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const html = await index.text();
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(asset, 'index.html references a built script');
  const js = await fetch(`${tp.baseUrl}${asset}`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /text\/javascript/);
  assert.match(js.headers.get('cache-control') ?? '', /immutable/);
  const deep = await fetch(`${tp.baseUrl}/devices/some-id`);
  assert.equal(deep.status, 200);
  assert.match(await deep.text(), /<div id="app">/);
  assert.equal((await fetch(`${tp.baseUrl}/assets/missing-12345678.js`)).status, 404);
  assert.equal((await fetch(`${tp.baseUrl}/%2e%2e/package.json`)).status, 404, 'no path outside web/dist');
  const api404 = await fetch(`${tp.baseUrl}/api/nothing-here`);
  assert.equal(api404.status, 404);
  assert.equal(((await api404.json()) as { error: string }).error, 'NOT_FOUND');

  await page.goto(`${tp.baseUrl}/`);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong email or password' }).waitFor();
  // Chromium logs the expected 401 of the failed sign-in as a console error; only later ones count.
  consoleErrors.length = 0;
  await shot('01-sign-in');
});

test('signs in, searches the fleet, opens a device by name, and sees a value change live after mosquitto_pub', async () => {
  await publish(pump.accessToken, { temperature: 21.5, pressure: 1.2 });
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
  await page.getByRole('link', { name: 'sensor-001' }).waitFor();
  assert.match(await page.locator('.counts').innerText(), /31 devices/);
  await shot('02-fleet');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByText('26–31 of 31').waitFor();
  await page.getByLabel('Profile').selectOption({ label: 'Pumps' });
  await page.getByText('1 device in Pumps').waitFor();
  await page.getByLabel('Profile').selectOption({ label: 'All profiles' });
  await page.getByText('1–25 of 31').waitFor();
  await page.getByLabel('Search devices').fill('pump');
  await page.getByText('1 device matching').waitFor();
  // Connectivity changes show in the table live (status subscription).
  const status = page.locator('tr', { hasText: 'pump-station-7' }).locator('.status-cell');
  await status.getByText('offline').waitFor();
  await page.locator('.page.fleet[data-live="ready"]').waitFor();
  const client = await connectMqtt(tp.ports.mqtt, { username: pump.accessToken });
  await status.getByText('online').waitFor();
  await client.endAsync();
  await status.getByText('offline').waitFor();
  const link = page.getByRole('link', { name: 'pump-station-7' });
  await link.click();
  await page.getByRole('heading', { name: 'pump-station-7' }).waitFor();
  const temperature = page.locator('output[data-key="temperature"]');
  await eventually(async () => ((await temperature.innerText()) === '21.5' ? true : undefined), 10_000, 'latest temperature from REST');
  // Once the page's live subscriptions are confirmed, nothing published from now on is missed.
  await page.locator('.page.device[data-live="ready"]').waitFor();
  await publish(pump.accessToken, { temperature: 23.25 });
  await eventually(async () => ((await temperature.innerText()) === '23.25' ? true : undefined), 10_000, 'live temperature');
  // A key the page has not seen yet appears too.
  await publish(pump.accessToken, { flow: 7 });
  await eventually(async () => ((await page.locator('output[data-key="flow"]').innerText()) === '7' ? true : undefined), 10_000, 'live new key');
  await page.locator('.chart canvas').first().waitFor();
  await shot('03-device');
});

test('the chart switches range and aggregation over the REST interval/agg parameters', async () => {
  const now = Date.now();
  const points = Array.from({ length: 48 }, (_, i) => ({ ts: now - (48 - i) * 3_600_000, values: { temperature: 20 + Math.sin(i / 4) * 3 } }));
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', pump.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify(points)]);
  await page.getByLabel('Key', { exact: true }).selectOption('temperature');
  await page.getByLabel('Range').selectOption('7d');
  // "N hourly averages", not "N averages per hour" (that read as N averages in each hour).
  await page.getByText(/\d hourly averages over 7 days/).waitFor();
  await page.getByLabel('Range').selectOption('1y');
  await page.getByText(/\d daily averages over 1 year/).waitFor();
  await page.getByLabel('Aggregation').selectOption('raw');
  await page.getByText(/raw points over 1 year/).waitFor();
  await page.getByLabel('Range').selectOption('24h');
  await page.getByLabel('Aggregation').selectOption('auto');
  await page.getByText(/\d one-minute averages over 24 hours/).waitFor();
});

test('a command sent from the device page reaches an MQTT.js device and its state becomes SUCCESSFUL live', async () => {
  const device: mqtt.MqttClient = await connectMqtt(tp.ports.mqtt, { username: pump.accessToken, protocolVersion: 5 });
  const seen: { method: string; params: unknown }[] = [];
  device.on('message', (topic, payload) => {
    if (!topic.startsWith('v1/devices/me/rpc/request/')) return;
    const requestId = topic.split('/').pop();
    const request = JSON.parse(payload.toString()) as { method: string; params: unknown };
    seen.push(request);
    void device.publishAsync(`v1/devices/me/rpc/response/${requestId}`, JSON.stringify({ pump: 'on' }), { qos: 1 });
  });
  await device.subscribeAsync('v1/devices/me/rpc/request/+', { qos: 1 });
  try {
    // The device's connection shows live.
    await page.locator('.meta .badge-online').waitFor();
    await page.getByLabel('Method').fill('setPump');
    await page.getByLabel('Params (JSON)').fill('not json');
    await page.getByRole('button', { name: 'Send command' }).click();
    await page.getByRole('alert').filter({ hasText: 'Params are not JSON' }).waitFor();
    await page.getByLabel('Params (JSON)').fill('{"on": true}');
    await page.getByRole('button', { name: 'Send command' }).click();
    await eventually(async () => (seen.length > 0 ? true : undefined), 10_000, 'command at the device');
    assert.deepEqual(seen[0], { method: 'setPump', params: { on: true } });
    const row = page.locator('tr[data-command-id]').filter({ hasText: 'setPump' }).first();
    await row.locator('.command-status', { hasText: 'SUCCESSFUL' }).waitFor();
    assert.match(await row.innerText(), /"pump":"on"/);
    await shot('04-command');
    // A shared attribute set on the page is stored and pushed to the device.
    const pushed = new Promise<unknown>((resolve) => device.on('message', (topic, payload) => topic === 'v1/devices/me/attributes' && resolve(JSON.parse(payload.toString()))));
    await device.subscribeAsync('v1/devices/me/attributes', { qos: 1 });
    await page.getByLabel('Shared attribute key').fill('targetPressure');
    await page.getByLabel('Value (JSON or text)').fill('2.5');
    await page.getByRole('button', { name: 'Set shared attribute' }).click();
    await page.getByLabel('Value of targetPressure').waitFor();
    assert.deepEqual(await pushed, { targetPressure: 2.5 });
    await page.getByLabel('Value of targetPressure').fill('3');
    await page.getByRole('button', { name: 'Save targetPressure' }).click();
    await eventually(async () => {
      const res = await tp.api.request<{ shared: Record<string, { value: unknown }> }>('GET', `/api/devices/${pump.id}/attributes?scope=shared`);
      return res.body.shared.targetPressure?.value === 3 ? true : undefined;
    }, 5000, 'shared attribute edited');
  } finally {
    await device.endAsync();
  }
});

test('an alarm raised by a rule shows live and is acknowledged from the alarms page', async () => {
  const rule = await tp.api.request('POST', '/api/rules', {
    name: 'low battery',
    deviceId: pump.id,
    condition: 'batteryLevel < 10',
    actions: [{ type: 'alarm', alarmType: 'LowBattery', severity: 'major' }],
  });
  assert.equal(rule.status, 201, JSON.stringify(rule.body));
  await publish(pump.accessToken, { batteryLevel: 5 });
  // On the device page (live) and in the header count.
  await page.locator('tr[data-alarm-id]').filter({ hasText: 'LowBattery' }).waitFor();
  await page.locator('header .count', { hasText: '1' }).waitFor();
  await page.getByRole('link', { name: /^Alarms/ }).click();
  await page.getByRole('heading', { name: 'Alarms' }).waitFor();
  await page.locator('.alarms-page[data-live="ready"]').waitFor();
  const row = page.locator('tr[data-alarm-id]').filter({ hasText: 'LowBattery' });
  await row.getByRole('link', { name: 'pump-station-7' }).waitFor();
  await shot('05-alarms');
  await row.getByRole('button', { name: 'Acknowledge LowBattery' }).click();
  await row.locator('.alarm-status', { hasText: 'acknowledged' }).waitFor();
  const list = await tp.api.request<{ items: { type: string; status: string }[] }>('GET', `/api/alarms?deviceId=${pump.id}`);
  assert.equal(list.body.items.find((a) => a.type === 'LowBattery')?.status, 'acknowledged');
  await eventually(async () => ((await page.locator('header .count').innerText()) === '' ? true : undefined), 5000, 'active count back to none');
  await page.getByLabel('Status').selectOption('cleared');
  await page.getByText('No alarms match.').waitFor();
});

test('at 390×844 nothing overflows horizontally on any page, and the browser logged no errors', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  const pages: [string, string, () => Promise<void>][] = [
    ['#/devices', '06-phone-fleet', async () => void (await page.getByRole('heading', { name: 'Devices' }).waitFor())],
    [`#/devices/${pump.id}`, '07-phone-device', async () => void (await page.locator('output[data-key="temperature"]').waitFor())],
    ['#/alarms', '08-phone-alarms', async () => void (await page.getByRole('heading', { name: 'Alarms' }).waitFor())],
  ];
  for (const [hash, name, ready] of pages) {
    await page.goto(`${tp.baseUrl}/${hash}`);
    await ready();
    await page.waitForTimeout(300);
    const { scrollWidth, innerWidth } = await noHorizontalOverflow();
    assert.ok(scrollWidth <= innerWidth, `${hash}: scrollWidth ${scrollWidth} > innerWidth ${innerWidth}`);
    await shot(name);
  }
  await page.reload();
  await page.getByRole('heading', { name: 'Alarms' }).waitFor();
  // Keyboard: the skip link is the first stop and moves focus to the content.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
  // Signing out returns to the sign-in form.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  assert.deepEqual(consoleErrors, []);
});

test('an expired session returns to the sign-in form', async () => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
  // Pretend the JWT was replaced by one the server no longer accepts: the next request answers 401.
  await page.evaluate(() => {
    const raw = sessionStorage.getItem('continuum.session');
    if (raw) sessionStorage.setItem('continuum.session', JSON.stringify({ ...JSON.parse(raw), token: 'expired.jwt.token' }));
  });
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByText('Your session expired. Sign in again.').waitFor();
  await page.getByLabel('Email').waitFor();
});
