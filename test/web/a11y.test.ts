/**
 * Accessibility of every dashboard page in Chromium: axe-core (serious and critical violations
 * fail), keyboard use of the new pages, no console errors, and no horizontal overflow at 390×844.
 * Screenshots of each page at phone width go to test-output/screenshots/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { axeSerious, buildWeb, horizontalOverflow, openBrowser, run, signIn, type Browser } from './browser-support.js';

let tp: TestPlatform;
let b: Browser;
let rover: { id: string; accessToken: string };

/** Every page, with what shows it is ready (data loaded, not just the heading). */
function pages(): [string, string, (page: Page) => Promise<unknown>][] {
  return [
    ['#/devices', 'fleet', (p) => p.locator('.fleet-counts', { hasText: 'in total' }).waitFor()],
    [`#/devices/${rover.id}`, 'device', (p) => p.locator('output[data-key="latitude"]').waitFor()],
    ['#/alarms', 'alarms', (p) => p.locator('.alarms-page[data-live="ready"]').waitFor()],
    ['#/map', 'map', (p) => p.locator('.map-page[data-loaded="true"]').waitFor()],
    ['#/users', 'users', (p) => p.locator('.users-page[data-loaded="true"]').waitFor()],
    // With one entry's details open: the JSON is the widest thing on the page.
    ['#/audit', 'audit', async (p) => {
      await p.locator('.audit-page[data-loaded="true"]').waitFor();
      await p.locator('tr[data-action="POST /api/rules"] summary').first().click();
    }],
    ['#/account', 'account', (p) => p.locator('.account-page .card[data-loaded="true"]').waitFor()],
    ['#/help/rules', 'rules-help', (p) => p.locator('.help[data-loaded="true"]').waitFor()],
    ['#/profiles', 'profiles', (p) => p.locator('.profiles-page[data-loaded="true"]').waitFor()],
    ['#/ota', 'firmware', (p) => p.locator('.ota-page[data-loaded="true"]').waitFor()],
    // Last: the test goes on in the rule editor.
    ['#/rules', 'rules', (p) => p.locator('.rules-page[data-loaded="true"]').waitFor()],
  ];
}

function describe(violations: Awaited<ReturnType<typeof axeSerious>>): string {
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n');
}

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
  rover = await tp.api.createDevice('rover-with-a-rather-long-name-to-test-wrapping', { label: 'field robot' });
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', rover.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify({ latitude: 52.37, longitude: 4.89, battery: 7 })]);
  const rule = await tp.api.request('POST', '/api/rules', { name: 'rover battery', deviceId: rover.id, condition: 'battery < 10', actions: [{ type: 'alarm', alarmType: 'LowBattery', severity: 'major' }] });
  assert.equal(rule.status, 201);
  b = await openBrowser();
});

after(async () => {
  await b?.close();
  await tp?.stop();
});

test('the sign-in page has no serious or critical axe violations', async () => {
  await b.page.goto(`${tp.baseUrl}/`);
  await b.page.getByRole('button', { name: 'Sign in' }).waitFor();
  const violations = await axeSerious(b.page);
  assert.equal(violations.length, 0, describe(violations));
});

test('every signed-in page passes axe (no serious or critical violations), with the rule editor open too', async () => {
  await signIn(b.page, tp.baseUrl);
  for (const [hash, name, ready] of pages()) {
    await b.page.goto(`${tp.baseUrl}/${hash}`);
    await ready(b.page);
    const violations = await axeSerious(b.page);
    assert.equal(violations.length, 0, `${name}:\n${describe(violations)}`);
  }
  await b.page.getByRole('button', { name: 'Edit rover battery' }).click();
  await b.page.getByRole('button', { name: 'Run backtest' }).click();
  await b.page.getByText(/Would have fired/).waitFor();
  const violations = await axeSerious(b.page);
  assert.equal(violations.length, 0, `rule editor:\n${describe(violations)}`);
});

test('the new pages work from the keyboard alone', async () => {
  const { page } = b;
  await page.goto(`${tp.baseUrl}/#/devices`);
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
  // Tab from the top reaches the Map link in the main navigation; Enter follows it.
  await page.keyboard.press('Tab');
  for (let i = 0; i < 15 && (await page.evaluate(() => document.activeElement?.textContent)) !== 'Map'; i++) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Map');
  await page.keyboard.press('Enter');
  await page.locator('.map-page[data-loaded="true"]').waitFor();
  // The device list under the map opens a marker's popup; its link is focusable.
  await page.getByRole('button', { name: /^Show rover/ }).focus();
  await page.keyboard.press('Enter');
  await page.locator('.leaflet-popup').getByRole('link', { name: /^rover/ }).waitFor();
  // The map itself takes focus (Leaflet pans with the arrow keys).
  assert.equal(await page.locator('.map-canvas').getAttribute('tabindex'), '0');
  // Rules: New rule by keyboard moves focus into the editor.
  await page.goto(`${tp.baseUrl}/#/rules`);
  await page.locator('.rules-page[data-loaded="true"]').waitFor();
  await page.getByRole('button', { name: 'New rule' }).focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'New rule', 'the editor heading has focus');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), await page.getByLabel('Name').getAttribute('id'));
  // Delete asks for confirmation, and the confirm button takes focus.
  await page.getByRole('button', { name: 'Delete rover battery' }).focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Confirm delete rover battery');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel');
  assert.deepEqual(b.errors, []);
});

test('at 390×844 no page overflows horizontally, and the browser logged no errors', async () => {
  await b.page.setViewportSize({ width: 390, height: 844 });
  for (const [hash, name, ready] of pages()) {
    await b.page.goto(`${tp.baseUrl}/${hash}`);
    await ready(b.page);
    const { scrollWidth, innerWidth } = await horizontalOverflow(b.page);
    assert.ok(scrollWidth <= innerWidth, `${name}: scrollWidth ${scrollWidth} > innerWidth ${innerWidth}`);
    await b.shot(`60-phone-${name}`);
  }
  await b.page.getByRole('button', { name: 'Edit rover battery' }).click();
  await b.page.getByRole('button', { name: 'Run backtest' }).click();
  await b.page.getByText(/Would have fired/).waitFor();
  const { scrollWidth, innerWidth } = await horizontalOverflow(b.page);
  assert.ok(scrollWidth <= innerWidth, `rule editor: scrollWidth ${scrollWidth} > innerWidth ${innerWidth}`);
  await b.shot('61-phone-rule-editor');
  await b.page.getByRole('button', { name: 'Sign out' }).click();
  await b.page.getByRole('button', { name: 'Sign in' }).waitFor();
  const { scrollWidth: w } = await horizontalOverflow(b.page);
  assert.ok(w <= 390, `sign-in: ${w}`);
  await b.shot('62-phone-sign-in');
  assert.deepEqual(b.errors, []);
});
