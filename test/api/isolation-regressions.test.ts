/**
 * Leaks the isolation matrix (isolation-matrix.test.ts) found, each pinned by a test named after it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let tenantAdmin: ApiClient;
let tenantAdminToken: string;
const TA = { email: 'ta@metrics.test', password: 'metrics-tenant-password-1' };

before(async () => {
  tp = await startTestPlatform();
  const tenant = await tp.api.request<{ id: string }>('POST', '/api/tenants', { name: 'Tenant M' });
  assert.equal((await tp.api.request('POST', `/api/tenants/${tenant.body.id}/users`, { ...TA, role: 'tenant-admin' })).status, 201);
  tenantAdmin = await apiClient(tp.baseUrl, TA);
  const login = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(TA) });
  tenantAdminToken = ((await login.json()) as { token: string }).token;
});
after(async () => {
  await tp.stop();
});

test("regression: a tenant admin read /metrics, whose labels name every tenant's ids", async () => {
  const res = await fetch(`${tp.baseUrl}/metrics`, { headers: { authorization: `Bearer ${tenantAdminToken}` } });
  assert.equal(res.status, 403);
  await res.text();
  // A custom role cannot hand the permission out either.
  const role = await tenantAdmin.request<{ message: string }>('POST', '/api/roles', { name: 'scraper', permissions: ['metrics:read'] });
  assert.equal(role.status, 400);
  assert.match(role.body.message, /platform permissions \(metrics:read\)/);
  // The platform's operator still reads them.
  const sysadminLogin = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@test.local', password: 'test-password-1' }) });
  const { token } = (await sysadminLogin.json()) as { token: string };
  const ok = await fetch(`${tp.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(ok.status, 200);
  await ok.text();
});
