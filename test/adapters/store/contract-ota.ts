/**
 * Store contract, OTA part: package metadata (unique per tenant, type, title and version; listed
 * newest first), per-device assignments (replaced, gone with the device) and the refusal to
 * delete a package a device is assigned. Called from storeContract() (tenants T1, T2, profile P1).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { OtaPackage } from '../../../src/domain/ota.js';
import type { Store } from '../../../src/ports.js';
import { device, P1, rejectsWith, T1, T2 } from './contract.js';

function pkg(extra: Partial<OtaPackage> = {}): OtaPackage {
  return {
    id: 'pkg-1',
    tenantId: T1,
    type: 'firmware',
    title: 'meter-fw',
    version: '1.0.0',
    profileId: P1.id,
    size: 1234,
    checksum: 'a'.repeat(64),
    createdAt: 1_000,
    ...extra,
  };
}

export function otaContract(current: () => Store): void {
  describe('OTA packages and assignments', () => {
    it('inserts, reads back exactly, lists newest first per tenant and type, deletes', async () => {
      const store = current();
      const a = pkg({ hardware: 'rev-b' });
      const { profileId: _none, ...b } = pkg({ id: 'pkg-2', version: '1.1.0', createdAt: 2_000 });
      const sw = pkg({ id: 'pkg-3', type: 'software', createdAt: 1_500 });
      const other = pkg({ id: 'pkg-4', tenantId: T2 });
      for (const p of [a, b, sw, other]) await store.insertOtaPackage(p);
      assert.deepEqual(await store.getOtaPackage('pkg-1'), a);
      assert.deepEqual(await store.getOtaPackage('pkg-2'), b, 'no profile: the field is absent');
      assert.deepEqual((await store.listOtaPackages(T1)).map((p) => p.id), ['pkg-2', 'pkg-3', 'pkg-1']);
      assert.deepEqual((await store.listOtaPackages(T1, 'firmware')).map((p) => p.id), ['pkg-2', 'pkg-1']);
      assert.deepEqual((await store.listOtaPackages(T2)).map((p) => p.id), ['pkg-4']);
      assert.equal(await store.countOtaPackagesByChecksum('a'.repeat(64)), 4);
      assert.equal(await store.deleteOtaPackage('pkg-1'), true);
      assert.equal(await store.deleteOtaPackage('pkg-1'), false);
      assert.equal(await store.getOtaPackage('pkg-1'), undefined);
      assert.equal(await store.countOtaPackagesByChecksum('a'.repeat(64)), 3);
    });

    it('refuses a second package of the same tenant, type, title and version, and an unknown tenant', async () => {
      const store = current();
      await store.insertOtaPackage(pkg());
      await rejectsWith(store.insertOtaPackage(pkg({ id: 'pkg-9' })), 'CONFLICT');
      await store.insertOtaPackage(pkg({ id: 'pkg-sw', type: 'software' }));
      await store.insertOtaPackage(pkg({ id: 'pkg-t2', tenantId: T2 }));
      await assert.rejects(store.insertOtaPackage(pkg({ id: 'pkg-x', tenantId: 'no-such-tenant' })));
    });

    it('keeps one assignment per device and type, refuses deleting an assigned package, drops it with the device', async () => {
      const store = current();
      const d = device('ota-1');
      await store.insertDevice(d, []);
      await store.insertOtaPackage(pkg());
      await store.insertOtaPackage(pkg({ id: 'pkg-2', version: '2.0.0' }));
      await store.setOtaAssignment({ tenantId: T1, deviceId: d.id, type: 'firmware', packageId: 'pkg-1', assignedAt: 10 });
      await store.setOtaAssignment({ tenantId: T1, deviceId: d.id, type: 'firmware', packageId: 'pkg-2', assignedAt: 20 });
      assert.deepEqual(await store.getOtaAssignment(d.id, 'firmware'), { tenantId: T1, deviceId: d.id, type: 'firmware', packageId: 'pkg-2', assignedAt: 20 });
      assert.equal(await store.getOtaAssignment(d.id, 'software'), undefined);
      await rejectsWith(store.deleteOtaPackage('pkg-2'), 'PACKAGE_IN_USE');
      assert.equal(await store.deleteOtaPackage('pkg-1'), true, 'no longer assigned');
      // Removing an assignment: once true, then false; the package is free again until reassigned.
      assert.equal(await store.deleteOtaAssignment(d.id, 'software'), false);
      assert.equal(await store.deleteOtaAssignment(d.id, 'firmware'), true);
      assert.equal(await store.deleteOtaAssignment(d.id, 'firmware'), false);
      assert.equal(await store.getOtaAssignment(d.id, 'firmware'), undefined);
      await store.setOtaAssignment({ tenantId: T1, deviceId: d.id, type: 'firmware', packageId: 'pkg-2', assignedAt: 25 });
      await rejectsWith(store.setOtaAssignment({ tenantId: T1, deviceId: d.id, type: 'firmware', packageId: 'nope', assignedAt: 30 }), 'PACKAGE_NOT_FOUND');
      await rejectsWith(store.setOtaAssignment({ tenantId: T1, deviceId: 'no-device', type: 'firmware', packageId: 'pkg-2', assignedAt: 30 }), 'DEVICE_NOT_FOUND');
      await store.deleteDevice(d.id);
      assert.equal(await store.getOtaAssignment(d.id, 'firmware'), undefined);
      assert.equal(await store.deleteOtaPackage('pkg-2'), true, 'the device is gone, so is its assignment');
    });

    it('keeps one assignment per profile and type; an assigned package cannot be deleted', async () => {
      const store = current();
      await store.insertOtaPackage(pkg());
      await store.insertOtaPackage(pkg({ id: 'pkg-2', version: '2.0.0' }));
      await store.setOtaProfileAssignment({ tenantId: T1, profileId: P1.id, type: 'firmware', packageId: 'pkg-1', assignedAt: 10 });
      await store.setOtaProfileAssignment({ tenantId: T1, profileId: P1.id, type: 'firmware', packageId: 'pkg-2', assignedAt: 20 });
      assert.deepEqual(await store.getOtaProfileAssignment(P1.id, 'firmware'), { tenantId: T1, profileId: P1.id, type: 'firmware', packageId: 'pkg-2', assignedAt: 20 });
      assert.equal(await store.getOtaProfileAssignment(P1.id, 'software'), undefined);
      await rejectsWith(store.deleteOtaPackage('pkg-2'), 'PACKAGE_IN_USE');
      assert.equal(await store.deleteOtaPackage('pkg-1'), true);
      await rejectsWith(store.setOtaProfileAssignment({ tenantId: T1, profileId: 'no-profile', type: 'firmware', packageId: 'pkg-2', assignedAt: 30 }), 'PROFILE_NOT_FOUND');
      await rejectsWith(store.setOtaProfileAssignment({ tenantId: T1, profileId: P1.id, type: 'firmware', packageId: 'nope', assignedAt: 30 }), 'PACKAGE_NOT_FOUND');
    });
  });
}
