/**
 * The Store parts issue 15 added (tenancy and custom roles, customers and device groups, OIDC
 * identities and TOTP, API-key roles, MQTT grants, quotas) on every backend: memory, SQLite and
 * PostgreSQL must answer alike.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore } from '../../../src/adapters/store/memory/index.js';
import { createSqliteStore } from '../../../src/adapters/store/sqlite/index.js';
import type { Store, User } from '../../../src/ports.js';
import { device, seed, T1, T2 } from './contract.js';
import { createTestDatabase, type TestDatabase } from './postgres-support.js';

const dir = mkdtempSync(join(tmpdir(), 'continuum-access-parts-'));
let pgDb: TestDatabase;
before(async () => {
  pgDb = await createTestDatabase();
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pgDb.drop();
});

const factories: [string, () => Store | Promise<Store>][] = [
  ['memory', () => createMemoryStore()],
  ['sqlite', () => createSqliteStore({ file: join(dir, `${Math.random()}`, 'continuum.db'), synchronous: 'NORMAL' })],
  ['postgres', () => pgDb.store()],
];

const user = (id: string, extra: Partial<User> = {}): User => ({
  id, tenantId: T1, email: `${id}@test.local`, passwordHash: 'h', role: 'operator', createdAt: 1, disabled: false, tokenVersion: 0, ...extra,
});

for (const [kind, make] of factories) {
  describe(`issue 15 store parts (${kind})`, () => {
    it('tenants: insert, conflict, patch, list; custom roles unique by name per tenant', async () => {
      const store = await make();
      await seed(store);
      const T3 = '00000000-0000-4000-8000-000000000003';
      await store.insertTenant({ id: T3, name: 'three', status: 'active', createdAt: 5 });
      await assert.rejects(store.insertTenant({ id: T3, name: 'again', status: 'active', createdAt: 6 }), { code: 'CONFLICT' });
      assert.deepEqual(await store.updateTenant(T3, { status: 'suspended' }), { id: T3, name: 'three', status: 'suspended', createdAt: 5 });
      assert.equal((await store.getTenant(T3))?.status, 'suspended');
      assert.equal(await store.updateTenant('nope', { name: 'x' }), undefined);
      assert.ok((await store.listTenants()).some((t) => t.id === T3));
      const role = { id: 'r1', tenantId: T1, name: 'reader', permissions: ['devices:read' as const], scope: { customerId: 'c1' }, createdAt: 7 };
      await store.saveRole(role);
      await assert.rejects(store.saveRole({ ...role, id: 'r2' }), { code: 'CONFLICT' });
      await store.saveRole({ ...role, name: 'renamed' });
      assert.deepEqual(await store.getRole('r1'), { ...role, name: 'renamed' });
      assert.deepEqual((await store.listRoles(T1)).map((r) => r.id), ['r1']);
      assert.equal(await store.deleteRole('r1'), true);
      assert.equal(await store.deleteRole('r1'), false);
      assert.equal(await store.deleteTenant(T3), true);
      assert.equal(await store.getTenant(T3), undefined);
      await store.close();
    });

    it('customers and groups: unique names, assignments on devices and users, members', async () => {
      const store = await make();
      await seed(store);
      await store.insertCustomer({ id: 'c1', tenantId: T1, name: 'Home', createdAt: 1 });
      await store.insertCustomer({ id: 'c2', tenantId: T1, name: 'Garage', parentId: 'c1', createdAt: 2 });
      await assert.rejects(store.insertCustomer({ id: 'c3', tenantId: T1, name: 'Home', createdAt: 3 }), { code: 'CONFLICT' });
      assert.deepEqual((await store.listCustomers(T1)).map((c) => c.id), ['c2', 'c1']);
      assert.deepEqual(await store.getCustomer('c2'), { id: 'c2', tenantId: T1, name: 'Garage', parentId: 'c1', createdAt: 2 });
      const d1 = device('m1');
      const d2 = device('m2');
      await store.insertDevice(d1, []);
      await store.insertDevice(d2, []);
      await store.setDeviceCustomer([d1.id], 'c2');
      assert.equal((await store.getDevice(d1.id))?.customerId, 'c2');
      const scoped = await store.listDevices({ tenantId: T1, customerIds: ['c2'], limit: 10, offset: 0 });
      assert.deepEqual([scoped.items.map((d) => d.name), scoped.total], [['m1'], 1]);
      // A group-scoped role lists by device ids; with a customer filter both must hold.
      const byIds = await store.listDevices({ tenantId: T1, ids: [d2.id, 'absent'], limit: 10, offset: 0 });
      assert.deepEqual([byIds.items.map((d) => d.name), byIds.total], [['m2'], 1]);
      const both = await store.listDevices({ tenantId: T1, ids: [d1.id, d2.id], customerIds: ['c2'], limit: 10, offset: 0 });
      assert.deepEqual([both.items.map((d) => d.name), both.total], [['m1'], 1]);
      assert.equal((await store.listDevices({ tenantId: T1, ids: [], limit: 10, offset: 0 })).total, 0);
      await store.insertUser(user('u1', { role: 'customer-user', customerId: 'c2' }));
      assert.equal((await store.getUser('u1'))?.customerId, 'c2');
      assert.equal(await store.countCustomerUsers('c2'), 1);

      await store.insertGroup({ id: 'g1', tenantId: T1, name: 'meters', filter: { all: [{ scope: 'server', key: 'kind', equals: 'meter' }] }, createdAt: 1 });
      await assert.rejects(store.insertGroup({ id: 'g2', tenantId: T1, name: 'meters', createdAt: 2 }), { code: 'CONFLICT' });
      await store.addGroupMembers('g1', [d2.id, d1.id, d1.id]);
      assert.deepEqual((await store.groupMembers('g1')).sort(), [d1.id, d2.id].sort());
      assert.equal(await store.removeGroupMember('g1', d2.id), true);
      assert.equal(await store.removeGroupMember('g1', d2.id), false);
      assert.deepEqual((await store.listGroups(T1)).map((g) => g.name), ['meters']);
      assert.deepEqual((await store.listGroups(T2)).length, 0);
      await store.deleteDevice(d1.id);
      assert.deepEqual(await store.groupMembers('g1'), []);
      assert.equal(await store.deleteGroup('g1'), true);
      assert.equal(await store.getGroup('g1'), undefined);
      await store.close();
    });

    it('sign-in: identities link and relink, TOTP steps and recovery codes are used once, API-key roles', async () => {
      const store = await make();
      await seed(store);
      await store.insertUser(user('u1'));
      await store.insertUser(user('u2'));
      await assert.rejects(store.linkIdentity({ issuer: 'https://idp', subject: 's', userId: 'nobody', createdAt: 1 }), { code: 'NOT_FOUND' });
      await store.linkIdentity({ issuer: 'https://idp', subject: 's', userId: 'u1', createdAt: 1 });
      await store.linkIdentity({ issuer: 'https://idp', subject: 's', userId: 'u2', createdAt: 2 });
      assert.deepEqual(await store.findIdentity('https://idp', 's'), { issuer: 'https://idp', subject: 's', userId: 'u2', createdAt: 2 });
      await store.putTotp({ userId: 'u1', secret: 'sealed', lastStep: 0, recoveryHashes: ['a', 'b'] });
      assert.equal(await store.useTotpStep('u1', 10), true);
      assert.equal(await store.useTotpStep('u1', 10), false);
      assert.equal(await store.useRecoveryCode('u1', 'a'), true);
      assert.equal(await store.useRecoveryCode('u1', 'a'), false);
      assert.deepEqual(await store.getTotp('u1'), { userId: 'u1', secret: 'sealed', lastStep: 10, recoveryHashes: ['b'] });
      await store.insertApiKey({ id: 'k1', userId: 'u1', name: 'ci', keyHash: 'kh', createdAt: 1, role: 'viewer' });
      assert.equal((await store.findApiKey('kh'))?.role, 'viewer');
      assert.equal(await store.deleteUser('u1'), true);
      assert.equal(await store.getTotp('u1'), undefined);
      assert.equal(await store.deleteTotp('u1'), false);
      await store.close();
    });

    it('MQTT grants per tenant; quotas per tenant and the daily points count', async () => {
      const store = await make();
      await seed(store);
      const grant = { id: 'g1', tenantId: T1, subject: { group: 'meters' }, actions: ['publish' as const], topic: 'site/${device.name}/#', createdAt: 1 };
      await store.insertMqttGrant(grant);
      await store.insertMqttGrant({ ...grant, id: 'g2', tenantId: T2, subject: { all: true as const } });
      assert.deepEqual(await store.listMqttGrants(T1), [grant]);
      assert.deepEqual(await store.getMqttGrant('g1'), grant);
      assert.equal(await store.deleteMqttGrant('g1'), true);
      assert.equal(await store.deleteMqttGrant('g1'), false);

      assert.equal(await store.getTenantQuotas('nope'), undefined);
      assert.deepEqual(await store.getTenantQuotas(T1), { limits: undefined });
      const limits = { maxDevices: 10, maxMessagesPerSecond: null, maxPointsPerDay: 1000, maxRules: null };
      await store.putTenantQuotas(T1, limits);
      await assert.rejects(store.putTenantQuotas('nope', limits), { code: 'NOT_FOUND' });
      assert.deepEqual(await store.getTenantQuotas(T1), { limits });
      assert.deepEqual(await store.listTenantQuotas(), [{ tenantId: T1, limits }]);
      await store.addPointsUsage('2026-12-07', new Map([[T1, 5], [T2, 1]]));
      await store.addPointsUsage('2026-12-07', new Map([[T1, 7]]));
      assert.deepEqual(await store.pointsUsage('2026-12-07'), new Map([[T1, 12], [T2, 1]]));
      await store.close();
    });
  });
}
