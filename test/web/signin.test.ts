/**
 * Sign-in in Chromium: single sign-on end to end against a real OpenID provider (oidc-provider,
 * its development login and consent pages) landing on the dashboard with the mapped role; and a
 * local account turning on two-step sign-in on My account, then signing in with the code the
 * authenticator (otpauth, here) shows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import { ADMIN, startTestPlatform, type TestPlatform } from '../support/platform.js';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { buildWeb, openBrowser, signIn, type Browser } from './browser-support.js';

const CLIENT_ID = 'continuum-web';
const OPERATOR = { email: 'two-step@test.local', password: 'operator-password-1' };
let provider: TestOidcProvider;
let tp: TestPlatform;
let browser: Browser;

before(async () => {
  await buildWeb();
  provider = await startOidcProvider({ dana: { email: 'dana@example.com', email_verified: true, continuum_role: 'ops', tenant: DEFAULT_TENANT_ID } });
  tp = await startTestPlatform({
    config: {
      auth: {
        adminEmail: ADMIN.email,
        adminPassword: ADMIN.password,
        jwtTtlSeconds: 3600,
        passwordHashCost: 1024,
        oidc: { issuer: provider.issuer, clientId: CLIENT_ID, roleClaim: 'continuum_role', tenantClaim: 'tenant', roleMap: { ops: 'operator' }, label: 'Sign in with TestID', allowInsecureHttp: true },
      },
    },
  });
  provider.register({ clientId: CLIENT_ID, redirectUri: `${tp.baseUrl}/api/auth/oidc/callback` });
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await tp?.stop();
  await provider?.stop();
});

test('"Sign in with TestID": the provider\'s login and consent, then the dashboard signed in as an operator', async () => {
  const { page } = browser;
  await page.goto(`${tp.baseUrl}/`);
  await page.getByRole('link', { name: 'Sign in with TestID' }).click();
  await page.locator('input[name="login"]').fill('dana');
  await page.locator('input[name="password"]').fill('anything');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
  assert.ok(!page.url().includes('code='), `the one-time code is gone from the address bar: ${page.url()}`);
  const me = await page.evaluate(async () => {
    const { token } = JSON.parse(sessionStorage.getItem('continuum.session') ?? '{}') as { token: string };
    return (await fetch('/api/auth/me', { headers: { authorization: `Bearer ${token}` } })).json() as Promise<{ email: string; role: string }>;
  });
  assert.equal(me.email, 'dana@example.com');
  assert.equal(me.role, 'operator');
  await page.evaluate(() => sessionStorage.clear());
});

test('two-step sign-in: enrol on My account, keep the recovery codes, then sign in with the authenticator code', async () => {
  assert.equal((await tp.api.request('POST', '/api/users', { ...OPERATOR, role: 'user' })).status, 201);
  const { page } = browser;
  await signIn(page, tp.baseUrl, OPERATOR);
  await page.goto(`${tp.baseUrl}/#/account`);
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
  assert.match(await page.locator('#totp-uri').inputValue(), /^otpauth:\/\/totp\//);
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(await page.locator('#totp-secret').inputValue()) });
  await page.getByLabel('Code from the app').fill(totp.generate());
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.locator('#recovery-codes li').nth(9).waitFor();

  await page.evaluate(() => sessionStorage.clear());
  await page.goto(`${tp.baseUrl}/`);
  await page.reload();
  await page.getByLabel('Email').fill(OPERATOR.email);
  await page.getByLabel('Password').fill(OPERATOR.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByText('Enter the 6-digit code from your authenticator app.').waitFor();
  // The confirming code's time step is spent: the app's next code (one step of drift is allowed).
  await page.getByLabel('Authenticator code').fill(totp.generate({ timestamp: Date.now() + 30_000 }));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
});
