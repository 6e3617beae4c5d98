/**
 * Store contract, part three: dashboards (upsert by id, per-tenant lists by name, widgets kept
 * exactly) and the command controls a device profile carries. Called from storeContract() with
 * the store of the current test (seeded with tenants T1, T2 and profile P1).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Dashboard } from '../../../src/domain/dashboard.js';
import type { Store } from '../../../src/ports.js';
import { P1, T1, T2 } from './contract.js';

function dashboard(extra: Partial<Dashboard> = {}): Dashboard {
  return {
    id: 'dash-1',
    tenantId: T1,
    name: 'Pumps',
    widgets: [
      { id: 'w1', type: 'value', title: 'Flow', deviceId: 'dev-1', keys: ['flow'], unit: 'm³/h', x: 0, y: 0, w: 3, h: 2 },
      { id: 'w2', type: 'control', title: 'Pump', deviceId: 'dev-1', control: { kind: 'toggle', method: 'setPump', stateKey: 'pump' }, x: 3, y: 0, w: 3, h: 2 },
    ],
    createdAt: 1_000,
    updatedAt: 1_000,
    ...extra,
  };
}

export function dashboardContract(current: () => Store): void {
  describe('dashboards', () => {
    it('saves, reads back exactly, replaces by id and deletes', async () => {
      const store = current();
      const d = dashboard({ description: 'North field' });
      await store.saveDashboard(d);
      assert.deepEqual(await store.getDashboard(d.id), d);
      const changed = dashboard({ name: 'Pumps and valves', widgets: [], updatedAt: 2_000 });
      await store.saveDashboard(changed);
      assert.deepEqual(await store.getDashboard(d.id), changed, 'replaced, the description dropped');
      assert.equal(await store.deleteDashboard(d.id), true);
      assert.equal(await store.getDashboard(d.id), undefined);
      assert.equal(await store.deleteDashboard(d.id), false);
    });

    it("lists one tenant's dashboards by name", async () => {
      const store = current();
      await store.saveDashboard(dashboard({ id: 'b', name: 'Zone B' }));
      await store.saveDashboard(dashboard({ id: 'a', name: 'Zone A' }));
      await store.saveDashboard(dashboard({ id: 'c', name: 'Other tenant', tenantId: T2 }));
      assert.deepEqual((await store.listDashboards(T1)).map((d) => d.id), ['a', 'b']);
      assert.deepEqual((await store.listDashboards(T2)).map((d) => d.id), ['c']);
      assert.deepEqual(await store.listDashboards('no-such-tenant'), []);
    });

    it('refuses a dashboard of an unknown tenant', async () => {
      await assert.rejects(current().saveDashboard(dashboard({ tenantId: 'no-such-tenant' })));
    });

    it('hands out copies: changing a returned dashboard changes nothing stored', async () => {
      const store = current();
      await store.saveDashboard(dashboard());
      const got = (await store.getDashboard('dash-1')) as Dashboard;
      (got.widgets as unknown as unknown[]).length = 0;
      assert.equal((await store.getDashboard('dash-1'))?.widgets.length, 2);
    });
  });

  describe('profile controls', () => {
    it('keeps the command controls of a profile, and none when absent', async () => {
      const store = current();
      assert.equal((await store.getProfile(P1.id))?.controls, undefined);
      const controls = [
        { label: 'Pump', kind: 'toggle' as const, method: 'setPump', stateKey: 'pump' },
        { label: 'Speed', kind: 'slider' as const, method: 'setSpeed', min: 0, max: 3000, step: 50, stateKey: 'rpm' },
        { label: 'Reset', kind: 'button' as const, method: 'reset', params: { hard: false } },
      ];
      await store.saveProfile({ ...P1, controls });
      assert.deepEqual((await store.getProfile(P1.id))?.controls, controls);
      assert.deepEqual((await store.findProfile({ tenantId: T1, name: P1.name }))?.controls, controls);
      assert.deepEqual((await store.listProfiles(T1)).find((p) => p.id === P1.id)?.controls, controls);
      await store.saveProfile(P1);
      assert.equal((await store.getProfile(P1.id))?.controls, undefined);
    });
  });
}
