/** Every /api route names its permission: a route without an entry stops startup. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { requireRouteRules } from '../../src/api/roles.js';
import { ruleOf } from '../../src/api/route-permissions.js';
import { allows, builtinPermissions, normalizeRole } from '../../src/domain/permissions.js';

test('an /api route with no entry in the permission table fails startup', async () => {
  const app = Fastify();
  requireRouteRules(app);
  app.get('/api/devices', async () => ({}));
  // Registered by a plugin, as the platform's routes are: startup (ready) fails.
  const start = async () => {
    await app.register(async (api) => {
      api.get('/not-in-the-table', async () => ({}));
    }, { prefix: '/api' });
    await app.ready();
  };
  await assert.rejects(start(), /GET \/api\/not-in-the-table has no entry in the permission table/);
  await app.close().catch(() => undefined);
});

test('mapped routes, and routes outside /api, register', async () => {
  const app = Fastify();
  requireRouteRules(app);
  app.get('/api/devices/:id', async () => ({}));
  app.post('/api/devices/:id/attributes/:scope', async () => ({}));
  app.get('/healthz', async () => ({}));
  await app.ready();
  await app.close();
});

test('built-in roles: what each may do on a sample of routes', () => {
  const cases: [string, string, Record<string, string>, Record<string, boolean>][] = [
    ['GET', '/api/devices', {}, { sysadmin: true, 'tenant-admin': true, operator: true, viewer: true, 'customer-user': true }],
    ['POST', '/api/devices', {}, { sysadmin: true, 'tenant-admin': true, operator: false, viewer: false, 'customer-user': false }],
    ['GET', '/api/devices/:id/credentials', {}, { sysadmin: true, 'tenant-admin': true, operator: false, viewer: false, 'customer-user': false }],
    ['GET', '/api/audit', {}, { sysadmin: true, 'tenant-admin': true, operator: false, viewer: false, 'customer-user': false }],
    ['POST', '/api/devices/:id/commands', {}, { sysadmin: true, 'tenant-admin': true, operator: true, viewer: false, 'customer-user': true }],
    ['POST', '/api/devices/:id/attributes/:scope', { scope: 'shared' }, { sysadmin: true, 'tenant-admin': true, operator: true, viewer: false, 'customer-user': true }],
    ['POST', '/api/devices/:id/attributes/:scope', { scope: 'server' }, { sysadmin: true, 'tenant-admin': true, operator: false, viewer: false, 'customer-user': false }],
    ['POST', '/api/alarms/:id/ack', {}, { sysadmin: true, 'tenant-admin': true, operator: true, viewer: false, 'customer-user': true }],
    ['POST', '/api/tenants', {}, { sysadmin: true, 'tenant-admin': false, operator: false, viewer: false, 'customer-user': false }],
    ['POST', '/api/roles', {}, { sysadmin: true, 'tenant-admin': true, operator: false, viewer: false, 'customer-user': false }],
  ];
  let cells = 0;
  for (const [method, url, params, expected] of cases) {
    const rule = ruleOf(method, url);
    assert.ok(rule !== undefined && rule !== 'self' && rule !== 'public', `${method} ${url}`);
    const needed = typeof rule === 'function' ? rule(params) : rule;
    for (const [role, may] of Object.entries(expected)) {
      const r = normalizeRole(role);
      assert.ok(r && r !== undefined && !r.startsWith('custom:'));
      assert.equal(allows(builtinPermissions(r as Parameters<typeof builtinPermissions>[0]), needed), may, `${role} ${method} ${url} ${JSON.stringify(params)}`);
      cells += 1;
    }
  }
  assert.equal(cells, 50);
  assert.equal(normalizeRole('admin'), 'tenant-admin');
  assert.equal(normalizeRole('user'), 'operator');
  assert.equal(normalizeRole('root'), undefined);
});
