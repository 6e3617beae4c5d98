/**
 * Store contract, part four (issue 13, node identity): compare-and-set on alarms and commands,
 * command claims, id blocks, and status writes ordered by session epoch. Called from
 * storeContract() inside its describe, with the store of the current test.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AlarmEvent, Store, StoredCommand } from '../../../src/ports.js';
import type { Alarm } from '../../../src/domain/action-apis.js';
import { rejectsWith, T1 } from './contract.js';

const alarm = (): Alarm => ({
  id: randomUUID(),
  tenantId: T1,
  deviceId: 'dev-1',
  type: 'Hot',
  severity: 'major',
  status: 'active',
  count: 1,
  details: {},
  createdAt: 1_000,
  updatedAt: 1_000,
  version: 1,
});

const event = (a: Alarm, action: AlarmEvent['action']): AlarmEvent => ({ alarmId: a.id, ts: a.updatedAt, action, severity: a.severity });

const command = (): StoredCommand => ({
  id: randomUUID(),
  tenantId: T1,
  deviceId: 'dev-1',
  method: 'open',
  params: {},
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
});

export function identityContract(current: () => Store): void {
  describe('compare-and-set', () => {
    it('an alarm update over a version someone else replaced is refused whole (CONFLICT, no history)', async () => {
      const store = current();
      const a = alarm();
      await store.insertAlarm(a, event(a, 'raised'));
      // two writers read version 1; each writes version 2
      const first: Alarm = { ...a, count: 2, updatedAt: 2_000, version: 2 };
      const second: Alarm = { ...a, status: 'acknowledged', acknowledgedAt: 2_500, updatedAt: 2_500, version: 2 };
      const settled = await Promise.allSettled([store.updateAlarm(first, event(first, 'repeated')), store.updateAlarm(second, event(second, 'acknowledged'))]);
      assert.deepEqual(settled.map((r) => r.status), ['fulfilled', 'rejected']);
      await rejectsWith(Promise.reject((settled[1] as PromiseRejectedResult).reason), 'CONFLICT');
      assert.deepEqual(await store.getAlarm(a.id), first);
      assert.deepEqual((await store.alarmHistory(a.id)).map((e) => e.action), ['raised', 'repeated']);
      // a version ahead of the stored one is refused too
      await rejectsWith(store.updateAlarm({ ...first, version: 4 }, event(first, 'cleared')), 'CONFLICT');
      await rejectsWith(store.updateAlarm({ ...first, version: 0 }, event(first, 'cleared')), 'BAD_REQUEST');
    });

    it('a command update is compare-and-set on its version; claims round-trip and clear', async () => {
      const store = current();
      const c = command();
      await store.insertCommand(c);
      const claimedByA: StoredCommand = { ...c, status: 'SENT', claimedBy: 'node-a', leaseUntil: 31_000, version: 2 };
      const claimedByB: StoredCommand = { ...c, status: 'SENT', claimedBy: 'node-b', leaseUntil: 32_000, version: 2 };
      const settled = await Promise.allSettled([store.updateCommand(claimedByA), store.updateCommand(claimedByB)]);
      assert.deepEqual(settled.map((r) => r.status), ['fulfilled', 'rejected']);
      assert.deepEqual(await store.getCommand(c.id), claimedByA);
      assert.deepEqual(await store.pendingCommands('dev-1'), [claimedByA]);
      await rejectsWith(store.updateCommand({ ...claimedByB, version: 2 }), 'CONFLICT');
      // back in the outbox: the claim is gone, absent rather than undefined
      const { claimedBy: _c, leaseUntil: _l, ...unclaimed } = claimedByA;
      await store.updateCommand({ ...unclaimed, status: 'QUEUED', version: 3 });
      const stored = await store.getCommand(c.id);
      assert.deepEqual(stored, { ...unclaimed, status: 'QUEUED', version: 3 });
      assert.ok(!('claimedBy' in (stored as object)) && !('leaseUntil' in (stored as object)));
    });
  });

  describe('id blocks', () => {
    it('blocks never overlap, per sequence, and wrap to 1 past the maximum', async () => {
      const store = current();
      const firsts = await Promise.all(Array.from({ length: 20 }, () => store.reserveIds('rpc', 10, 1_000)));
      const ids = firsts.flatMap((f) => Array.from({ length: 10 }, (_, i) => f + i));
      assert.equal(new Set(ids).size, 200);
      assert.deepEqual([...ids].sort((x, y) => x - y), Array.from({ length: 200 }, (_, i) => i + 1));
      assert.equal(await store.reserveIds('other', 5, 1_000), 1, 'sequences are independent');
      // 201..1000 fit; then the next block of 10 would pass 1000: it starts at 1 again
      assert.equal(await store.reserveIds('rpc', 800, 1_000), 201);
      assert.equal(await store.reserveIds('rpc', 10, 1_000), 1);
      assert.equal(await store.reserveIds('rpc', 10, 1_000), 11);
      await rejectsWith(store.reserveIds('rpc', 0, 1_000), 'BAD_REQUEST');
      await rejectsWith(store.reserveIds('rpc', 10, 5), 'BAD_REQUEST');
    });
  });

  describe('statuses by session epoch', () => {
    it('a write under an older session epoch leaves the newer session alone; activity keeps the newest', async () => {
      const store = current();
      const id = randomUUID();
      await store.saveStatuses([{ deviceId: id, online: true, lastActivity: 100, lastConnect: 100, transport: 'mqtt', nodeId: 'node-a', epoch: 100 }]);
      // the device moved to node B (epoch 200)
      await store.saveStatuses([{ deviceId: id, online: true, lastActivity: 200, lastConnect: 200, transport: 'mqtt', nodeId: 'node-b', epoch: 200 }]);
      // node A's late disconnect of the old session
      await store.saveStatuses([{ deviceId: id, online: false, lastActivity: 150, lastConnect: 100, lastDisconnect: 250, transport: 'mqtt', nodeId: 'node-a', epoch: 100 }]);
      assert.deepEqual(await store.getStatuses([id]), [{ deviceId: id, online: true, lastActivity: 200, lastConnect: 200, transport: 'mqtt', nodeId: 'node-b', epoch: 200 }]);
      // without an epoch (activity of a device without a session): only the activity counts
      await store.saveStatuses([{ deviceId: id, online: false, lastActivity: 300 }]);
      assert.deepEqual(await store.getStatuses([id]), [{ deviceId: id, online: true, lastActivity: 300, lastConnect: 200, transport: 'mqtt', nodeId: 'node-b', epoch: 200 }]);
      // the same session going offline: same epoch, taken
      await store.saveStatuses([{ deviceId: id, online: false, lastActivity: 310, lastConnect: 200, lastDisconnect: 320, transport: 'mqtt', nodeId: 'node-b', epoch: 200 }]);
      assert.deepEqual(await store.getStatuses([id]), [{ deviceId: id, online: false, lastActivity: 310, lastConnect: 200, lastDisconnect: 320, transport: 'mqtt', nodeId: 'node-b', epoch: 200 }]);
      // and in one batch the later entry is merged over the earlier
      const other = randomUUID();
      await store.saveStatuses([
        { deviceId: other, online: true, lastActivity: 5, nodeId: 'node-b', epoch: 9 },
        { deviceId: other, online: false, lastActivity: 7, nodeId: 'node-a', epoch: 3 },
      ]);
      assert.deepEqual(await store.getStatuses([other]), [{ deviceId: other, online: true, lastActivity: 7, nodeId: 'node-b', epoch: 9 }]);
    });
  });
}
