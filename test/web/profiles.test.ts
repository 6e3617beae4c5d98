/**
 * The device profile page in Chromium at 1280 and 390 px: create a profile with a key and its unit
 * and a control, edit it (another key with a unit), see the unit next to the value on the page of
 * a device of that profile, delete a profile with a confirmation (and the API's refusal shown for a
 * profile devices still use). axe clean with the editor open; no sideways scroll on a phone.
 * Display hints: a key's label replaces its name and its decimals format the number there.
 * Screenshots: test-output/screenshots/73-profiles-*.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { axeSerious, buildWeb, horizontalOverflow, openBrowser, run, signIn, type Browser } from './browser-support.js';

let tp: TestPlatform;

const WIDTHS = [
  { name: 'wide', viewport: { width: 1280, height: 900 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
] as const;

interface ProfileRow {
  id: string;
  name: string;
  codec: string;
  telemetryKeys: { key: string; type: string; unit?: string; label?: string; decimals?: number }[];
  controls: { label: string; kind: string; method: string }[];
  retentionDays: number | null;
}

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
});

after(async () => {
  await tp?.stop();
});

async function profiles(): Promise<ProfileRow[]> {
  return (await tp.api.request<{ items: ProfileRow[] }>('GET', '/api/profiles')).body.items;
}

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

for (const { name, viewport } of WIDTHS) {
  test(`${name}: create and edit a profile with units; a device of it shows the unit; delete asks first`, async () => {
    const profileName = `Greenhouse sensors ${name}`;
    const device = await tp.api.createDevice(`greenhouse-${name}`);
    const spare = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: `Spare ${name}` });
    assert.equal(spare.status, 201);
    await withBrowser(viewport, async (b) => {
      const { page } = b;
      await page.getByRole('link', { name: 'Profiles' }).click();
      await page.getByRole('heading', { name: 'Device profiles' }).waitFor();
      await page.getByRole('button', { name: 'New profile' }).click();
      const editor = page.getByRole('region', { name: 'Profile editor' });
      await editor.getByLabel('Name', { exact: true }).fill(profileName);
      await editor.getByRole('button', { name: 'Add key' }).click();
      await editor.getByLabel('Key 1', { exact: true }).fill('temperature');
      await editor.getByLabel('Unit of key 1').fill('°C');
      await editor.getByLabel('Label of key 1').fill('Air temperature');
      await editor.getByLabel('Decimals of key 1').selectOption('2');
      await editor.getByRole('button', { name: 'Add control' }).click();
      await editor.getByLabel('Control 1 label').fill('Vent');
      await editor.getByLabel('Control 1 kind').selectOption('toggle');
      await editor.getByLabel('Control 1 method').fill('setVent');
      await editor.getByLabel('Keep telemetry (days)').fill('90');
      await editor.getByRole('button', { name: 'Create profile' }).click();
      await page.getByRole('heading', { name: `Edit ${profileName}` }).waitFor();
      let saved = (await profiles()).find((p) => p.name === profileName);
      assert.ok(saved);
      assert.deepEqual(saved.telemetryKeys, [{ key: 'temperature', type: 'number', unit: '°C', label: 'Air temperature', decimals: 2 }]);
      assert.deepEqual(saved.controls.map((c) => [c.label, c.kind, c.method]), [['Vent', 'toggle', 'setVent']]);
      assert.equal(saved.retentionDays, 90);

      // Edit: another key with its unit.
      await editor.getByRole('button', { name: 'Add key' }).click();
      await editor.getByLabel('Key 2', { exact: true }).fill('humidity');
      await editor.getByLabel('Unit of key 2').fill('%');
      assert.deepEqual(await axeSerious(page), [], 'axe with the editor open');
      await b.shot(`73-profiles-${name}-editor`);
      await editor.getByRole('button', { name: 'Save profile' }).click();
      await page.getByText(`${profileName} saved.`).waitFor();
      saved = (await profiles()).find((p) => p.name === profileName);
      assert.deepEqual(saved?.telemetryKeys, [{ key: 'temperature', type: 'number', unit: '°C', label: 'Air temperature', decimals: 2 }, { key: 'humidity', type: 'number', unit: '%' }]);
      await page.locator(`tr[data-profile-id="${saved?.id}"]`, { hasText: 'humidity (%)' }).waitFor();
      if (name === 'phone') assert.ok((await horizontalOverflow(page)).scrollWidth <= viewport.width, 'no sideways scroll');

      // A device of the profile shows the units next to its values.
      assert.equal((await tp.api.request('PATCH', `/api/devices/${device.id}`, { profileId: saved?.id })).status, 200);
      await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', device.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify({ temperature: 24.5, humidity: 61 })]);
      await page.goto(`${tp.baseUrl}/#/devices/${device.id}`);
      await page.locator('tr[data-key="humidity"] .unit', { hasText: '%' }).waitFor();
      await page.locator('tr[data-key="temperature"] .unit', { hasText: '°C' }).waitFor();
      // The display hints: the label instead of the key, the number with two decimals.
      await page.locator('tr[data-key="temperature"] th', { hasText: 'Air temperature' }).waitFor();
      await page.locator('tr[data-key="temperature"] output', { hasText: '24.50' }).waitFor();
      assert.equal(await page.locator('tr[data-key="humidity"] output').innerText(), '61');
      await b.shot(`73-profiles-${name}-device-units`);

      // Delete: the profile in use is refused with the API's message; the spare one goes.
      await page.goto(`${tp.baseUrl}/#/profiles`);
      await page.getByRole('button', { name: `Delete ${profileName}` }).click();
      await page.getByRole('button', { name: `Confirm delete ${profileName}` }).click();
      await page.locator('.form-error[role="alert"]').filter({ hasText: /./ }).waitFor();
      b.errors.length = 0; // Chromium logs the expected 409 as a console error.
      await page.getByRole('button', { name: `Delete Spare ${name}` }).click();
      await page.getByRole('button', { name: `Confirm delete Spare ${name}` }).click();
      await page.getByText(`Spare ${name} deleted.`).waitFor();
      assert.equal((await profiles()).some((p) => p.id === spare.body.id), false);
      assert.ok((await profiles()).some((p) => p.name === profileName), 'the profile in use stays');
      await b.shot(`73-profiles-${name}-list`);
    });
  });
}
