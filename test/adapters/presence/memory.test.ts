/** MemoryPresence: the Presence contract, and its clock-based epochs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryPresence } from '../../../src/adapters/presence/memory/presence.js';
import { presenceContract } from './contract.js';

presenceContract('memory', async () => ({ presence: new MemoryPresence({ now: () => 1_000 }), close: async () => undefined }));

describe('MemoryPresence', () => {
  it('epochs are clock times bumped past the device’s last one, even when the clock goes back', async () => {
    let now = 1_000;
    const presence = new MemoryPresence({ now: () => now });
    const base = { tenantId: 't', transport: 'mqtt' as const, since: 0 };
    assert.equal((await presence.connect({ ...base, deviceId: 'd1', nodeId: 'a' })).epoch, 1_000);
    // same millisecond on another node: still a greater epoch
    assert.equal((await presence.connect({ ...base, deviceId: 'd1', nodeId: 'b' })).epoch, 1_001);
    now = 500;
    assert.equal((await presence.connect({ ...base, deviceId: 'd1', nodeId: 'a' })).epoch, 1_002);
  });
});
