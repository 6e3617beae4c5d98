/**
 * GET /api/auth/me answers the caller's permissions (what the dashboard's navigation is built
 * from): the built-in role's set, a custom role's own list, and a customer user's narrow set with
 * its customer.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestPlatform, type TestPlatform } from '../support/platform.js';

interface Me {
  role: string;
  permissions: string[];
  customerId?: string;
}

let tp: TestPlatform;
before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

test('the sysadmin has tenants:write; an operator has reads and operates, no writes', async () => {
  const me = await tp.api.request<Me>('GET', '/api/auth/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.role, 'sysadmin');
  assert.ok(me.body.permissions.includes('tenants:write'));
  assert.deepEqual(me.body.permissions, [...me.body.permissions].sort(), 'sorted');

  const who = { email: 'op@me.test', password: 'operator-pass-me-1' };
  assert.equal((await tp.api.request('POST', '/api/users', { ...who, role: 'operator' })).status, 201);
  const op = await (await apiClient(tp.baseUrl, who)).request<Me>('GET', '/api/auth/me');
  assert.ok(op.body.permissions.includes('commands:operate'));
  assert.ok(op.body.permissions.includes('devices:read'));
  assert.ok(!op.body.permissions.some((p) => p.endsWith(':write')), op.body.permissions.join(','));
  assert.ok(!op.body.permissions.includes('tenants:read'));
});

test("a custom role's user gets exactly its list; a customer user its narrow set and its customer", async () => {
  const role = await tp.api.request<{ role: string }>('POST', '/api/roles', { name: 'watcher', permissions: ['alarms:read', 'dashboards:read'] });
  assert.equal(role.status, 201);
  const watcher = { email: 'watch@me.test', password: 'watcher-pass-me-1' };
  assert.equal((await tp.api.request('POST', '/api/users', { ...watcher, role: role.body.role })).status, 201);
  const w = await (await apiClient(tp.baseUrl, watcher)).request<Me>('GET', '/api/auth/me');
  assert.deepEqual(w.body.permissions, ['alarms:read', 'dashboards:read']);

  const customer = await tp.api.request<{ id: string }>('POST', '/api/customers', { name: 'Me Corp' });
  const cu = { email: 'cu@me.test', password: 'customer-pass-me-1' };
  assert.equal((await tp.api.request('POST', '/api/users', { ...cu, role: 'customer-user', customerId: customer.body.id })).status, 201);
  const c = await (await apiClient(tp.baseUrl, cu)).request<Me>('GET', '/api/auth/me');
  assert.equal(c.body.customerId, customer.body.id);
  assert.ok(c.body.permissions.includes('devices:read'));
  assert.ok(!c.body.permissions.includes('customers:read') && !c.body.permissions.includes('rules:read'), c.body.permissions.join(','));
});
