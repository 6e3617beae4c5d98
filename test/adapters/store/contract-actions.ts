/**
 * Store contract, part two: alarms (one open per device and type, history, filters) and commands
 * (outbox order, filters). Called from storeContract() inside its describe, with the store of the
 * current test (seeded with tenants T1 and T2).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AlarmEvent, Store, StoredCommand } from '../../../src/ports.js';
import type { Alarm } from '../../../src/domain/action-apis.js';
import { rejectsWith, T1, T2 } from './contract.js';

function alarm(extra: Partial<Alarm> = {}): Alarm {
  return {
    id: randomUUID(),
    tenantId: T1,
    deviceId: 'dev-1',
    type: 'HighTemp',
    severity: 'major',
    status: 'active',
    count: 1,
    details: { t: 81 },
    createdAt: 1_000,
    updatedAt: 1_000,
    version: 1,
    ...extra,
  };
}

const raised = (a: Alarm, extra: Partial<AlarmEvent> = {}): AlarmEvent => ({ alarmId: a.id, ts: a.createdAt, action: 'raised', severity: a.severity, ...extra });

function command(extra: Partial<StoredCommand> = {}): StoredCommand {
  return {
    id: randomUUID(),
    tenantId: T1,
    deviceId: 'dev-1',
    method: 'setValve',
    params: { open: true },
    oneway: false,
    persistent: true,
    status: 'QUEUED',
    retries: 0,
    maxRetries: 2,
    timeoutMs: 5_000,
    createdAt: 1_000,
    updatedAt: 1_000,
    expiresAt: 100_000,
    version: 1,
    ...extra,
  };
}

export function alarmAndCommandContract(current: () => Store): void {
  describe('alarms', () => {
    it('round-trips an alarm with its history; optional fields stay absent', async () => {
      const store = current();
      const a = alarm();
      await store.insertAlarm(a, raised(a, { by: 'rule:r1', details: { t: 81 } }));
      assert.deepEqual(await store.getAlarm(a.id), a);
      assert.ok(!('clearedAt' in ((await store.getAlarm(a.id)) as object)));
      assert.deepEqual(await store.findOpenAlarm('dev-1', 'HighTemp'), a);
      assert.equal(await store.findOpenAlarm('dev-1', 'LowTemp'), undefined);
      assert.equal(await store.getAlarm('nope'), undefined);

      const acked: Alarm = { ...a, status: 'acknowledged', acknowledgedAt: 2_000, updatedAt: 2_000, version: 2 };
      await store.updateAlarm(acked, { alarmId: a.id, ts: 2_000, action: 'acknowledged', severity: 'major', by: 'user-1' });
      assert.deepEqual(await store.findOpenAlarm('dev-1', 'HighTemp'), acked);
      assert.deepEqual(await store.alarmHistory(a.id), [
        { alarmId: a.id, ts: 1_000, action: 'raised', severity: 'major', by: 'rule:r1', details: { t: 81 } },
        { alarmId: a.id, ts: 2_000, action: 'acknowledged', severity: 'major', by: 'user-1' },
      ]);
      assert.deepEqual(await store.alarmHistory('nope'), []);
      await rejectsWith(store.updateAlarm(alarm({ version: 2 }), raised(a)), 'ALARM_NOT_FOUND');
    });

    it('keeps one open alarm per (device, type); a cleared one frees the slot', async () => {
      const store = current();
      const a = alarm();
      await store.insertAlarm(a, raised(a));
      const twin = alarm();
      await rejectsWith(store.insertAlarm(twin, raised(twin)), 'CONFLICT');
      await rejectsWith(store.insertAlarm({ ...twin, status: 'acknowledged' }, raised(twin)), 'CONFLICT');
      // atomic: the refused insert left no history behind
      assert.deepEqual(await store.alarmHistory(twin.id), []);
      await store.insertAlarm(alarm({ type: 'Other' }), raised(twin));
      await store.insertAlarm(alarm({ deviceId: 'dev-2' }), raised(twin));
      await store.updateAlarm({ ...a, status: 'cleared', clearedAt: 3_000, version: 2 }, { alarmId: a.id, ts: 3_000, action: 'cleared', severity: 'major' });
      assert.equal(await store.findOpenAlarm('dev-1', 'HighTemp'), undefined);
      await store.insertAlarm(twin, raised(twin));
      // reopening the cleared one would make two open alarms
      await rejectsWith(store.updateAlarm({ ...a, status: 'active', version: 3 }, raised(a)), 'CONFLICT');
      await rejectsWith(store.insertAlarm(alarm({ severity: 'fatal' as Alarm['severity'] }), raised(a)), 'BAD_REQUEST');
    });

    it('lists newest first with filters, paging and total, per tenant', async () => {
      const store = current();
      const rows: Alarm[] = [];
      for (let i = 0; i < 12; i++) {
        const a = alarm({
          type: `t${i}`,
          deviceId: i % 2 ? 'dev-odd' : 'dev-even',
          severity: i % 3 === 0 ? 'critical' : 'minor',
          status: i < 4 ? 'cleared' : i < 6 ? 'acknowledged' : 'active',
          createdAt: 1_000 + i,
          updatedAt: 1_000 + i,
        });
        rows.push(a);
        await store.insertAlarm(a, raised(a));
      }
      const other = alarm({ tenantId: T2 });
      await store.insertAlarm(other, raised(other));
      const ids = (list: Alarm[]): string[] => list.map((a) => a.type);

      const page = await store.listAlarms({ tenantId: T1, limit: 5, offset: 0 });
      assert.equal(page.total, 12);
      assert.deepEqual(ids(page.items), ['t11', 't10', 't9', 't8', 't7']);
      assert.deepEqual(ids((await store.listAlarms({ tenantId: T1, limit: 5, offset: 10 })).items), ['t1', 't0']);
      const odd = await store.listAlarms({ tenantId: T1, deviceId: 'dev-odd', statuses: ['active'], limit: 100, offset: 0 });
      assert.deepEqual(ids(odd.items), ['t11', 't9', 't7']);
      const open = await store.listAlarms({ tenantId: T1, statuses: ['active', 'acknowledged'], severities: ['critical'], limit: 100, offset: 0 });
      assert.deepEqual(ids(open.items), ['t9', 't6']);
      const range = await store.listAlarms({ tenantId: T1, from: 1_002, to: 1_004, limit: 100, offset: 0 });
      assert.deepEqual(ids(range.items), ['t4', 't3', 't2']);
      assert.deepEqual(ids((await store.listAlarms({ tenantId: T1, type: 't3', limit: 100, offset: 0 })).items), ['t3']);
      assert.equal((await store.listAlarms({ tenantId: T1, statuses: [], limit: 100, offset: 0 })).total, 0);
      assert.deepEqual((await store.listAlarms({ tenantId: T2, limit: 100, offset: 0 })).items, [other]);
    });

    it('deleting a device removes its alarms and their history', async () => {
      const store = current();
      const a = alarm({ deviceId: 'gone' });
      const keep = alarm({ deviceId: 'kept' });
      await store.insertAlarm(a, raised(a));
      await store.insertAlarm(keep, raised(keep));
      await store.deleteDevice('gone');
      assert.equal(await store.getAlarm(a.id), undefined);
      assert.deepEqual(await store.alarmHistory(a.id), []);
      assert.deepEqual(await store.getAlarm(keep.id), keep);
    });
  });

  describe('commands', () => {
    it('round-trips a command; a JSON null response is kept, an absent one stays absent', async () => {
      const store = current();
      const c = command({ origin: 'api' });
      await store.insertCommand(c);
      assert.deepEqual(await store.getCommand(c.id), c);
      assert.ok(!('response' in ((await store.getCommand(c.id)) as object)));
      await rejectsWith(store.insertCommand(c), 'CONFLICT');
      const done: StoredCommand = { ...c, status: 'SUCCESSFUL', response: null, updatedAt: 2_000, version: 2 };
      await store.updateCommand(done);
      assert.deepEqual(await store.getCommand(c.id), done);
      const failed: StoredCommand = { ...c, status: 'FAILED', response: { error: 'jammed' }, error: 'jammed', retries: 1, version: 3, claimedBy: 'node-a', leaseUntil: 9_000 };
      await store.updateCommand(failed);
      assert.deepEqual(await store.getCommand(c.id), failed);
      await rejectsWith(store.updateCommand(command({ version: 2 })), 'COMMAND_NOT_FOUND');
      await rejectsWith(store.insertCommand(command({ status: 'LOST' as StoredCommand['status'] })), 'BAD_REQUEST');
      assert.equal(await store.getCommand('nope'), undefined);
    });

    it('the outbox holds persistent commands not yet final, oldest first', async () => {
      const store = current();
      const later = command({ createdAt: 3_000 });
      const first = command({ createdAt: 1_000, status: 'SENT' });
      const other = command({ createdAt: 2_000, deviceId: 'dev-2', status: 'DELIVERED' });
      await store.insertCommand(later);
      await store.insertCommand(first);
      await store.insertCommand(other);
      await store.insertCommand(command({ persistent: false, status: 'SENT' }));
      await store.insertCommand(command({ status: 'SUCCESSFUL' }));
      await store.insertCommand(command({ status: 'EXPIRED' }));
      assert.deepEqual(await store.pendingCommands(), [first, other, later]);
      assert.deepEqual(await store.pendingCommands('dev-1'), [first, later]);
      assert.deepEqual(await store.pendingCommands('dev-3'), []);
      await store.updateCommand({ ...first, status: 'TIMEOUT', version: 2 });
      assert.deepEqual(await store.pendingCommands('dev-1'), [later]);
    });

    it('commands created in the same millisecond keep their insertion order', async () => {
      const store = current();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const c = command({ method: `same-${i}`, createdAt: 7_000 });
        ids.push(c.id);
        await store.insertCommand(c);
      }
      await store.updateCommand({ ...(await store.getCommand(ids[0] as string))!, status: 'SENT', version: 2 }); // an update keeps its place
      assert.deepEqual((await store.pendingCommands('dev-1')).map((c) => c.id), ids);
      assert.deepEqual((await store.listCommands({ tenantId: T1, limit: 10, offset: 0 })).items.map((c) => c.id), [...ids].reverse());
    });

    it('lists newest first by tenant, device and status, with paging', async () => {
      const store = current();
      for (let i = 0; i < 6; i++) {
        await store.insertCommand(command({ method: `m${i}`, createdAt: 1_000 + i, deviceId: i % 2 ? 'a' : 'b', status: i < 3 ? 'QUEUED' : 'SUCCESSFUL' }));
      }
      await store.insertCommand(command({ tenantId: T2, method: 'theirs' }));
      const methods = (list: StoredCommand[]): string[] => list.map((c) => c.method);
      const all = await store.listCommands({ tenantId: T1, limit: 4, offset: 0 });
      assert.equal(all.total, 6);
      assert.deepEqual(methods(all.items), ['m5', 'm4', 'm3', 'm2']);
      assert.deepEqual(methods((await store.listCommands({ tenantId: T1, deviceId: 'a', limit: 10, offset: 0 })).items), ['m5', 'm3', 'm1']);
      assert.deepEqual(methods((await store.listCommands({ tenantId: T1, statuses: ['QUEUED'], limit: 10, offset: 1 })).items), ['m1', 'm0']);
      assert.deepEqual(methods((await store.listCommands({ tenantId: T2, limit: 10, offset: 0 })).items), ['theirs']);
    });

    it('deleting a device removes its commands', async () => {
      const store = current();
      const c = command({ deviceId: 'gone' });
      await store.insertCommand(c);
      await store.deleteDevice('gone');
      assert.equal(await store.getCommand(c.id), undefined);
      assert.deepEqual(await store.pendingCommands(), []);
    });
  });
}
