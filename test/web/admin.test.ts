/**
 * The operator tooling in Chromium against a whole platform: the admin manages users and reads
 * the audit log; an operator sees neither, manages their own API keys and password, and signing
 * out revokes the session on the server; the sign-in form shows the login throttle's wait.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, eventually, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { axeSerious, buildWeb, openBrowser, signIn, type Browser } from './browser-support.js';

const OPERATOR = { email: 'operator@test.local', password: 'operator-password-1' };
const OPERATOR_NEW_PASSWORD = 'operator-password-2';
let tp: TestPlatform;
let admin: Browser;

interface UserRow {
  id: string;
  email: string;
  role: string;
  disabled: boolean;
}

async function users(): Promise<UserRow[]> {
  return (await tp.api.request<UserRow[]>('GET', '/api/users')).body;
}

async function userByEmail(email: string): Promise<UserRow | undefined> {
  return (await users()).find((u) => u.email === email);
}

/** GET /api/auth/me from inside the page with the given headers: the status only. */
function meStatus(b: Browser, headers: Record<string, string>): Promise<number> {
  return b.page.evaluate(async (h) => (await fetch('/api/auth/me', { headers: h })).status, headers);
}

const sessionToken = (b: Browser): Promise<string> => b.page.evaluate(() => (JSON.parse(sessionStorage.getItem('continuum.session') ?? '{}') as { token: string }).token);

before(async () => {
  await buildWeb();
  // A low account lockout threshold keeps the throttle test short; the address limit stays above
  // what the whole file spends from 127.0.0.1.
  tp = await startTestPlatform({ config: { auth: { adminEmail: ADMIN.email, adminPassword: ADMIN.password, jwtTtlSeconds: 3600, passwordHashCost: 1024, loginMaxFailures: 3, loginMaxFailuresPerAddress: 50 } } });
  admin = await openBrowser();
  await signIn(admin.page, tp.baseUrl);
});

after(async () => {
  await admin?.close();
  await tp?.stop();
});

test('the admin creates an operator on the Users page, with the server\'s password and last-admin refusals shown', async () => {
  const { page } = admin;
  await page.getByRole('link', { name: 'Users' }).click();
  await page.locator('.users-page[data-loaded="true"]').waitFor();
  await page.locator('tr', { hasText: ADMIN.email }).waitFor();

  // The password policy is the server's: its 400 message is shown as it is.
  await page.getByLabel('Email', { exact: true }).fill(OPERATOR.email);
  await page.getByLabel('Password', { exact: true }).fill('too-short');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByRole('alert').filter({ hasText: 'password must have at least 12 characters (got 9)' }).waitFor();
  assert.equal(await userByEmail(OPERATOR.email), undefined);

  await page.getByLabel('Password', { exact: true }).fill(OPERATOR.password);
  await page.getByLabel('Role', { exact: true }).selectOption('operator');
  await page.getByRole('button', { name: 'Create user' }).click();
  const row = page.locator('tr', { hasText: OPERATOR.email });
  await row.waitFor();
  assert.equal(await page.getByLabel(`Role of ${OPERATOR.email}`).inputValue(), 'operator');
  assert.equal((await userByEmail(OPERATOR.email))?.role, 'operator');

  // The last enabled admin cannot disable itself: the 409 message says why, nothing changes.
  await page.getByRole('button', { name: `Disable ${ADMIN.email}` }).click();
  await page.getByRole('alert').filter({ hasText: 'is the last enabled admin of the tenant' }).waitFor();
  assert.equal((await userByEmail(ADMIN.email))?.disabled, false);
  // Nor demote itself: the select goes back to sysadmin (the first admin is the system admin).
  await page.getByLabel(`Role of ${ADMIN.email}`).selectOption('operator');
  await eventually(async () => ((await page.getByLabel(`Role of ${ADMIN.email}`).inputValue()) === 'sysadmin' ? true : undefined), 10_000, 'role select reverted');
  assert.equal((await userByEmail(ADMIN.email))?.role, 'sysadmin');

  // Role change, disable/enable, set password, and delete behind a confirmation.
  await page.getByLabel(`Role of ${OPERATOR.email}`).selectOption('tenant-admin');
  await eventually(async () => ((await userByEmail(OPERATOR.email))?.role === 'tenant-admin' ? true : undefined), 10_000, 'promoted');
  await page.getByLabel(`Role of ${OPERATOR.email}`).selectOption('operator');
  await eventually(async () => ((await userByEmail(OPERATOR.email))?.role === 'operator' ? true : undefined), 10_000, 'demoted');
  await page.getByRole('button', { name: `Disable ${OPERATOR.email}` }).click();
  await row.getByText('disabled').waitFor();
  assert.equal((await userByEmail(OPERATOR.email))?.disabled, true);
  await page.getByRole('button', { name: `Enable ${OPERATOR.email}` }).click();
  await row.getByText('enabled').waitFor();
  assert.equal((await userByEmail(OPERATOR.email))?.disabled, false);
  await page.getByRole('button', { name: `Set password of ${OPERATOR.email}` }).click();
  await page.getByLabel(`New password for ${OPERATOR.email}`).fill(OPERATOR.password.replace('1', '3'));
  await page.getByRole('button', { name: 'Save password' }).click();
  await page.getByRole('status').filter({ hasText: `New password set for ${OPERATOR.email}` }).waitFor();
  await page.getByRole('button', { name: `Set password of ${OPERATOR.email}` }).click();
  await page.getByLabel(`New password for ${OPERATOR.email}`).fill(OPERATOR.password);
  await page.getByRole('button', { name: 'Save password' }).click();
  await eventually(async () => ((await page.getByLabel(`New password for ${OPERATOR.email}`).count()) === 0 ? true : undefined), 10_000, 'form closed by the reload');

  const temp = await tp.api.request('POST', '/api/users', { email: 'temp@test.local', password: 'temporary-password-1', role: 'user' });
  assert.equal(temp.status, 201);
  await page.reload();
  await page.getByRole('button', { name: 'Delete temp@test.local' }).click();
  assert.ok(await userByEmail('temp@test.local'), 'nothing deleted before confirming');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Delete temp@test.local' }).click();
  await page.getByRole('button', { name: 'Confirm delete temp@test.local' }).click();
  await eventually(async () => ((await page.locator('tr', { hasText: 'temp@test.local' }).count()) === 0 ? true : undefined), 10_000, 'row gone');
  assert.equal(await userByEmail('temp@test.local'), undefined);
  await admin.shot('70-users');
  // Chromium logs the expected 400 and 409 answers as console errors; only later ones count.
  admin.errors.length = 0;
});

