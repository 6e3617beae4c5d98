/**
 * Store contract, OTA deployments: a deployment and its device rows read back exactly (plan and
 * target whole), listed newest first per tenant, the active ones (running, paused) across
 * tenants, updated in place; device rows in wave order, replaced by updates. Called from
 * storeContract() (tenants T1, T2).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Deployment, DeploymentDevice } from '../../../src/domain/ota-deployment.js';
import type { Store } from '../../../src/ports.js';
import { T1, T2 } from './contract.js';

function deployment(extra: Partial<Deployment> = {}): Deployment {
  return {
    id: 'dep-1',
    tenantId: T1,
    packageId: 'pkg-1',
    type: 'firmware',
    version: '2.0.0',
    target: { profileId: 'p1' },
    plan: { waves: [10, 50, 100], canaries: 2, abort: { percent: 20, after: 10 }, timeouts: { notifiedMs: 60_000, progressMs: 120_000 }, retries: 1, jitterMs: 500, window: { startHour: 22, endHour: 4 } },
    status: 'running',
    wave: 0,
    waves: 4,
    createdAt: 1_000,
    updatedAt: 1_000,
    ...extra,
  };
}

const row = (deviceId: string, wave: number, extra: Partial<DeploymentDevice> = {}): DeploymentDevice => ({
  deploymentId: 'dep-1',
  deviceId,
  wave,
  state: 'queued',
  attempts: 0,
  startAfter: 0,
  stateSince: 1_000,
  ...extra,
});

export function otaDeploymentContract(current: () => Store): void {
  describe('OTA deployments', () => {
    it('reads a deployment and its devices back exactly, in wave order', async () => {
      const store = current();
      const d = deployment();
      await store.insertOtaDeployment(d, [row('d-b', 1), row('d-a', 1), row('d-z', 0, { startAfter: 1_200 })]);
      assert.deepEqual(await store.getOtaDeployment('dep-1'), d);
      assert.equal(await store.getOtaDeployment('nope'), undefined);
      assert.deepEqual((await store.listOtaDeploymentDevices('dep-1')).map((r) => r.deviceId), ['d-z', 'd-a', 'd-b']);
      assert.deepEqual(await store.getOtaDeploymentDevice('dep-1', 'd-z'), row('d-z', 0, { startAfter: 1_200 }));
      assert.equal(await store.getOtaDeploymentDevice('dep-1', 'd-x'), undefined);
    });

    it('lists per tenant newest first and the active ones of every tenant; updates in place', async () => {
      const store = current();
      const { reason: _none, ...plain } = deployment();
      await store.insertOtaDeployment(plain, []);
      await store.insertOtaDeployment(deployment({ id: 'dep-2', createdAt: 2_000, target: { deviceIds: ['a', 'b'] } }), []);
      await store.insertOtaDeployment(deployment({ id: 'dep-3', tenantId: T2, status: 'paused' }), []);
      await store.insertOtaDeployment(deployment({ id: 'dep-4', status: 'completed', createdAt: 500 }), []);
      assert.deepEqual((await store.listOtaDeployments(T1)).map((d) => d.id), ['dep-2', 'dep-1', 'dep-4']);
      assert.deepEqual((await store.listActiveOtaDeployments()).map((d) => d.id).sort(), ['dep-1', 'dep-2', 'dep-3']);
      const aborted = deployment({ status: 'aborted', reason: 'too many failed', wave: 1, updatedAt: 5_000 });
      await store.updateOtaDeployment(aborted);
      assert.deepEqual(await store.getOtaDeployment('dep-1'), aborted);
      assert.deepEqual((await store.listActiveOtaDeployments()).map((d) => d.id).sort(), ['dep-2', 'dep-3']);
      await assert.rejects(store.insertOtaDeployment(deployment({ id: 'dep-x', tenantId: 'no-such-tenant' }), []));
    });

    it('replaces device rows (optional fields appear and go)', async () => {
      const store = current();
      await store.insertOtaDeployment(deployment(), [row('d-1', 0), row('d-2', 0)]);
      const progress = row('d-1', 0, { state: 'in_progress', attempts: 1, fwState: 'DOWNLOADING', stateSince: 2_000 });
      const failed = row('d-2', 0, { state: 'failed', attempts: 1, error: 'checksum mismatch', stateSince: 2_500 });
      await store.updateOtaDeploymentDevices([progress, failed]);
      assert.deepEqual(await store.listOtaDeploymentDevices('dep-1'), [progress, failed]);
      const updated = row('d-1', 0, { state: 'updated', attempts: 1, stateSince: 3_000 });
      await store.updateOtaDeploymentDevices([updated]);
      assert.deepEqual(await store.getOtaDeploymentDevice('dep-1', 'd-1'), updated, 'fwState gone');
      await assert.rejects(store.updateOtaDeploymentDevices([row('d-3', 0, { attempts: 1.5 })]));
    });
  });
}
