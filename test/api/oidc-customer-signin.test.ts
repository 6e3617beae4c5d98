/**
 * Customer users through OpenID Connect (issue 15): against a real provider (oidc-provider in this
 * process), a role claim mapped to customer-user plus a customer claim — the id of one of the
 * tenant's customers, or its exact name — creates the account bound to that customer, which then
 * sees only the customer's devices. A claim naming no customer of the tenant is refused with a
 * page saying so, and no account is made; an account cannot be moved to another customer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import type { TestPlatform } from '../support/platform.js';
import { startOidcPlatform, type OidcPlatform } from '../support/oidc-platform.js';
import { Browserish, signInAtProvider, type AccountClaims } from '../support/oidc-provider.js';

const CLIENT_ID = 'continuum-customers';
const client = (email: string, customer: string): AccountClaims => ({ email, email_verified: true, continuum_role: 'client', tenant: DEFAULT_TENANT_ID, continuum_customer: customer });
// Claims are read at each sign-in: the tests fill in ids once the customers exist.
const ACCOUNTS: Record<string, AccountClaims> = {
  dora: client('dora@acme.example', 'Acme Farms'),
  eli: client('eli@acme.example', ''),
  fay: client('fay@nowhere.example', 'No Such Customer'),
};

let oidc: OidcPlatform;
let tp: TestPlatform;
let callback: string;
let acme: string;
let other: string;

before(async () => {
  oidc = await startOidcPlatform(ACCOUNTS, { clientId: CLIENT_ID, customerClaim: 'continuum_customer', roleMap: { client: 'customer-user', ops: 'operator' } });
  ({ tp, callback } = oidc);
  acme = (await tp.api.request<{ id: string }>('POST', '/api/customers', { name: 'Acme Farms' })).body.id;
  other = (await tp.api.request<{ id: string }>('POST', '/api/customers', { name: 'Other Farms' })).body.id;
  ACCOUNTS.eli = client('eli@acme.example', acme);
});

after(async () => {
  await oidc.stop();
});

async function callbackOf(login: string): Promise<Response> {
  const browser = new Browserish();
  const start = await browser.get(`${tp.baseUrl}/api/auth/oidc/login`);
  assert.equal(start.status, 302);
  return fetch(await signInAtProvider(browser, start.headers.get('location') ?? '', login, callback), { redirect: 'manual' });
}

async function tokenOf(login: string): Promise<string> {
  const res = await callbackOf(login);
  assert.equal(res.status, 302, await res.text());
  const code = decodeURIComponent((res.headers.get('location') ?? '').split('code=')[1] ?? '');
  const exchanged = await fetch(`${tp.baseUrl}/api/auth/oidc/exchange`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
  assert.equal(exchanged.status, 200);
  return ((await exchanged.json()) as { token: string }).token;
}

type UserView = { id: string; email: string; role: string; customerId?: string };
const userByEmail = async (email: string): Promise<UserView | undefined> => (await tp.api.request<UserView[]>('GET', '/api/users')).body.find((u) => u.email === email);

describe('customer users through OIDC', () => {
  test("a customer named by its name: the account is created under it and lists that customer's devices only", async () => {
    const mine = await tp.api.createDevice('acme-pump');
    await tp.api.createDevice('tenant-pump');
    assert.equal((await tp.api.request('POST', `/api/customers/${acme}/devices`, { deviceIds: [mine.id] })).status, 204);
    const token = await tokenOf('dora');
    assert.deepEqual(await userByEmail('dora@acme.example'), { ...(await userByEmail('dora@acme.example')), role: 'customer-user', customerId: acme });
    const list = await fetch(`${tp.baseUrl}/api/devices?limit=100&offset=0`, { headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(((await list.json()) as { items: { id: string }[] }).items.map((d) => d.id), [mine.id]);
    await tokenOf('dora');
    assert.equal((await tp.api.request<UserView[]>('GET', '/api/users')).body.filter((u) => u.email === 'dora@acme.example').length, 1, 'linked again, not created twice');
  });

  test('a customer named by its id works alike', async () => {
    await tokenOf('eli');
    const eli = await userByEmail('eli@acme.example');
    assert.equal(eli?.role, 'customer-user');
    assert.equal(eli?.customerId, acme);
  });

  test('a claim naming no customer of the tenant is refused with a page saying so, and no account is made', async () => {
    const res = await callbackOf('fay');
    assert.equal(res.status, 403);
    assert.match(await res.text(), /names no customer of this tenant/);
    assert.equal(await userByEmail('fay@nowhere.example'), undefined);
  });

  test('an existing customer user whose claim now names another customer is refused, and stays where it was', async () => {
    ACCOUNTS.eli = client('eli@acme.example', other);
    const res = await callbackOf('eli');
    assert.equal(res.status, 403);
    assert.match(await res.text(), /another customer/);
    assert.equal((await userByEmail('eli@acme.example'))?.customerId, acme);
  });
});