test('the Audit page lists the user creation and the sign-in with its address, filters sign-ins, and shows details as text', async () => {
  const { page } = admin;
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.locator('.audit-page[data-loaded="true"]').waitFor();
  const created = page.locator('tr[data-action="POST /api/users"]', { has: page.getByText('success', { exact: true }), hasText: OPERATOR.email });
  await created.waitFor();
  assert.equal(await created.locator('td[data-label="Who"]').innerText(), ADMIN.email);
  const signIn = page.locator('tr[data-action="auth.login"]').first();
  assert.equal(await signIn.locator('td[data-label="Who"]').innerText(), ADMIN.email);
  assert.equal(await signIn.locator('td[data-label="Address"]').innerText(), '127.0.0.1');

  // Newest first.
  const times = await page.locator('tbody time').evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('datetime') ?? '')));
  assert.deepEqual(times, [...times].sort((a, b) => b - a));

  // Details: the recorded body, password redacted, as text in a <pre>.
  await created.locator('summary').click();
  const details = await created.locator('pre.audit-details').innerText();
  assert.match(details, new RegExp(`"email": "${OPERATOR.email}"`));
  assert.doesNotMatch(details, new RegExp(OPERATOR.password));
  await admin.shot('71-audit');

  await page.getByLabel('Action').selectOption('auth.');
  await eventually(async () => {
    const actions = await page.locator('tbody tr[data-action]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action') ?? ''));
    return actions.length > 0 && actions.every((a) => a.startsWith('auth.')) ? actions : undefined;
  }, 10_000, 'only sign-ins listed');
  await page.getByLabel('Outcome').selectOption('failure');
  await page.getByText('No entries match.').waitFor();
  assert.deepEqual((await axeSerious(page)).map((v) => v.id), []);
  assert.deepEqual(admin.errors, []);
});

