/**
 * OpenID Connect sign-in against a real provider (oidc-provider in this process): the redirects
 * driven with fetch, the one-time code exchanged for our JWT, claims mapped to role and tenant,
 * identities linked; refused: a wrong state, a replayed callback, an unknown tenant, a disabled
 * account, and (at the adapter) a PKCE verifier that does not match the challenge.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createOpenIdClient } from '../../src/adapters/oidc/openid-client/client.js';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import type { TestPlatform } from '../support/platform.js';
import { startOidcPlatform, type OidcPlatform } from '../support/oidc-platform.js';
import { Browserish, signInAtProvider, type TestOidcProvider } from '../support/oidc-provider.js';

const CLIENT_ID = 'continuum-test';
const ACCOUNTS = {
  alice: { email: 'alice@example.com', email_verified: true, continuum_role: 'ops', tenant: DEFAULT_TENANT_ID },
  bob: { email: 'bob@example.com', email_verified: true, continuum_role: ['staff', 'boss'], tenant: DEFAULT_TENANT_ID },
  mallory: { email: 'mallory@example.com', email_verified: true, continuum_role: 'ops', tenant: 'no-such-tenant' },
  carol: { email: 'carol@example.com', email_verified: true, tenant: DEFAULT_TENANT_ID },
};

let oidc: OidcPlatform;
let provider: TestOidcProvider;
let tp: TestPlatform;
let callback: string;

before(async () => {
  oidc = await startOidcPlatform(ACCOUNTS, { clientId: CLIENT_ID, roleMap: { ops: 'operator', boss: 'tenant-admin', staff: 'viewer' }, label: 'Sign in with TestID' });
  ({ provider, tp, callback } = oidc);
});

after(async () => {
  await oidc.stop();
});

/** Our login → the provider's pages → the callback URL the provider sends the browser to. */
async function providerRedirect(login: string): Promise<string> {
  const browser = new Browserish();
  const start = await browser.get(`${tp.baseUrl}/api/auth/oidc/login`);
  assert.equal(start.status, 302);
  const location = start.headers.get('location') ?? '';
  assert.ok(location.startsWith(`${provider.issuer}/`), location);
  const auth = new URL(location);
  assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(auth.searchParams.get('state') && auth.searchParams.get('nonce'));
  return signInAtProvider(browser, location, login, callback);
}

async function callbackOf(url: string): Promise<Response> {
  return fetch(url, { redirect: 'manual' });
}

async function signIn(login: string): Promise<{ token: string; me: { role: string; email: string; tenantId: string } }> {
  const res = await callbackOf(await providerRedirect(login));
  assert.equal(res.status, 302, await res.text());
  const location = res.headers.get('location') ?? '';
  // The token never travels in a URL: only a one-time code, in the fragment.
  assert.match(location, /^\/#\/oidc\?code=[A-Za-z0-9_-]+$/);
  const code = decodeURIComponent(location.split('code=')[1] ?? '');
  const exchanged = await fetch(`${tp.baseUrl}/api/auth/oidc/exchange`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
  assert.equal(exchanged.status, 200);
  const { token } = (await exchanged.json()) as { token: string };
  const again = await fetch(`${tp.baseUrl}/api/auth/oidc/exchange`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
  assert.equal(again.status, 401, 'the one-time code works once');
  const me = (await (await fetch(`${tp.baseUrl}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } })).json()) as { role: string; email: string; tenantId: string };
  return { token, me };
}

describe('OIDC sign-in against oidc-provider', () => {
  test('config is public and names the button', async () => {
    const res = await fetch(`${tp.baseUrl}/api/auth/oidc/config`);
    assert.deepEqual(await res.json(), { enabled: true, label: 'Sign in with TestID' });
  });

  test('first sign-in creates the account with the mapped role; the next one finds it again', async () => {
    const first = await signIn('alice');
    assert.deepEqual(first.me, { ...first.me, email: 'alice@example.com', role: 'operator', tenantId: DEFAULT_TENANT_ID });
    const devices = await fetch(`${tp.baseUrl}/api/devices`, { headers: { authorization: `Bearer ${first.token}` } });
    assert.equal(devices.status, 200);
    const second = await signIn('alice');
    assert.equal(second.me.role, 'operator');
    const users = await tp.api.request<{ email: string }[]>('GET', '/api/users');
    assert.equal(users.body.filter((u) => u.email === 'alice@example.com').length, 1, 'linked, not created twice');
    const audit = await tp.api.request<{ items?: { action: string; details?: { method?: string } }[] } | { action: string; details?: { method?: string } }[]>('GET', '/api/audit?action=auth.login');
    const entries = Array.isArray(audit.body) ? audit.body : (audit.body.items ?? []);
    assert.ok(entries.some((e) => e.action === 'auth.login' && e.details?.method === 'oidc'), JSON.stringify(audit.body).slice(0, 500));
  });

  test('several role values: the highest mapped one; no role claim: the default (viewer)', async () => {
    assert.equal((await signIn('bob')).me.role, 'tenant-admin');
    assert.equal((await signIn('carol')).me.role, 'viewer');
  });

  test('a wrong state is refused, the real one still works once; a replayed callback is refused', async () => {
    const url = new URL(await providerRedirect('alice'));
    const forged = new URL(url);
    forged.searchParams.set('state', 'forged-state');
    const refused = await callbackOf(forged.href);
    assert.equal(refused.status, 401);
    assert.match(await refused.text(), /unknown or expired sign-in state/);
    const ok = await callbackOf(url.href);
    assert.equal(ok.status, 302);
    const replay = await callbackOf(url.href);
    assert.equal(replay.status, 401, 'a state (and its code) is good once');
  });

  test('an unknown tenant in the claims is refused with a page saying so, and no account is made', async () => {
    const res = await callbackOf(await providerRedirect('mallory'));
    assert.equal(res.status, 403);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await res.text(), /unknown tenant no-such-tenant/);
    const users = await tp.api.request<{ email: string }[]>('GET', '/api/users');
    assert.ok(!users.body.some((u) => u.email === 'mallory@example.com'));
  });

  test('a disabled account is refused', async () => {
    const users = await tp.api.request<{ id: string; email: string }[]>('GET', '/api/users');
    const carol = users.body.find((u) => u.email === 'carol@example.com');
    assert.ok(carol);
    assert.equal((await tp.api.request('PATCH', `/api/users/${carol.id}`, { disabled: true })).status, 200);
    const res = await callbackOf(await providerRedirect('carol'));
    assert.equal(res.status, 401);
    assert.match(await res.text(), /disabled/);
  });

  test('PKCE: a verifier that does not match the challenge is refused by the provider', async () => {
    const client = createOpenIdClient({ issuer: provider.issuer, clientId: CLIENT_ID, allowInsecureHttp: true });
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(16).toString('base64url');
    const nonce = randomBytes(16).toString('base64url');
    const codeChallenge = createHash('sha256').update(verifier).digest('base64url');
    const url = await client.authorizationUrl({ redirectUri: callback, scope: 'openid email', state, nonce, codeChallenge });
    const back = new URL(await signInAtProvider(new Browserish(), url, 'alice', callback));
    await assert.rejects(client.exchange(back, { redirectUri: callback, state, nonce, codeVerifier: randomBytes(32).toString('base64url') }), { error: 'invalid_grant' });
  });
});
