/**
 * Managing devices from the dashboard in Chromium against a whole platform, at 1280 and 390 px:
 * the empty fleet says how to connect a device; the "Add device" wizard creates one and prints
 * commands with this platform's real ports, and the mosquitto_pub line, run as printed, makes
 * "Received" appear in the same dialog (the curl and coap-client lines work too). Screenshots go
 * to test-output/screenshots/70-devices-*.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { axeSerious, buildWeb, horizontalOverflow, openBrowser, signIn, type Browser } from './browser-support.js';

const sh = promisify(execFile);
let tp: TestPlatform;

const WIDTHS = [
  { name: 'wide', viewport: { width: 1280, height: 900 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
] as const;

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
});

after(async () => {
  await tp?.stop();
});

async function withBrowser(viewport: { width: number; height: number }, fn: (b: Browser) => Promise<void>): Promise<void> {
  const b = await openBrowser(viewport);
  try {
    await signIn(b.page, tp.baseUrl);
    await fn(b);
    assert.deepEqual(b.errors, [], 'no console errors');
  } finally {
    await b.close();
  }
}

/** The command as printed, run by a shell exactly as a user would paste it. */
async function runPrinted(b: Browser, tool: string): Promise<string> {
  const command = await b.page.locator(`.connect-line[data-tool="${tool}"] code`).innerText();
  await sh('bash', ['-c', command], { timeout: 15_000 });
  return command;
}

async function publish(token: string, payload: unknown): Promise<void> {
  await sh('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', token, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify(payload)]);
}

async function latest(deviceId: string): Promise<Record<string, { value: unknown }>> {
  return (await tp.api.request<Record<string, { value: unknown }>>('GET', `/api/devices/${deviceId}/telemetry/latest`)).body;
}

test('GET /api/endpoints lists the bound device ports (not the configured 0)', async () => {
  const res = await tp.api.request<{ items: { name: string; protocol: string; port: number }[] }>('GET', '/api/endpoints');
  assert.equal(res.status, 200);
  const port = (name: string) => res.body.items.find((e) => e.name === name)?.port;
  assert.equal(port('mqtt'), tp.ports.mqtt);
  assert.equal(port('coap'), tp.ports.coap);
  assert.equal(port('http'), tp.ports.http);
  assert.ok(res.body.items.every((e) => e.port > 0));
});

