/**
 * Fleet page additions in Chromium: tenant-wide counts by status (GET /api/devices/counts, live),
 * bulk CSV import in chunks with progress and every rejected row reported by its line in the
 * file, and the device page's credentials with token rotation checked against a real MQTT client.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectMqtt, eventually, startTestPlatform, tempDir, type TestPlatform } from '../support/platform.js';
import { buildWeb, openBrowser, run, signIn, type Browser } from './browser-support.js';

let tp: TestPlatform;
let b: Browser;
let meter: { id: string; accessToken: string };

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
  meter = await tp.api.createDevice('meter-1');
  await tp.api.createDevice('meter-2');
  b = await openBrowser();
  await signIn(b.page, tp.baseUrl);
});

after(async () => {
  await b?.close();
  await tp?.stop();
});

test('GET /api/devices/counts counts the tenant by connectivity, and the fleet page shows it live', async () => {
  const before = await tp.api.request<{ total: number; online: number; offline: number }>('GET', '/api/devices/counts');
  assert.equal(before.status, 200);
  assert.deepEqual(before.body, { total: 2, online: 0, offline: 2 });
  const counts = b.page.locator('.fleet-counts');
  await counts.getByText('2 in total').waitFor();
  await b.page.locator('.page.fleet[data-live="ready"]').waitFor();
  const client = await connectMqtt(tp.ports.mqtt, { username: meter.accessToken });
  try {
    await counts.getByText('1 online').waitFor();
    assert.deepEqual((await tp.api.request('GET', '/api/devices/counts')).body, { total: 2, online: 1, offline: 1 });
  } finally {
    await client.endAsync();
  }
  await counts.getByText('2 offline').waitFor();
  assert.equal((await fetch(`${tp.baseUrl}/api/devices/counts`)).status, 401, 'needs a user');
});

test('a CSV import runs in chunks with progress; rejected rows are listed by their line in the file', async () => {
  // 1,203 rows (three requests of at most 500): a label spanning two lines early on, a duplicate
  // of an existing device in the last chunk, a row without a name, and a duplicate within the file.
  const lines = ['name,label'];
  lines.push('imported-0000,"two', 'lines"');
  for (let i = 1; i < 1200; i++) lines.push(`imported-${String(i).padStart(4, '0')},bulk`);
  lines.push('meter-1,already exists');
  lines.push(',no name');
  lines.push('imported-0001,again');
  const file = join(tempDir(), 'devices.csv');
  writeFileSync(file, lines.join('\r\n') + '\r\n');
  await b.page.getByText('Import devices from CSV').click();
  await b.page.getByLabel('CSV file').setInputFiles(file);
  await b.page.getByRole('button', { name: 'Import devices' }).click();
  await b.page.getByText('1200 devices created, 3 rows rejected.').waitFor({ timeout: 60_000 });
  assert.equal(await b.page.locator('details.import progress').getAttribute('value'), '1203');
  const rejected = await b.page.locator('table.import-errors tbody tr').allInnerTexts();
  assert.equal(rejected.length, 3);
  // Header on line 1, the two-line row on 2–3, so meter-1 is on line 1203, the nameless row on 1204.
  assert.match(rejected[0] ?? '', /^1203\tmeter-1\t/);
  assert.match(rejected[1] ?? '', /^1204\t/);
  assert.match(rejected[2] ?? '', /^1205\timported-0001\t/);
  assert.equal((await tp.api.request<{ total: number }>('GET', '/api/devices/counts')).body.total, 1202);
  await b.page.getByText('1202 in total').waitFor();
  await b.shot('50-fleet-import');
});

test('the device page shows credentials and rotates the access token: the old one is refused, the new one works', async () => {
  await b.page.goto(`${tp.baseUrl}/#/devices/${meter.id}`);
  await b.page.getByRole('heading', { name: 'Credentials' }).waitFor();
  const value = b.page.locator('.credential-value[data-type="ACCESS_TOKEN"]');
  // Only the hint: the platform keeps a hash of the token, nothing the page could show.
  await value.getByText(`${meter.accessToken.slice(0, 4)}…`).waitFor();
  assert.doesNotMatch(await value.innerText(), new RegExp(meter.accessToken));
  await b.page.getByRole('button', { name: 'Rotate access token' }).click();
  await b.page.getByRole('button', { name: 'Confirm new token' }).click();
  await b.page.getByText('New access token generated').waitFor();
  await eventually(async () => (/^[0-9A-Za-z]{20}$/.test((await value.innerText()).trim()) ? true : undefined), 10_000, 'new token shown once');
  const fresh = (await value.innerText()).trim();
  const stored = await tp.api.request<{ type: string; hint?: string; token?: string }[]>('GET', `/api/devices/${meter.id}/credentials`);
  const hint = stored.body.find((c) => c.type === 'ACCESS_TOKEN');
  assert.deepEqual(hint, { type: 'ACCESS_TOKEN', hint: `${fresh.slice(0, 4)}…` });
  const pub = (token: string) => run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', token, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', '{"kwh":1}']);
  await assert.rejects(pub(meter.accessToken), 'the old token is refused');
  await pub(fresh);
  assert.deepEqual(b.errors, []);
});
