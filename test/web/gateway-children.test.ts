/**
 * The dashboard shows why a child is offline (issue 19, item 1): in Chromium, the fleet table
 * flips a child from online to "offline · gateway offline" live when its gateway (a real MQTT.js
 * client) disconnects, and the device page says the same.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectMqtt, eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWeb, openBrowser, signIn, type Browser } from './browser-support.js';

let tp: TestPlatform;
let b: Browser;

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
  b = await openBrowser();
});

after(async () => {
  await b?.close();
  await tp?.stop();
});

test('a child shows "gateway offline" live in the fleet table and on its page', async () => {
  const gw = await tp.api.createDevice('web-gw', { gateway: true });
  const client = await connectMqtt(tp.ports.mqtt, { username: gw.accessToken, clientId: 'web-gw' });
  await client.publishAsync('v1/gateway/connect', JSON.stringify({ device: 'web-child' }), { qos: 1 });
  const child = await eventually(async () => {
    const res = await tp.api.request<{ items: { id: string; name: string; online: boolean }[] }>('GET', '/api/devices?search=web-child');
    return res.body.items.find((d) => d.name === 'web-child' && d.online);
  });

  const { page } = b;
  await signIn(page, tp.baseUrl);
  await page.locator('.page.fleet[data-live="ready"]').waitFor();
  const cell = page.locator('tr', { hasText: 'web-child' }).locator('.status-cell');
  await cell.getByText('online', { exact: true }).waitFor();
  await client.endAsync();
  await cell.getByText('gateway offline', { exact: true }).waitFor();
  assert.equal(await cell.locator('.badge').innerText(), 'offline');
  await b.shot('gateway-child-offline');

  await page.goto(`${tp.baseUrl}/#/devices/${child.id}`);
  await page.getByRole('heading', { name: 'web-child' }).waitFor();
  await page.getByText('gateway offline', { exact: true }).waitFor();
  assert.deepEqual(b.errors, []);
});
