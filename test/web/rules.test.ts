/**
 * The rules page in Chromium against a whole platform: create with API validation errors shown at
 * the field and at the line/column of the condition, backtest drawn before enabling, enable and
 * disable, edit, delete with confirmation; a `user` account sees the list read-only.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/ports.js';
import { AuthService } from '../../src/services/auth.js';
import { eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { buildWeb, openBrowser, run, signIn, type Browser } from './browser-support.js';

const VIEWER = { email: 'viewer@test.local', password: 'viewer-password-1' };
let tp: TestPlatform;
let b: Browser;
let tank: { id: string; accessToken: string };

interface RuleRow {
  actions?: unknown[];
  id: string;
  name: string;
  enabled: boolean;
  condition: string;
  deviceId?: string;
}

async function rules(): Promise<RuleRow[]> {
  return (await tp.api.request<{ items: RuleRow[] }>('GET', '/api/rules')).body.items;
}

before(async () => {
  await buildWeb();
  tp = await startTestPlatform();
  tank = await tp.api.createDevice('tank-3');
  const now = Date.now();
  // Two hours of levels, one a minute: above 80 % twice.
  const points = Array.from({ length: 120 }, (_, i) => ({ ts: now - (120 - i) * 60_000, values: { level: i === 30 || i === 31 || i === 90 ? 95 : 40 + (i % 10) } }));
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tp.ports.mqtt), '-u', tank.accessToken, '-q', '1', '-t', 'v1/devices/me/telemetry', '-m', JSON.stringify(points)]);
  const auth = new AuthService({ store: tp.platform.store, clock: systemClock, logger: tp.platform.logger, passwords: { cost: 1024 } });
  await auth.createUser({ ...VIEWER, role: 'user' });
  b = await openBrowser();
  await signIn(b.page, tp.baseUrl);
});

after(async () => {
  await b?.close();
  await tp?.stop();
});

test('creating a rule shows the API validation error at the field and at the position in the condition', async () => {
  const { page } = b;
  await page.getByRole('link', { name: 'Rules' }).click();
  await page.getByRole('heading', { name: 'Rules', exact: true }).waitFor();
  await page.getByText('No rules yet.').waitFor();
  await page.getByRole('button', { name: 'New rule' }).click();
  await page.getByLabel('Name').fill('tank high');
  await page.getByLabel('Applies to').selectOption('device');
  await page.getByLabel('Device', { exact: true }).selectOption({ label: 'tank-3' });
  await page.getByLabel('Condition').fill('level >\n  > 80');
  await page.getByRole('button', { name: 'Create rule' }).click();
  const condition = page.getByLabel('Condition');
  await eventually(async () => ((await condition.getAttribute('aria-invalid')) === 'true' ? true : undefined), 10_000, 'condition marked invalid');
  const message = await page.locator('.field-error', { hasText: /line 2/ }).innerText();
  assert.match(message, /column 3/);
  assert.match(await page.locator('pre.caret').innerText(), /^ {2}> 80\n {2}\^ line 2, column 3/);
  // Focus and selection sit at the error.
  assert.equal(await page.evaluate(() => (document.activeElement as HTMLTextAreaElement).selectionStart), 'level >\n  '.length);
  await page.screenshot({ path: 'test-output/screenshots/30-rule-error.png', fullPage: true });
  // Actions are forms per type (from the action's parameter schema), not JSON; the condition's
  // help links to the dashboard's own help page.
  assert.equal(await page.getByRole('link', { name: 'Expression help' }).getAttribute('href'), '#/help/rules');
  await condition.fill('level > 80');
  const alarm = page.getByRole('group', { name: 'Actions' }).locator('fieldset[data-action-type="alarm"]');
  assert.equal(await alarm.getByLabel('severity').inputValue(), 'warning');
  // An action parameter error lands at that parameter's field.
  await alarm.getByLabel('alarmType').fill('');
  await page.getByRole('button', { name: 'Create rule' }).click();
  await eventually(async () => ((await alarm.getByLabel('alarmType').getAttribute('aria-invalid')) === 'true' ? true : undefined), 10_000, 'alarmType marked invalid');
  assert.equal(await condition.getAttribute('aria-invalid'), null);
  assert.deepEqual(await rules(), []);
  await alarm.getByLabel('alarmType').fill('TankHigh');
  await alarm.getByLabel('severity').selectOption('major');
  await alarm.getByLabel('details (optional) (JSON or text)').fill('{"note": "tank ${deviceName}"}');
  // A second action, added by type: a command with its own fields.
  await page.getByLabel('Action type').selectOption('command');
  await page.getByRole('button', { name: 'Add action' }).click();
  const command = page.locator('fieldset[data-action-type="command"]');
  await command.getByLabel('method', { exact: true }).fill('closeValve');
  await command.getByLabel('params (optional) (JSON or text)').fill('{"valve": 2}');
  await page.screenshot({ path: 'test-output/screenshots/30-rule-actions-form.png', fullPage: true });
  await page.getByRole('button', { name: 'Create rule' }).click();
  await page.getByRole('heading', { name: 'Edit tank high' }).waitFor();
  // Chromium logs the expected 400 answers above as console errors; only later ones count.
  b.errors.length = 0;
  const saved = await rules();
  assert.equal(saved.length, 1);
  assert.equal(saved[0]?.enabled, false, 'new rules start disabled, to be backtested first');
  assert.equal(saved[0]?.deviceId, tank.id);
  assert.deepEqual(saved[0]?.actions, [
    { type: 'alarm', alarmType: 'TankHigh', severity: 'major', details: { note: 'tank ${deviceName}' } },
    { type: 'command', method: 'closeValve', params: { valve: 2 }, persistent: true, oneway: false },
  ]);
});

test('a backtest draws the key with markers where the rule would have fired, then enables the rule', async () => {
  const { page } = b;
  assert.equal(await page.getByLabel('Key to chart').inputValue(), 'level');
  await page.getByLabel('Backtest range').selectOption('24h');
  await page.getByRole('button', { name: 'Run backtest' }).click();
  await page.getByText(/Would have fired 2 times on 1 device over 24 hours/).waitFor();
  await page.locator('.backtest-chart[data-fired="2"] canvas').waitFor();
  await page.screenshot({ path: 'test-output/screenshots/31-rule-backtest.png', fullPage: true });
  await page.getByRole('button', { name: 'Enable rule' }).click();
  await eventually(async () => ((await rules())[0]?.enabled === true ? true : undefined), 10_000, 'enabled');
  // The list's toggle disables it again — once the list shows it enabled (regression: unchecking
  // a toggle the list had not yet redrawn as checked did nothing, and the test timed out).
  const toggle = page.getByLabel('Enabled: tank high');
  await eventually(async () => ((await toggle.isChecked()) ? true : undefined), 10_000, 'the list shows the rule enabled');
  await toggle.uncheck();
  await eventually(async () => ((await rules())[0]?.enabled === false ? true : undefined), 10_000, 'disabled');
});

test('editing keeps the id; delete asks for confirmation first', async () => {
  const { page } = b;
  await page.getByRole('button', { name: 'Edit tank high' }).click();
  await page.getByLabel('Condition').fill('level > 90');
  await page.getByRole('button', { name: 'Save rule' }).click();
  await eventually(async () => ((await rules())[0]?.condition === 'level > 90' ? true : undefined), 10_000, 'edited');
  await page.getByRole('button', { name: 'Delete tank high' }).click();
  assert.equal((await rules()).length, 1, 'nothing deleted before confirming');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Delete tank high' }).click();
  await page.getByRole('button', { name: 'Confirm delete tank high' }).click();
  await page.getByText('No rules yet.').waitFor();
  assert.deepEqual(await rules(), []);
  assert.deepEqual(b.errors, []);
});

test('an operator (role user) operates but does not configure: no rule editor, create, edit, delete, import or credentials; commands and set points stay', async () => {
  const created = await tp.api.request('POST', '/api/rules', { name: 'visible rule', condition: 'level > 99', actions: [] });
  assert.equal(created.status, 201);
  const viewer = await openBrowser();
  try {
    await signIn(viewer.page, tp.baseUrl, VIEWER);
    assert.equal(await viewer.page.locator('details.import').count(), 0, 'no CSV import');
    await viewer.page.getByRole('link', { name: 'Rules' }).click();
    await viewer.page.locator('tr', { hasText: 'visible rule' }).waitFor();
    await viewer.page.getByText('Read-only: your role cannot change rules.').waitFor();
    for (const name of ['New rule', 'Edit visible rule', 'Delete visible rule']) assert.equal(await viewer.page.getByRole('button', { name }).count(), 0, name);
    assert.equal(await viewer.page.getByRole('checkbox').count(), 0);
    assert.equal(await viewer.page.locator('.rule-editor').count(), 0);
    await viewer.page.goto(`${tp.baseUrl}/#/devices/${tank.id}`);
    await viewer.page.getByRole('heading', { name: 'tank-3' }).waitFor();
    assert.equal(await viewer.page.getByRole('heading', { name: 'Credentials' }).count(), 0);
    await viewer.page.getByRole('heading', { name: 'Commands' }).waitFor();
    for (const name of ['Send command', 'Set shared attribute']) assert.equal(await viewer.page.getByRole('button', { name }).count(), 1, name);
    assert.deepEqual(viewer.errors, []);
    // And what the page hides, the API refuses (the browser logs the 403 itself).
    const refused = await viewer.page.evaluate(async (id) => {
      const session = JSON.parse(sessionStorage.getItem('continuum.session') ?? '{}') as { token?: string };
      const res = await fetch(`/api/devices/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${session.token ?? ''}` } });
      return res.status;
    }, tank.id);
    assert.equal(refused, 403);
  } finally {
    await viewer.close();
  }
});
