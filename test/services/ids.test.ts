/**
 * RPC request ids from store blocks (services/ids.ts): two allocators on one store (two nodes)
 * never hand out the same id, ids stay positive int32s, and a block costs one store write.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { createSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import type { IdStore, Store } from '../../src/ports.js';
import { ID_BLOCK, IdAllocator, MAX_WIRE_ID, RPC_ID_SEQUENCE } from '../../src/services/ids.js';

const dir = mkdtempSync(join(tmpdir(), 'continuum-ids-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function draw(allocator: IdAllocator, n: number): Promise<number[]> {
  const ids: number[] = [];
  // in bursts, as concurrent RPC calls would ask
  for (let i = 0; i < n; i += 50) ids.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => allocator.nextId()))));
  return ids;
}

describe('IdAllocator', () => {
  for (const backend of ['memory', 'sqlite'] as const) {
    it(`two allocators on one store never collide (${backend})`, async () => {
      let stores: [Store, Store];
      if (backend === 'memory') {
        const s = createMemoryStore();
        stores = [s, s];
      } else {
        const file = join(dir, 'ids.db');
        stores = [createSqliteStore({ file, synchronous: 'NORMAL' }), createSqliteStore({ file, synchronous: 'NORMAL' })];
      }
      try {
        const [a, b] = [new IdAllocator(stores[0], RPC_ID_SEQUENCE), new IdAllocator(stores[1], RPC_ID_SEQUENCE)];
        const [fromA, fromB] = await Promise.all([draw(a, 3 * ID_BLOCK + 7), draw(b, 2 * ID_BLOCK + 500)]);
        const all = [...fromA, ...fromB];
        assert.equal(new Set(all).size, all.length, 'no id twice');
        assert.ok(all.every((id) => Number.isInteger(id) && id >= 1 && id <= MAX_WIRE_ID));
        assert.equal(new Set(fromA).size, fromA.length);
        // a third node starting later continues past both
        const c = new IdAllocator(stores[1], RPC_ID_SEQUENCE);
        assert.ok((await c.nextId()) > Math.max(...all));
      } finally {
        await stores[0].close();
        if (stores[1] !== stores[0]) await stores[1].close();
      }
    });
  }

  it('one store write per block, shared by concurrent callers', async () => {
    const store = createMemoryStore();
    let writes = 0;
    const counting: IdStore = { reserveIds: (...args) => (writes++, store.reserveIds(...args)) };
    const allocator = new IdAllocator(counting, 'x', 100);
    const ids = await Promise.all(Array.from({ length: 250 }, () => allocator.nextId()));
    assert.equal(new Set(ids).size, 250);
    assert.equal(writes, 3);
  });

  it('wraps to 1 past the maximum', async () => {
    const allocator = new IdAllocator(createMemoryStore(), 'small', 4, 10);
    const ids = await draw(allocator, 14);
    assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6]);
  });
});