for (const { name, viewport } of WIDTHS) {
  test(`${name} (${viewport.width} px): the wizard adds a device and its first mosquitto_pub message arrives on the same page`, async () => {
    await withBrowser(viewport, async (b) => {
      const { page } = b;
      const deviceName = `wizard-${name}`;
      if (name === 'wide') {
        // The fleet is still empty: a hint how to connect one, not only "No devices yet.".
        await page.getByText('No devices yet.').waitFor();
        assert.match(await page.locator('.empty-hint').innerText(), /Add device.*mosquitto_pub/s);
        await b.shot(`70-devices-${name}-empty`);
      }
      await page.getByRole('button', { name: 'Add device' }).click();
      const dialog = page.getByRole('dialog', { name: 'Add device' });
      await dialog.waitFor();
      // A name is required: the form says so instead of creating a nameless device.
      await dialog.getByRole('button', { name: 'Create device' }).click();
      await dialog.getByRole('alert').filter({ hasText: 'Give the device a name.' }).waitFor();
      await dialog.getByLabel('Name').fill(deviceName);
      await dialog.getByLabel('Transport').selectOption('mqtt');
      assert.equal(await dialog.getByLabel('Profile').locator('option:checked').innerText(), 'default');
      await b.shot(`70-devices-${name}-wizard-form`);
      await dialog.getByRole('button', { name: 'Create device' }).click();

      const connect = page.getByRole('dialog', { name: `Connect ${deviceName}` });
      await connect.locator('.connect-line[data-tool="mosquitto_pub"] code').waitFor();
      const status = connect.getByRole('status').filter({ hasText: /Waiting for the first message|Received/ });
      assert.equal(await status.innerText(), 'Waiting for the first message…');
      const mqttLine = await connect.locator('.connect-line[data-tool="mosquitto_pub"] code').innerText();
      // The platform's real port (0 in its config), never the 1883 of the host's Mosquitto.
      assert.match(mqttLine, new RegExp(`^mosquitto_pub -h '127\\.0\\.0\\.1' -p ${tp.ports.mqtt} -u '[^']+' -t v1/devices/me/telemetry -m '\\{"temperature":21\\.5\\}'$`));
      assert.match(await connect.locator('.connect-line[data-tool="coap-client"] code').innerText(), new RegExp(`coap://127\\.0\\.0\\.1:${tp.ports.coap}/api/v1/`));
      assert.match(await connect.locator('.connect-line[data-tool="curl"] code').innerText(), new RegExp(`${tp.baseUrl.replace(/[.]/g, '\\.')}/api/v1/`));
      assert.equal((await horizontalOverflow(page)).scrollWidth <= viewport.width, true, 'no sideways scrolling');
      await b.shot(`70-devices-${name}-wizard-waiting`);
      assert.deepEqual(await axeSerious(page), [], 'the wizard passes axe');

      await runPrinted(b, 'mosquitto_pub');
      await connect.getByText('Received: temperature = 21.5').waitFor({ timeout: 10_000 });
      await b.shot(`70-devices-${name}-wizard-received`);

      const created = (await tp.api.request<{ items: { id: string; name: string }[] }>('GET', `/api/devices?search=${deviceName}`)).body.items[0];
      assert.ok(created, 'the device exists');
      if (name === 'wide') {
        // The other two lines, as printed, reach the platform too.
        await sh('bash', ['-c', (await runPrinted(b, 'curl')).replace('21.5', '22.5')]);
        await eventually(async () => ((await latest(created.id)).temperature?.value === 22.5 ? true : undefined), 10_000, 'curl telemetry');
        // Debian ships libcoap's client as coap-client-notls (coap-client elsewhere; the wizard says so).
        const coapLine = await connect.locator('.connect-line[data-tool="coap-client"] code').innerText();
        await sh('bash', ['-c', coapLine.replace('21.5', '23.5').replace(/^coap-client /, 'coap-client-notls ')]);
        await eventually(async () => ((await latest(created.id)).temperature?.value === 23.5 ? true : undefined), 10_000, 'coap telemetry');
      }
      await connect.getByRole('button', { name: 'Done' }).click();
      await page.locator('tr', { hasText: deviceName }).waitFor();
      // The tenant-wide counts follow the new device without a reload.
      const total = (await tp.api.request<{ total: number }>('GET', '/api/devices/counts')).body.total;
      await page.locator('.fleet-counts', { hasText: `${total} in total` }).waitFor({ timeout: 5000 });
      await b.shot(`70-devices-${name}-fleet`);
    });
  });
}

