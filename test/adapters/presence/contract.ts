/**
 * The Presence contract every implementation passes (memory, PostgreSQL): epochs per device only
 * grow, across nodes too; a late disconnect of an older session leaves a newer one alone; a node's
 * entries are listed and expired together.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Presence } from '../../../src/ports.js';

export function presenceContract(name: string, open: () => Promise<{ presence: Presence; close(): Promise<void> }>): void {
  describe(`Presence contract (${name})`, () => {
    const base = { tenantId: 't', transport: 'mqtt' as const, since: 7 };

    it('connect, lookup the newest, disconnect only the same epoch, list and expire a node', async () => {
      const { presence, close } = await open();
      try {
        const a1 = await presence.connect({ ...base, deviceId: 'd1', nodeId: 'a' });
        const b1 = await presence.connect({ ...base, deviceId: 'd1', nodeId: 'b' });
        assert.ok(b1.epoch > a1.epoch, 'a later session on another node has a greater epoch');
        assert.deepEqual(await presence.lookup('d1'), { ...base, deviceId: 'd1', nodeId: 'b', epoch: b1.epoch });
        await presence.connect({ ...base, deviceId: 'd2', nodeId: 'a', transport: 'coap' });
        assert.deepEqual((await presence.listByNode('a')).map((e) => e.deviceId).sort(), ['d1', 'd2']);
        assert.equal((await presence.listByNode('a')).find((e) => e.deviceId === 'd2')?.transport, 'coap');

        // Reconnecting on a: the entry is replaced under a newer epoch; the stale one no longer removes it.
        const a2 = await presence.connect({ ...base, deviceId: 'd1', nodeId: 'a' });
        assert.ok(a2.epoch > b1.epoch);
        assert.equal((await presence.listByNode('a')).filter((e) => e.deviceId === 'd1').length, 1);
        assert.equal(await presence.disconnect('d1', 'a', a1.epoch), false);
        assert.equal((await presence.lookup('d1'))?.nodeId, 'a');
        assert.equal(await presence.disconnect('d1', 'a', a2.epoch), true);
        assert.equal(await presence.disconnect('d1', 'a', a2.epoch), false, 'a second disconnect finds nothing');
        assert.equal((await presence.lookup('d1'))?.nodeId, 'b');

        const gone = await presence.expireNode('b');
        assert.deepEqual(gone.map((e) => [e.deviceId, e.nodeId, e.epoch]), [['d1', 'b', b1.epoch]]);
        assert.equal(await presence.lookup('d1'), undefined);
        assert.equal((await presence.lookup('d2'))?.nodeId, 'a');
        assert.deepEqual(await presence.listByNode('b'), []);
        assert.deepEqual(await presence.expireNode('b'), []);
      } finally {
        await close();
      }
    });

    it('epochs keep growing after the device had no session at all', async () => {
      const { presence, close } = await open();
      try {
        const first = await presence.connect({ ...base, deviceId: 'd3', nodeId: 'a' });
        await presence.disconnect('d3', 'a', first.epoch);
        const second = await presence.connect({ ...base, deviceId: 'd3', nodeId: 'b' });
        assert.ok(second.epoch > first.epoch);
      } finally {
        await close();
      }
    });

    it('concurrent connects of one device on many nodes get distinct epochs; the greatest wins lookup', async () => {
      const { presence, close } = await open();
      try {
        const entries = await Promise.all(['n1', 'n2', 'n3', 'n4', 'n5'].map((nodeId) => presence.connect({ ...base, deviceId: 'd4', nodeId })));
        const epochs = entries.map((e) => e.epoch);
        assert.equal(new Set(epochs).size, epochs.length);
        const newest = entries.reduce((x, y) => (y.epoch > x.epoch ? y : x));
        assert.equal((await presence.lookup('d4'))?.nodeId, newest.nodeId);
      } finally {
        await close();
      }
    });
  });
}
