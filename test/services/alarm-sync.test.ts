/**
 * AlarmService.sync: an edge gateway's alarm lifecycles (services/alarm-sync.ts) — idempotent per
 * (gateway, edge id), the edge's timestamps kept, one open alarm per (device, type) respected.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { edgeAlarmId } from '../../src/services/alarm-sync.js';
import { harness, OTHER_TENANT, rejectsWith, T, type Harness } from './actions-harness.js';

describe('AlarmService.sync (edge alarms)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.close());

  it('a lifecycle raised and cleared offline is stored once, cleared, with both timestamps and events', async () => {
    const d = await h.device('plc');
    const now = h.clock.now();
    const input = { tenantId: T, deviceId: d.deviceId, id: 'e-1', type: 'OverTemp', severity: 'major' as const, details: { t: 85 }, raisedAt: now - 60_000, clearedAt: now - 30_000 };
    const first = await h.alarms.sync('gw-1', input);
    const again = await h.alarms.sync('gw-1', input);
    assert.equal(first.id, edgeAlarmId('gw-1', 'e-1'));
    assert.deepEqual(again, first);
    assert.deepEqual([first.status, first.createdAt, first.clearedAt, first.count], ['cleared', now - 60_000, now - 30_000, 1]);
    const history = await h.alarms.history(T, first.id);
    assert.deepEqual(history.map((e) => [e.action, e.ts, e.by]), [['raised', now - 60_000, 'gateway:gw-1'], ['cleared', now - 30_000, 'gateway:gw-1']]);
    assert.equal((await h.alarms.list(T, { deviceId: d.deviceId })).total, 1);
  });

  it('open first, cleared later: one alarm; the same edge id of another gateway is another alarm', async () => {
    const d = await h.device('plc');
    const raisedAt = h.clock.now() - 10_000;
    const open = await h.alarms.sync('gw-1', { tenantId: T, deviceId: d.deviceId, id: 'e-2', type: 'Leak', severity: 'critical', raisedAt });
    assert.equal(open.status, 'active');
    const cleared = await h.alarms.sync('gw-1', { tenantId: T, deviceId: d.deviceId, id: 'e-2', type: 'Leak', severity: 'critical', raisedAt, clearedAt: raisedAt + 5000 });
    assert.equal(cleared.id, open.id);
    assert.deepEqual([cleared.status, cleared.clearedAt], ['cleared', raisedAt + 5000]);
    const other = await h.alarms.sync('gw-2', { tenantId: T, deviceId: d.deviceId, id: 'e-2', type: 'Leak', severity: 'critical', raisedAt });
    assert.notEqual(other.id, open.id);
  });

  it('an open edge alarm while a platform alarm of that type is open counts a repeat on it', async () => {
    const d = await h.device('plc');
    const platform = await h.alarms.raise({ tenantId: T, deviceId: d.deviceId, type: 'Leak', severity: 'minor' });
    const synced = await h.alarms.sync('gw-1', { tenantId: T, deviceId: d.deviceId, id: 'e-3', type: 'Leak', severity: 'major', raisedAt: h.clock.now() });
    assert.deepEqual([synced.id, synced.count, synced.severity], [platform.id, 2, 'major']);
  });

  it('refuses timestamps from the future, a clear before the raise, an id reused for another type, and other tenants', async () => {
    const d = await h.device('plc');
    const now = h.clock.now();
    const base = { tenantId: T, deviceId: d.deviceId, id: 'e-4', type: 'Leak', severity: 'major' as const };
    await rejectsWith(h.alarms.sync('gw-1', { ...base, raisedAt: now + 3_600_000 }), 'BAD_REQUEST');
    await rejectsWith(h.alarms.sync('gw-1', { ...base, raisedAt: now, clearedAt: now - 1 }), 'BAD_REQUEST');
    await h.alarms.sync('gw-1', { ...base, raisedAt: now });
    await rejectsWith(h.alarms.sync('gw-1', { ...base, type: 'Other', raisedAt: now }), 'CONFLICT');
    await rejectsWith(h.alarms.sync('gw-1', { ...base, tenantId: OTHER_TENANT, raisedAt: now }), 'DEVICE_NOT_FOUND');
  });
});