for (const { name, viewport } of WIDTHS) {
  test(`${name} (${viewport.width} px): the device page renames a device, moves it to a profile (units appear) and deletes it after a confirmation`, async () => {
    const profile = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: `thermometers-${name}`, telemetryKeys: [{ key: 'temperature', type: 'number', unit: '°C' }] });
    assert.equal(profile.status, 201);
    const device = await tp.api.createDevice(`manage-${name}`);
    await publish(device.accessToken, { temperature: 20.5, humidity: 40 });
    await withBrowser(viewport, async (b) => {
      const { page } = b;
      await page.goto(`${tp.baseUrl}/#/devices/${device.id}`);
      await page.getByRole('heading', { name: `manage-${name}`, level: 1 }).waitFor();
      await page.locator('.page.device[data-chart="ready"]').waitFor();
      // A fresh device opens on its last hour of raw points, not a day of averages.
      assert.equal(await page.getByLabel('Range').inputValue(), '1h');
      assert.match(await page.locator('#chart-h ~ p.hint').innerText(), /^1 raw point over 1 hour/);
      assert.equal(await page.locator('tr[data-key="temperature"] .unit').innerText(), '');

      await page.getByLabel('Device name').fill(`manage-${name}-renamed`);
      await page.getByRole('button', { name: 'Rename' }).click();
      await page.getByRole('heading', { name: `manage-${name}-renamed`, level: 1 }).waitFor();
      assert.equal((await tp.api.request<{ name: string }>('GET', `/api/devices/${device.id}`)).body.name, `manage-${name}-renamed`);

      await page.getByLabel('Device profile').selectOption({ label: `thermometers-${name}` });
      await page.getByRole('button', { name: 'Move to profile' }).click();
      await page.getByText(`Moved to thermometers-${name}.`).waitFor();
      // The new profile's unit is shown next to the value (and on the chart's legend).
      await page.locator('tr[data-key="temperature"] .unit', { hasText: '°C' }).waitFor();
      assert.equal(await page.locator('tr[data-key="humidity"] .unit').innerText(), '');
      assert.equal((await tp.api.request<{ profileId: string }>('GET', `/api/devices/${device.id}`)).body.profileId, profile.body.id);
      await b.shot(`70-devices-${name}-device-managed`);

      // Delete asks first; Cancel keeps the device, the safe button has focus.
      await page.getByRole('button', { name: 'Delete device' }).click();
      const confirm = page.getByRole('alertdialog', { name: `Delete manage-${name}-renamed?` });
      await confirm.waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel');
      await b.shot(`70-devices-${name}-delete-confirm`);
      assert.deepEqual(await axeSerious(page), [], 'the confirmation passes axe');
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      await confirm.waitFor({ state: 'detached' });
      assert.equal((await tp.api.request('GET', `/api/devices/${device.id}`)).status, 200);
      await page.getByRole('button', { name: 'Delete device' }).click();
      await confirm.getByRole('button', { name: `Delete manage-${name}-renamed` }).click();
      await page.getByRole('heading', { name: 'Devices', level: 1 }).waitFor();
      assert.equal((await tp.api.request('GET', `/api/devices/${device.id}`)).status, 404);
      await page.locator('tbody tr').first().waitFor();
      assert.equal(await page.locator('tr', { hasText: `manage-${name}-renamed` }).count(), 0);
      // The deleted device's token is refused from then on.
      await assert.rejects(publish(device.accessToken, { temperature: 1 }));
    });
  });
}

test('the device page opens on a range that holds the history: 3 days of data → 7 days of hourly averages', async () => {
  const device = await tp.api.createDevice('three-days');
  const now = Date.now();
  await publish(device.accessToken, [3 * 86_400_000 - 60_000, 2 * 86_400_000, 86_400_000, 60_000].map((ago, i) => ({ ts: now - ago, values: { level: i } })));
  await withBrowser(WIDTHS[0].viewport, async (b) => {
    await b.page.goto(`${tp.baseUrl}/#/devices/${device.id}`);
    await b.page.locator('.page.device[data-chart="ready"]').waitFor();
    assert.equal(await b.page.getByLabel('Range').inputValue(), '7d');
    // "N hourly averages", not "N averages per hour".
    assert.match(await b.page.locator('#chart-h ~ p.hint').innerText(), /^4 hourly averages over 7 days/);
    await b.shot('70-devices-wide-history-range');
  });
});

test('a device name holding markup is shown as text in the wizard and on the device page', async () => {
  const evil = '<img src=x onerror="window.__xss=1">';
  await withBrowser(WIDTHS[0].viewport, async (b) => {
    const { page } = b;
    await page.getByRole('button', { name: 'Add device' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add device' });
    await dialog.getByLabel('Name').fill(evil);
    await dialog.getByRole('button', { name: 'Create device' }).click();
    const connect = page.getByRole('dialog', { name: `Connect ${evil}` });
    await connect.locator('.connect-line[data-tool="curl"] code').waitFor();
    assert.equal(await connect.getByRole('heading').first().innerText(), `Connect ${evil}`);
    await connect.getByRole('link', { name: 'Open device' }).click();
    await page.getByRole('heading', { name: evil, level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Delete device' }).click();
    await page.getByRole('alertdialog', { name: `Delete ${evil}?` }).waitFor();
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.equal(await page.locator('img[src="x"]').count(), 0);
  });
});
