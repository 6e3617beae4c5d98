/**
 * The broker's packet encoder must not pin memory per distinct packet length: mqtt-packet caches
 * each encoded length as a slice of Node's shared 8 KiB Buffer pool, and a slice keeps its slab
 * alive (length-cache.ts). Found by the MQTT fuzz surface: external memory grew ~4 MB per 8,000
 * connections, with the V8 heap flat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encode } from '../../../../src/adapters/transport/mqtt/packets.js';
import { CACHED_LENGTHS } from '../../../../src/adapters/transport/mqtt/length-cache.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function arrayBuffersAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
}

test('regression: every distinct length the MQTT broker encodes pins an 8 KiB Buffer pool slab (external memory grew under fuzzing)', () => {
  const before = arrayBuffersAfterGc();
  // SUBACKs for 1,000 to 4,999 filters: 4,000 distinct Remaining Lengths, each below mqtt-packet's
  // cache limit, with other short-lived pool allocations in between as on a busy broker.
  for (let filters = 1000; filters < 5000; filters++) {
    assert.ok(filters + 2 < CACHED_LENGTHS);
    const suback = encode({ cmd: 'suback', messageId: 1, granted: new Array<number>(filters).fill(1) }, 4);
    assert.equal(suback?.length, 1 + 2 + 2 + filters);
    Buffer.allocUnsafe(2048).fill(0);
  }
  const grown = arrayBuffersAfterGc() - before;
  // Pinned slabs would be about 4,000 × 8 KiB / 2 = 16 MB; without them nothing stays.
  assert.ok(grown < 2 * 1024 * 1024, `external ArrayBuffer memory grew by ${(grown / 1048576).toFixed(1)} MB after encoding 4,000 packets`);
});
