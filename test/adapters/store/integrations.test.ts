/** The integration store on both backends: definitions per tenant, the bounded export buffer as the cursor. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore } from '../../../src/adapters/store/memory/index.js';
import { createSqliteStore } from '../../../src/adapters/store/sqlite/index.js';
import type { Integration, NewExportRecord } from '../../../src/domain/integrations.js';
import type { Store } from '../../../src/ports.js';
import { seed, T1, T2 } from './contract.js';
import { createTestDatabase, type TestDatabase } from './postgres-support.js';

const dir = mkdtempSync(join(tmpdir(), 'continuum-integrations-'));
let pgDb: TestDatabase;
before(async () => {
  pgDb = await createTestDatabase();
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pgDb.drop();
});

const integration = (id: string, name: string, tenantId = T1): Integration => ({
  id,
  tenantId,
  type: 'mqtt-bridge',
  name,
  enabled: true,
  config: { url: 'mqtt://x', password: 'p' },
  filter: { events: ['telemetry'] },
  createdAt: 1,
  updatedAt: 1,
});
const rec = (n: number): NewExportRecord => ({ event: 'telemetry', tenantId: T1, deviceId: 'd', deviceName: 'dev', ts: n, enqueuedAt: 1000 + n, payload: JSON.stringify({ n }) });

const factories: [string, () => Store | Promise<Store>][] = [
  ['memory', () => createMemoryStore()],
  ['sqlite', () => createSqliteStore({ file: join(dir, `${Math.random()}`, 'continuum.db'), synchronous: 'NORMAL' })],
  ['postgres', () => pgDb.store()],
];

for (const [kind, make] of factories) {
  describe(`integration store (${kind})`, () => {
    it('keeps definitions per tenant with unique names; delete removes the buffer too', async () => {
      const store = await make();
      await seed(store);
      await store.insertIntegration(integration('i2', 'beta'));
      await store.insertIntegration(integration('i1', 'alpha'));
      await store.insertIntegration(integration('i3', 'alpha', T2));
      await assert.rejects(store.insertIntegration(integration('i4', 'alpha')), { code: 'CONFLICT' });
      assert.deepEqual((await store.listIntegrations(T1)).map((i) => i.id), ['i1', 'i2']);
      assert.deepEqual(await store.getIntegration('i1'), integration('i1', 'alpha'));
      await store.enqueueExports('i1', [rec(1)], 10);
      assert.equal(await store.deleteIntegration('i1'), true);
      assert.equal(await store.deleteIntegration('i1'), false);
      assert.deepEqual(await store.exportBacklog('i1'), { count: 0, oldestEnqueuedAt: undefined });
      await store.close();
    });

    it('buffers in order, bounded (oldest dropped and counted), acknowledges up to a seq', async () => {
      const store = await make();
      await seed(store);
      await store.insertIntegration(integration('i1', 'alpha'));
      assert.equal(await store.enqueueExports('i1', [rec(1), rec(2), rec(3)], 4), 0);
      assert.equal(await store.enqueueExports('i1', [rec(4), rec(5), rec(6)], 4), 2);
      const waiting = await store.readExports('i1', 10);
      assert.deepEqual(waiting.map((r) => r.ts), [3, 4, 5, 6]);
      assert.deepEqual(await store.exportBacklog('i1'), { count: 4, oldestEnqueuedAt: 1003 });
      await store.ackExports('i1', waiting[1]?.seq ?? 0);
      assert.deepEqual((await store.readExports('i1', 1)).map((r) => r.ts), [5]);
      await store.close();
    });
  });
}

it('sqlite: the buffer (the cursor) survives a reopen, and seqs keep growing', async () => {
  const file = join(dir, 'reopen', 'continuum.db');
  let store = createSqliteStore({ file, synchronous: 'NORMAL' });
  await seed(store);
  await store.insertIntegration(integration('i1', 'alpha'));
  await store.enqueueExports('i1', [rec(1), rec(2)], 10);
  const [first] = await store.readExports('i1', 1);
  await store.ackExports('i1', first?.seq ?? 0);
  await store.close();
  store = createSqliteStore({ file, synchronous: 'NORMAL' });
  await store.enqueueExports('i1', [rec(3)], 10);
  const left = await store.readExports('i1', 10);
  assert.deepEqual(left.map((r) => r.ts), [2, 3]);
  assert.ok((left[1]?.seq ?? 0) > (left[0]?.seq ?? 0));
  await store.close();
});
