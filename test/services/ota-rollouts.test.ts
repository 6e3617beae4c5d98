/**
 * The rollout scheduler over the memory store and bus with a hand-driven clock: jittered starts,
 * the maintenance window, a new service on the same store carrying on (a restart), and the
 * telemetry subscription held only while a deployment is active.
 */
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/adapters/bus/memory/index.js';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import type { Device } from '../../src/domain/device.js';
import { PlatformError } from '../../src/domain/errors.js';
import type { OtaPackage } from '../../src/domain/ota.js';
import type { Point } from '../../src/domain/telemetry.js';
import type { Bus, Store } from '../../src/ports.js';
import { OtaRolloutService } from '../../src/services/ota-rollouts.js';

const T = 'tenant-1';
const HOUR = 3_600_000;
const silentLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silentLogger };

describe('OTA rollout scheduler', () => {
  let store: Store;
  let bus: Bus;
  let now: number;
  let told: string[];
  let subscriptions: number;
  const pkg: OtaPackage = { id: 'pkg', tenantId: T, type: 'firmware', title: 'fw', version: '2', size: 10, checksum: 'a'.repeat(64), createdAt: 1 };

  const service = (random = () => 0.5) =>
    new OtaRolloutService({
      store,
      packages: { get: async () => pkg },
      assign: async (_t, deviceId) => void told.push(deviceId),
      requireDevice: async (id) => {
        const d = await store.getDevice(id);
        if (!d) throw new PlatformError('DEVICE_NOT_FOUND', id);
        return d;
      },
      bus,
      clock: { now: () => now },
      logger: silentLogger,
      tickMs: 60_000, // driven by hand through tick()
      random,
    });

  beforeEach(async () => {
    store = createMemoryStore();
    const memory = new MemoryBus();
    subscriptions = 0;
    bus = {
      publish: (e, s, m) => memory.publish(e, s, m),
      subscribe: (e, p, h, o) => {
        subscriptions++;
        const off = memory.subscribe(e, p, h, o);
        return () => {
          subscriptions--;
          off();
        };
      },
      close: () => memory.close(),
    };
    now = Date.UTC(2026, 0, 1, 12, 0);
    told = [];
    await store.ensureTenant({ id: T, name: T });
    await store.saveProfile({ id: 'p1', tenantId: T, name: 'p1', codec: 'json', telemetryKeys: [], createdAt: 1 });
    for (let i = 0; i < 4; i++) await store.insertDevice({ id: `d${i}`, tenantId: T, name: `d${i}`, profileId: 'p1', isGateway: false, createdAt: 1 } satisfies Device, []);
  });

  const report = (s: OtaRolloutService, deviceId: string, values: Record<string, string>) =>
    s.onTelemetry(deviceId, Object.entries(values).map(([key, value]): Point => ({ key, ts: now, value })));

  it('tells each device at its jittered start', async () => {
    const s = service();
    await s.start();
    await s.create(T, { packageId: 'pkg', target: { profileId: 'p1' }, jitterMs: 10_000 });
    assert.deepEqual(told, [], 'half of 10 s still to come');
    now += 4_999;
    await s.tick();
    assert.deepEqual(told, []);
    now += 1;
    await s.tick();
    assert.equal(told.length, 4);
    await s.stop();
  });

  it('tells devices only inside the maintenance window', async () => {
    const s = service();
    await s.start();
    const d = await s.create(T, { packageId: 'pkg', target: { profileId: 'p1' }, window: { startHour: 22, endHour: 4 } });
    await s.tick();
    assert.deepEqual(told, [], 'noon is outside 22–4');
    now += 10 * HOUR; // 22:00
    await s.tick();
    assert.equal(told.length, 4);
    assert.equal((await s.get(T, d.id)).counts.notified, 4);
    await s.stop();
  });

  it('a new service on the same store carries on: reports count, the next wave starts, it completes', async () => {
    const first = service();
    await first.start();
    const d = await first.create(T, { packageId: 'pkg', target: { deviceIds: ['d0', 'd1', 'd2', 'd3'] }, waves: [50, 100] });
    assert.deepEqual(told, ['d0', 'd1']);
    await first.stop();
    const second = service();
    await second.start();
    assert.equal(subscriptions, 1, 'listening again: devices are in an active deployment');
    await report(second, 'd0', { fw_state: 'DOWNLOADING' });
    await report(second, 'd0', { current_fw_version: '2', fw_state: 'UPDATED' });
    await report(second, 'd1', { fw_state: 'FAILED', fw_error: 'flash write' });
    await second.tick();
    assert.deepEqual(told, ['d0', 'd1', 'd2', 'd3']);
    await report(second, 'd2', { current_fw_version: '2' });
    await report(second, 'd3', { current_fw_version: '2' });
    await second.tick();
    const view = await second.get(T, d.id);
    assert.equal(view.status, 'completed');
    assert.deepEqual([view.counts.updated, view.counts.failed], [3, 1]);
    assert.deepEqual(view.failures, { 'flash write': 1 });
    assert.equal(subscriptions, 0, 'no active deployment: not subscribed to telemetry');
    await second.stop();
  });

  it('ignores telemetry of devices in no active deployment without reading the store', async () => {
    const s = service();
    await s.start();
    assert.equal(subscriptions, 0);
    assert.equal(report(s, 'd0', { fw_state: 'DOWNLOADING' }), undefined);
    await s.stop();
  });
});
