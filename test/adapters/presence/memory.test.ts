/** MemoryPresence: epochs per device only grow; a late disconnect leaves a newer session alone. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryPresence } from '../../../src/adapters/presence/memory/presence.js';

describe('MemoryPresence', () => {
  it('connect, lookup the newest, disconnect only the same epoch, list and expire a node', async () => {
    let now = 1_000;
    const presence = new MemoryPresence({ now: () => now });
    const base = { tenantId: 't', transport: 'mqtt' as const, since: 0 };
    const a1 = await presence.connect({ ...base, deviceId: 'd1', nodeId: 'a' });
    assert.equal(a1.epoch, 1_000);
    // same millisecond on another node: still a greater epoch
    const b1 = await presence.connect({ ...base, deviceId: 'd1', nodeId: 'b' });
    assert.equal(b1.epoch, 1_001);
    assert.equal((await presence.lookup('d1'))?.nodeId, 'b');
    await presence.connect({ ...base, deviceId: 'd2', nodeId: 'a' });
    assert.deepEqual((await presence.listByNode('a')).map((e) => e.deviceId).sort(), ['d1', 'd2']);

    // a stale epoch does not remove the node's entry
    now = 500; // a clock that went back still gives a greater epoch
    const a2 = await presence.connect({ ...base, deviceId: 'd1', nodeId: 'a' });
    assert.equal(a2.epoch, 1_002);
    assert.equal(await presence.disconnect('d1', 'a', a1.epoch), false);
    assert.equal((await presence.lookup('d1'))?.nodeId, 'a');
    assert.equal(await presence.disconnect('d1', 'a', a2.epoch), true);
    assert.equal((await presence.lookup('d1'))?.nodeId, 'b');

    const gone = await presence.expireNode('b');
    assert.deepEqual(gone.map((e) => e.deviceId), ['d1']);
    assert.equal(await presence.lookup('d1'), undefined);
    assert.equal((await presence.lookup('d2'))?.nodeId, 'a');
    assert.deepEqual(await presence.listByNode('b'), []);
  });
});
