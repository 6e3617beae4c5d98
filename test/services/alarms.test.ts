import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { harness, OTHER_TENANT, rejectsWith, T, type Harness } from './actions-harness.js';

describe('AlarmService', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.close());

  it('raises one open alarm per (device, type) and counts repeats with the latest severity', async () => {
    const d = await h.device('boiler');
    const events = h.record('alarm');
    const first = await h.alarms.raise({ tenantId: T, deviceId: d.deviceId, type: 'HighTemp', severity: 'minor', details: { t: 81 } }, 'rule:r1');
    assert.equal(first.status, 'active');
    assert.equal(first.count, 1);
    const again = await h.alarms.raise({ tenantId: T, deviceId: d.deviceId, type: 'HighTemp', severity: 'critical', details: { t: 95 } });
    assert.equal(again.id, first.id);
    assert.equal(again.count, 2);
    assert.equal(again.severity, 'critical');
    assert.deepEqual(again.details, { t: 95 });
    const other = await h.alarms.raise({ tenantId: T, deviceId: d.deviceId, type: 'LowPressure', severity: 'warning' });
    assert.notEqual(other.id, first.id);
    assert.deepEqual(other.details, {});
    assert.deepEqual(events.map((e) => [e.action, e.alarm.type, e.tenantId]), [
      ['raised', 'HighTemp', T],
      ['repeated', 'HighTemp', T],
      ['raised', 'LowPressure', T],
    ]);
    const history = await h.alarms.history(T, first.id);
    assert.deepEqual(history.map((e) => [e.action, e.severity, e.by ?? null]), [
      ['raised', 'minor', 'rule:r1'],
      ['repeated', 'critical', null],
    ]);
  });

  it('concurrent raises of the same alarm make one alarm', async () => {
    const d = await h.device('boiler');
    const raised = await Promise.all(
      Array.from({ length: 10 }, () => h.alarms.raise({ tenantId: T, deviceId: d.deviceId, type: 'Leak', severity: 'major' })),
    );
    assert.equal(new Set(raised.map((a) => a.id)).size, 1);
    const page = await h.alarms.list(T, { deviceId: d.deviceId });
    assert.equal(page.total, 1);
    assert.equal(page.items[0]?.count, 10);
  });

  it('acknowledges, clears, and opens a new alarm after a clear', async () => {
    const d = await h.device('boiler');
    const a = await h.alarms.raise({ tenantId: T, deviceId: d.deviceId, type: 'HighTemp', severity: 'major' });
    h.clock.advance(1000);
    const acked = await h.alarms.acknowledge(T, a.id, 'user:u1');
    assert.equal(acked.status, 'acknowledged');
    assert.equal(typeof acked.acknowledgedAt, 'number');
    assert.deepEqual(await h.alarms.acknowledge(T, a.id), acked, 'acknowledging twice changes nothing');
    // Raised again while acknowledged: still the same alarm, still acknowledged.
    const repeat = await h.alarms.raise({ tenantId: T, deviceId: d.deviceId, type: 'HighTemp', severity: 'major' });
    assert.equal(repeat.id, a.id);
    assert.equal(repeat.status, 'acknowledged');
    const cleared = await h.alarms.clearById(T, a.id, 'user:u1');
    assert.equal(cleared.status, 'cleared');
    assert.equal(typeof cleared.clearedAt, 'number');
    assert.equal((await h.alarms.clearById(T, a.id)).status, 'cleared', 'clearing twice is fine');
    await rejectsWith(h.alarms.acknowledge(T, a.id), 'CONFLICT');
    const fresh = await h.alarms.raise({ tenantId: T, deviceId: d.deviceId, type: 'HighTemp', severity: 'major' });
    assert.notEqual(fresh.id, a.id);
    assert.deepEqual((await h.alarms.history(T, a.id)).map((e) => e.action), ['raised', 'acknowledged', 'repeated', 'cleared']);
  });

  it('clear(device, type) for rules: clears the open alarm, undefined when none is open', async () => {
    const d = await h.device('pump');
    assert.equal(await h.alarms.clear({ tenantId: T, deviceId: d.deviceId, type: 'Dry' }), undefined);
    await h.alarms.raise({ tenantId: T, deviceId: d.deviceId, type: 'Dry', severity: 'warning', details: { moisture: 20 } });
    const cleared = await h.alarms.clear({ tenantId: T, deviceId: d.deviceId, type: 'Dry', details: { moisture: 45 } });
    assert.equal(cleared?.status, 'cleared');
    assert.deepEqual(cleared?.details, { moisture: 45 });
    assert.equal(await h.alarms.clear({ tenantId: T, deviceId: d.deviceId, type: 'Dry' }), undefined);
  });

  it('lists with filters and paging, newest first', async () => {
    const a = await h.device('a');
    const b = await h.device('b');
    for (const [d, type, severity] of [
      [a, 't1', 'critical'],
      [a, 't2', 'minor'],
      [b, 't1', 'critical'],
    ] as const) {
      h.clock.advance(10);
      await h.alarms.raise({ tenantId: T, deviceId: d.deviceId, type, severity });
    }
    const all = await h.alarms.list(T);
    assert.equal(all.total, 3);
    assert.deepEqual(all.items.map((x) => [x.deviceId === a.deviceId ? 'a' : 'b', x.type]), [['b', 't1'], ['a', 't2'], ['a', 't1']]);
    assert.equal((await h.alarms.list(T, { deviceId: a.deviceId, severities: ['critical'] })).total, 1);
    assert.equal((await h.alarms.list(T, { statuses: ['cleared'] })).total, 0);
    assert.equal((await h.alarms.list(T, { type: 't1', limit: 1 })).items.length, 1);
  });

  it('never crosses tenants', async () => {
    const mine = await h.device('mine');
    const theirs = await h.device('theirs', { tenantId: OTHER_TENANT });
    await rejectsWith(h.alarms.raise({ tenantId: T, deviceId: theirs.deviceId, type: 'X', severity: 'major' }), 'DEVICE_NOT_FOUND');
    await rejectsWith(h.alarms.clear({ tenantId: T, deviceId: theirs.deviceId, type: 'X' }), 'DEVICE_NOT_FOUND');
    const theirAlarm = await h.alarms.raise({ tenantId: OTHER_TENANT, deviceId: theirs.deviceId, type: 'X', severity: 'major' });
    await rejectsWith(h.alarms.get(T, theirAlarm.id), 'ALARM_NOT_FOUND');
    await rejectsWith(h.alarms.acknowledge(T, theirAlarm.id), 'ALARM_NOT_FOUND');
    await rejectsWith(h.alarms.clearById(T, theirAlarm.id), 'ALARM_NOT_FOUND');
    await rejectsWith(h.alarms.history(T, theirAlarm.id), 'ALARM_NOT_FOUND');
    await rejectsWith(h.alarms.list(T, { deviceId: theirs.deviceId }), 'DEVICE_NOT_FOUND');
    await h.alarms.raise({ tenantId: T, deviceId: mine.deviceId, type: 'X', severity: 'major' });
    assert.equal((await h.alarms.list(T)).total, 1);
    assert.equal((await h.alarms.list(OTHER_TENANT)).total, 1);
  });

  it('rejects bad input', async () => {
    const d = await h.device('d');
    await rejectsWith(h.alarms.raise({ tenantId: T, deviceId: d.deviceId, type: '', severity: 'major' }), 'BAD_REQUEST');
    await rejectsWith(h.alarms.raise({ tenantId: T, deviceId: d.deviceId, type: 'X', severity: 'fatal' as 'major' }), 'BAD_REQUEST');
    await rejectsWith(h.alarms.get(T, 'nope'), 'ALARM_NOT_FOUND');
  });
});
