/**
 * IntegrationService and its runner over the memory bus, the memory store and the in-memory
 * remote: tenant scoping, filters, the buffer while the remote is away, at-least-once after a
 * lost acknowledgement, secrets, inbound.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBus } from '../../src/adapters/bus/memory/index.js';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { createMemoryRemote, type MemoryRemote } from '../../src/adapters/integrations/memory/index.js';
import { PlatformError } from '../../src/domain/errors.js';
import { systemClock, type IntegrationMetrics } from '../../src/ports.js';
import { IntegrationService } from '../../src/services/integrations/service.js';

const T1 = 'tenant-1';
const T2 = 'tenant-2';
const devices = new Map([
  ['d1', { name: 'one', profileId: 'p1', tenantId: T1 }],
  ['d2', { name: 'two', profileId: 'p2', tenantId: T1 }],
  ['x1', { name: 'other', profileId: 'p1', tenantId: T2 }],
]);
const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const noMetrics: IntegrationMetrics = { sent() {}, failed() {}, dropped() {}, received() {} };
// The memory remote has no host to check (its targets are empty); the policy has its own tests.
const noOutbound = { checkUrl() {}, resolveTarget: async () => [] };

function setup(remote: MemoryRemote, inbound: (tenantId: string, name: string, payload: Buffer) => Promise<void> = async () => undefined) {
  const bus = new MemoryBus();
  const store = createMemoryStore();
  const service = new IntegrationService({ store, bus, clock: systemClock, logger: quiet, metrics: noMetrics, connectors: [remote.connector], outbound: noOutbound, getDevice: async (id) => devices.get(id), inbound });
  const telemetry = (tenantId: string, deviceId: string, value: number) => bus.publish('telemetry', `telemetry.${tenantId}.${deviceId}`, { tenantId, deviceId, points: [{ key: 'v', ts: value, value }] });
  return { bus, store, service, telemetry };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('IntegrationService', () => {
  it("exports only its tenant's events that pass the filter, as JSON records", async () => {
    const remote = createMemoryRemote();
    const { service, telemetry } = setup(remote);
    await service.start();
    await service.create(T1, { type: 'mqtt-bridge', name: 'a', config: {}, filter: { profiles: ['p1'] } });
    await telemetry(T1, 'd1', 1);
    await telemetry(T1, 'd2', 2); // profile p2: filtered out
    await telemetry(T2, 'x1', 3); // another tenant
    await until(() => remote.received.length >= 1, 'one record');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(remote.received.map((r) => [r.tenantId, r.deviceName]), [[T1, 'one']]);
    assert.deepEqual(JSON.parse(remote.received[0]?.payload ?? '{}'), { event: 'telemetry', tenantId: T1, deviceId: 'd1', deviceName: 'one', ts: 1, values: { v: 1 } });
    await service.stop();
  });

  it('exports attributes, alarms and status changes as events, filtered by event type', async () => {
    const remote = createMemoryRemote();
    const { bus, service } = setup(remote);
    await service.start();
    await service.create(T1, { type: 'mqtt-bridge', name: 'events', config: {}, filter: { events: ['attributes', 'alarm', 'status'] } });
    const alarm = { id: 'a1', tenantId: T1, deviceId: 'd1', type: 'High', severity: 'major' as const, status: 'active' as const, count: 1, details: null, createdAt: 5, updatedAt: 5, version: 1 };
    await bus.publish('attributes', `attributes.${T1}.d1`, { tenantId: T1, deviceId: 'd1', scope: 'client', values: { fw: '1.2' } });
    await bus.publish('alarm', `alarm.${T1}.d1`, { tenantId: T1, deviceId: 'd1', action: 'raised', alarm });
    await bus.publish('status', `status.${T1}.d1`, { tenantId: T1, deviceId: 'd1', online: true });
    await bus.publish('telemetry', `telemetry.${T1}.d1`, { tenantId: T1, deviceId: 'd1', points: [{ key: 'v', ts: 1, value: 1 }] }); // not in the filter
    await until(() => remote.received.length >= 3, 'three events');
    await new Promise((r) => setTimeout(r, 50));
    const bodies = remote.received.map((r) => JSON.parse(r.payload) as Record<string, unknown>);
    assert.deepEqual(bodies.map((b) => b.event).sort(), ['alarm', 'attributes', 'status']);
    const byEvent = new Map(bodies.map((b) => [b.event, b]));
    assert.deepEqual(byEvent.get('attributes')?.values, { fw: '1.2' });
    assert.equal(byEvent.get('alarm')?.action, 'raised');
    assert.deepEqual((byEvent.get('alarm')?.alarm as { type: string }).type, 'High');
    assert.deepEqual(byEvent.get('status')?.status, { online: true });
    await service.stop();
  });

  it('remote away: records wait in order; back: all delivered; a lost acknowledgement resends (at least once), then the backlog is empty', async () => {
    const remote = createMemoryRemote({ up: false });
    const { service, telemetry } = setup(remote);
    await service.start();
    const created = await service.create(T1, { type: 'mqtt-bridge', name: 'a', config: { password: 'hidden' } });
    assert.equal(JSON.stringify(created).includes('hidden'), false);
    assert.deepEqual(created.secretsSet, ['password']);
    for (let i = 0; i < 5; i++) await telemetry(T1, 'd1', i);
    await until(async () => (await service.get(T1, created.id)).status.backlog === 5, 'backlog 5');
    assert.equal(remote.received.length, 0);
    remote.loseAcks(1);
    remote.setUp(true);
    await until(async () => (await service.get(T1, created.id)).status.backlog === 0, 'drained');
    const values = remote.received.map((r) => r.ts);
    assert.deepEqual([...new Set(values)], [0, 1, 2, 3, 4]);
    assert.equal(values.length, 10, 'the batch whose acknowledgement was lost was sent again, once');
    const view = await service.get(T1, created.id);
    assert.equal(view.status.sent, 5);
    assert.equal(view.status.state, 'connected');
    await service.stop();
  });

  it("another tenant's integration is not found; deleting stops the export", async () => {
    const remote = createMemoryRemote();
    const { service, telemetry } = setup(remote);
    await service.start();
    const created = await service.create(T1, { type: 'mqtt-bridge', name: 'a', config: {} });
    await assert.rejects(service.get(T2, created.id), { code: 'NOT_FOUND' });
    await assert.rejects(service.remove(T2, created.id), { code: 'NOT_FOUND' });
    await service.remove(T1, created.id);
    await telemetry(T1, 'd1', 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(remote.received.length, 0);
    assert.deepEqual(await service.list(T1), []);
    await service.stop();
  });

  it('inbound messages go to the ingest callback with the tenant; failures are counted as rejected', async () => {
    const remote = createMemoryRemote({ inbound: true });
    const seen: string[] = [];
    const { service } = setup(remote, async (tenantId, name, payload) => {
      if (name === 'ghost') throw new PlatformError('DEVICE_NOT_FOUND', name);
      seen.push(`${tenantId}/${name}/${payload.toString()}`);
    });
    await service.start();
    const created = await service.create(T1, { type: 'mqtt-bridge', name: 'in', config: {} });
    await remote.inbound('one', '{"v":1}');
    await assert.rejects(remote.inbound('ghost', '{"v":1}'), { code: 'DEVICE_NOT_FOUND' });
    assert.deepEqual(seen, [`${T1}/one/{"v":1}`]);
    const status = (await service.get(T1, created.id)).status;
    assert.equal(status.received, 1);
    assert.equal(status.rejected, 1);
    await service.stop();
  });
});
