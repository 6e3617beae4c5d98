/**
 * The OTA services over the memory store and blob store, with two tenants: nothing of one
 * tenant's packages is visible, assignable or downloadable from the other; a device downloads
 * only what is assigned to it; blobs shared by two packages live until the last one goes; the
 * status reads the device's reported states.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createMemoryBlobStore } from '../../src/adapters/blobs/memory/memory-blobs.js';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import type { Device, DeviceIdentity } from '../../src/domain/device.js';
import { isPlatformError, type ErrorCode } from '../../src/domain/errors.js';
import type { JsonValue } from '../../src/domain/telemetry.js';
import type { PackageBlobStore, Store } from '../../src/ports.js';
import { OtaDeviceService } from '../../src/services/ota-devices.js';
import { OtaPackageService } from '../../src/services/ota-packages.js';

const T1 = 'tenant-1';
const T2 = 'tenant-2';

async function* bytes(b: Buffer): AsyncIterable<Uint8Array> {
  yield b;
}

const rejects = (p: Promise<unknown>, code: ErrorCode) => assert.rejects(p, (err) => isPlatformError(err, code));

describe('OTA services', () => {
  let store: Store;
  let blobs: PackageBlobStore;
  let packages: OtaPackageService;
  let devices: OtaDeviceService;
  const shared: { tenantId: string; deviceId: string; values: Record<string, JsonValue> }[] = [];
  const removedShared: { tenantId: string; deviceId: string; keys: string[] }[] = [];
  const d1: Device = { id: 'dev-1', tenantId: T1, name: 'd1', profileId: 'p1', isGateway: false, createdAt: 1 };
  const d2: Device = { id: 'dev-2', tenantId: T2, name: 'd2', profileId: 'p2', isGateway: false, createdAt: 1 };
  const identity = (d: Device): DeviceIdentity => ({ deviceId: d.id, tenantId: d.tenantId, name: d.name, profileId: d.profileId, codec: 'json', isGateway: false });
  let now = 1_000;

  before(async () => {
    store = createMemoryStore();
    blobs = createMemoryBlobStore();
    for (const [t, p] of [[T1, 'p1'], [T2, 'p2']] as const) {
      await store.ensureTenant({ id: t, name: t });
      await store.saveProfile({ id: p, tenantId: t, name: p, codec: 'json', telemetryKeys: [], createdAt: 1 });
    }
    await store.insertDevice(d1, []);
    await store.insertDevice(d2, []);
    const clock = { now: () => now++ };
    packages = new OtaPackageService({ store, blobs, clock, getProfile: (id) => store.getProfile(id), maxPackageBytes: 10_000 });
    devices = new OtaDeviceService({
      store,
      packages,
      clock,
      maxChunkBytes: 1000,
      requireDevice: async (id, tenantId) => {
        const d = await store.getDevice(id);
        if (!d || d.tenantId !== tenantId) throw Object.assign(new Error('nope'), {});
        return d;
      },
      setShared: async (tenantId, deviceId, values) => {
        shared.push({ tenantId, deviceId, values });
      },
      removeShared: async (tenantId, deviceId, keys) => {
        removedShared.push({ tenantId, deviceId, keys });
      },
    });
  });

  it("keeps tenants apart: another tenant's package is not found, not assignable, not downloadable", async () => {
    const data = Buffer.from('tenant two firmware');
    const p2 = await packages.upload(T2, { title: 'fw', version: '1', profileId: 'p2' }, bytes(data));
    await rejects(packages.get(T1, p2.id), 'PACKAGE_NOT_FOUND');
    await rejects(packages.delete(T1, p2.id), 'PACKAGE_NOT_FOUND');
    await rejects(packages.data(T1, p2.id), 'PACKAGE_NOT_FOUND');
    assert.deepEqual(await packages.list(T1), []);
    await rejects(devices.assign(T1, d1.id, p2.id), 'PACKAGE_NOT_FOUND');
    await rejects(packages.upload(T1, { title: 'fw', version: '1', profileId: 'p2' }, bytes(data)), 'PROFILE_NOT_FOUND');
    // Even an assignment pointing across tenants (written to the store directly) serves nothing.
    await store.setOtaAssignment({ tenantId: T1, deviceId: d1.id, type: 'firmware', packageId: p2.id, assignedAt: 1 });
    await rejects(devices.chunk(identity(d1), { type: 'firmware', chunkSize: 10, chunk: 0 }), 'PACKAGE_NOT_FOUND');
    const status = await devices.status(T1, d1.id);
    assert.equal(status.firmware.assigned, null);
  });

  it('serves the assigned package in chunks, checks title and version, bounds the chunk size', async () => {
    const data = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));
    const p = await packages.upload(T2, { title: 'fw', version: '2', checksum: createHash('sha256').update(data).digest('hex') }, bytes(data));
    await devices.assign(T2, d2.id, p.id);
    assert.deepEqual(shared.at(-1), {
      tenantId: T2,
      deviceId: d2.id,
      values: { fw_title: 'fw', fw_version: '2', fw_size: 2500, fw_checksum: p.checksum, fw_checksum_algorithm: 'SHA256' },
    });
    const id = identity(d2);
    assert.deepEqual(await devices.chunk(id, { type: 'firmware', chunkSize: 1000, chunk: 2 }), data.subarray(2000));
    assert.equal((await devices.chunk(id, { type: 'firmware', chunkSize: 1000, chunk: 3 })).length, 0);
    await rejects(devices.chunk(id, { type: 'firmware', title: 'fw', version: '1', chunkSize: 1000, chunk: 0 }), 'PACKAGE_NOT_FOUND');
    await rejects(devices.chunk(id, { type: 'firmware', chunkSize: 1001, chunk: 0 }), 'PAYLOAD_TOO_LARGE');
    await rejects(devices.chunk(id, { type: 'firmware', chunkSize: 0, chunk: 0 }), 'PAYLOAD_TOO_LARGE'); // whole = 2500 > 1000
    await rejects(devices.chunk(id, { type: 'software', chunkSize: 10, chunk: 0 }), 'PACKAGE_NOT_FOUND');
  });

  it('shares a blob between packages with the same bytes and removes it with the last one', async () => {
    const data = Buffer.from('same bytes');
    const digest = createHash('sha256').update(data).digest('hex');
    const a = await packages.upload(T1, { title: 'same', version: '1' }, bytes(data));
    const b = await packages.upload(T1, { title: 'same', version: '2' }, bytes(data));
    await packages.delete(T1, a.id);
    assert.deepEqual(await blobs.read(digest, 0, 100), data, 'still held by b');
    await packages.delete(T1, b.id);
    await rejects(blobs.read(digest, 0, 1), 'PACKAGE_NOT_FOUND');
    await rejects(packages.upload(T1, { title: 'big', version: '1' }, bytes(Buffer.alloc(10_001))), 'PAYLOAD_TOO_LARGE');
  });

  it('reads the status from the states the device reported', async () => {
    const t0 = 1_700_000_000_000;
    await store.appendTelemetry([
      { deviceId: d2.id, key: 'fw_state', ts: t0, value: 'DOWNLOADING' },
      { deviceId: d2.id, key: 'fw_state', ts: t0 + 1, value: 'FAILED' },
      { deviceId: d2.id, key: 'fw_error', ts: t0 + 1, value: 'checksum mismatch' },
      { deviceId: d2.id, key: 'current_fw_version', ts: t0 + 1, value: '1' },
    ]);
    const s = (await devices.status(T2, d2.id)).firmware;
    assert.equal(s.state, 'FAILED');
    assert.equal(s.error, 'checksum mismatch');
    assert.equal(s.upToDate, false);
    assert.deepEqual(s.history, [
      { ts: t0 + 1, state: 'FAILED', error: 'checksum mismatch' },
      { ts: t0, state: 'DOWNLOADING' },
    ]);
    await store.appendTelemetry([
      { deviceId: d2.id, key: 'fw_state', ts: t0 + 2, value: 'UPDATED' },
      { deviceId: d2.id, key: 'current_fw_version', ts: t0 + 2, value: '2' },
    ]);
    const after = (await devices.status(T2, d2.id)).firmware;
    assert.deepEqual([after.state, after.error, after.upToDate], ['UPDATED', null, true], 'the old error is not shown with the new state');
  });
});