test('an operator sees no Users or Audit, creates and deletes an API key, and changes the password (the old token answers 401, the tab carries on)', async () => {
  const op = await openBrowser();
  try {
    await op.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: tp.baseUrl });
    await signIn(op.page, tp.baseUrl, OPERATOR);
    const { page } = op;
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Rules' }).waitFor();
    for (const name of ['Users', 'Audit']) assert.equal(await nav.getByRole('link', { name }).count(), 0, name);
    // Reached by URL anyway: a clear message, no request to the admin API.
    await page.goto(`${tp.baseUrl}/#/audit`);
    await page.getByText('Only admins can read the audit log.').waitFor();
    await page.goto(`${tp.baseUrl}/#/users`);
    await page.getByText('Only admins can manage users.').waitFor();

    await page.getByRole('link', { name: 'My account' }).click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.getByText('No API keys.').waitFor();
    await page.getByLabel('Key name').fill('ci script');
    await page.getByLabel('Expires').selectOption({ label: 'In 30 days' });
    await page.getByRole('button', { name: 'Create API key' }).click();
    const keyField = page.getByLabel('New API key');
    await keyField.waitFor();
    const key = await keyField.inputValue();
    assert.match(key, /^ck_/);
    await page.getByRole('button', { name: 'Copy key' }).click();
    await page.getByText('Copied.').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
    await page.locator('tr', { hasText: 'ci script' }).waitFor();
    assert.equal(await meStatus(op, { 'x-api-key': key }), 200);
    assert.deepEqual((await axeSerious(page)).map((v) => v.id), []);
    await op.shot('72-account-new-key');

    await page.getByRole('button', { name: 'Delete API key ci script' }).click();
    await page.getByRole('button', { name: 'Confirm delete ci script' }).click();
    await page.getByText('No API keys.').waitFor();
    assert.equal(await page.getByLabel('New API key').count(), 0, 'the key is not shown again');
    assert.equal(await meStatus(op, { 'x-api-key': key }), 401);

    // Password change: the old token stops working, this tab carries on with the new one.
    const before = await sessionToken(op);
    await page.getByLabel('Current password').fill(OPERATOR.password);
    await page.getByLabel('New password', { exact: true }).fill(OPERATOR_NEW_PASSWORD);
    await page.getByLabel('New password again').fill(OPERATOR_NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed. Your other sessions were signed out.').waitFor();
    const after = await sessionToken(op);
    assert.notEqual(after, before);
    assert.equal(await meStatus(op, { authorization: `Bearer ${before}` }), 401);
    assert.equal(await meStatus(op, { authorization: `Bearer ${after}` }), 200);
    await nav.getByRole('link', { name: 'Fleet' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    await page.getByText('Live', { exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign in' }).count(), 0, 'still signed in');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(await meStatus(op, { authorization: `Bearer ${after}` }), 401);
    // The 401 answers above are logged by Chromium itself; nothing else may be.
    assert.deepEqual(op.errors.filter((e) => !/status of 401/.test(e)), []);
    await signIn(page, tp.baseUrl, { email: OPERATOR.email, password: OPERATOR_NEW_PASSWORD });
  } finally {
    await op.close();
  }
});

test('regression: signing out only forgot the token in the browser, and a copy of it kept working', async () => {
  const who = { email: 'leaver@test.local', password: 'leaver-password-1' };
  assert.equal((await tp.api.request('POST', '/api/users', { ...who, role: 'user' })).status, 201);
  const b = await openBrowser();
  try {
    await signIn(b.page, tp.baseUrl, who);
    const token = await sessionToken(b);
    assert.equal(await meStatus(b, { authorization: `Bearer ${token}` }), 200);
    await b.page.getByRole('button', { name: 'Sign out' }).click();
    await b.page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(await b.page.evaluate(() => sessionStorage.getItem('continuum.session')), null);
    assert.equal(await meStatus(b, { authorization: `Bearer ${token}` }), 401, 'the server revoked the session');
    assert.deepEqual(b.errors.filter((e) => !/status of 401/.test(e)), []);
  } finally {
    await b.close();
  }
});

test('regression: a locked-out sign-in said "Sign-in failed (429)"; it now says "Too many attempts — try again in N s" with the Retry-After wait', async () => {
  const created = await tp.api.request('POST', '/api/users', { email: 'locked@test.local', password: 'locked-password-1', role: 'user' });
  assert.equal(created.status, 201);
  const b = await openBrowser();
  try {
    const { page } = b;
    await page.goto(`${tp.baseUrl}/`);
    await page.getByLabel('Email').fill('locked@test.local');
    const alert = page.getByRole('alert');
    for (let i = 0; i < 3; i++) {
      await page.getByLabel('Password').fill(`wrong-password-${i}`);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await alert.filter({ hasText: 'Wrong email or password.' }).waitFor();
      await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
    }
    // Locked now: even the right password is refused, with the wait the server sent.
    await page.getByLabel('Password').fill('locked-password-1');
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/auth/login'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    const res = await answer;
    assert.equal(res.status(), 429);
    const wait = Number(res.headers()['retry-after']);
    assert.ok(wait >= 1, `Retry-After ${wait}`);
    await alert.filter({ hasText: `Too many attempts — try again in ${wait} s.` }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Devices' }).count(), 0);
    assert.deepEqual(b.errors.filter((e) => !/status of (401|429)/.test(e)), []);
  } finally {
    await b.close();
  }
});
