/**
 * Two AlarmService instances (two nodes) on one store changing the same alarm at once (issue 13):
 * compare-and-set in the store with a retry loop in the service, so no update is lost, there is
 * exactly one open alarm per (device, type), and repeat counts add up. On the memory store and on
 * two SQLite connections to one file.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBus } from '../../src/adapters/bus/memory/index.js';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { createSqliteStore } from '../../src/adapters/store/sqlite/index.js';
import type { Store } from '../../src/ports.js';
import { harness, logger, T, type Harness } from './actions-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'continuum-cluster-alarms-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const BACKENDS: { name: string; open(): [Store, Store] }[] = [
  { name: 'memory', open: () => { const s = createMemoryStore(); return [s, s]; } },
  {
    name: 'sqlite',
    open: () => {
      const file = join(dir, `alarms-${++files}.db`);
      return [createSqliteStore({ file, synchronous: 'NORMAL' }), createSqliteStore({ file, synchronous: 'NORMAL' })];
    },
  },
];

const ROUNDS = 40;

for (const backend of BACKENDS) {
  describe(`alarms changed by two nodes at once (${backend.name})`, () => {
    const nodes: Harness[] = [];
    afterEach(async () => {
      for (const n of nodes.splice(0).reverse()) await n.close().catch(() => undefined);
    });

    async function twoNodes(): Promise<[Harness, Harness]> {
      const [storeA, storeB] = backend.open();
      const bus = new MemoryBus(logger);
      const a = await harness({ store: storeA, bus, nodeId: 'node-a' });
      nodes.push(a);
      const b = await harness({ store: storeB, bus, nodeId: 'node-b' });
      nodes.push(b);
      return [a, b];
    }

    it('raises, acknowledges and clears race without a lost update', async () => {
      const [a, b] = await twoNodes();
      const { deviceId } = await a.device('boiler');
      const raise = (h: Harness, i: number) => h.alarms.raise({ tenantId: T, deviceId, type: 'Overheat', severity: i % 2 ? 'major' : 'critical', details: { i } }, h.nodeId);

      // every raise on either node counts on one open alarm
      await Promise.all(Array.from({ length: ROUNDS }, (_, i) => [raise(a, i), raise(b, i)]).flat());
      const open = await a.store.listAlarms({ tenantId: T, deviceId, statuses: ['active', 'acknowledged'], limit: 10, offset: 0 });
      assert.equal(open.total, 1, 'one open alarm per (device, type)');
      const alarm = open.items[0]!;
      assert.equal(alarm.count, 2 * ROUNDS, 'every repeat counted');
      assert.equal(alarm.version, 2 * ROUNDS);

      // an acknowledgement on A races more raises on B: both land
      await Promise.all([a.alarms.acknowledge(T, alarm.id, 'user-a'), raise(b, 1), raise(b, 2)]);
      const acked = await b.alarms.get(T, alarm.id);
      assert.equal(acked.status, 'acknowledged');
      assert.equal(acked.count, 2 * ROUNDS + 2);

      // both nodes clear it: one clear happens, the other finds it cleared
      await Promise.all([a.alarms.clearById(T, alarm.id, 'user-a'), b.alarms.clearById(T, alarm.id, 'user-b'), b.alarms.clear({ tenantId: T, deviceId, type: 'Overheat' })]);
      const history = await a.alarms.history(T, alarm.id);
      const actions = history.map((e) => e.action);
      assert.equal(actions.filter((x) => x === 'raised').length, 1);
      assert.equal(actions.filter((x) => x === 'repeated').length, 2 * ROUNDS + 1);
      assert.equal(actions.filter((x) => x === 'acknowledged').length, 1);
      assert.equal(actions.filter((x) => x === 'cleared').length, 1);
      assert.equal((await a.alarms.get(T, alarm.id)).status, 'cleared');

      // after the clear, racing raises open exactly one new alarm
      await Promise.all([raise(a, 0), raise(b, 0), raise(a, 1), raise(b, 1)]);
      const reopened = await b.store.listAlarms({ tenantId: T, deviceId, statuses: ['active'], limit: 10, offset: 0 });
      assert.equal(reopened.total, 1);
      assert.notEqual(reopened.items[0]?.id, alarm.id);
      assert.equal(reopened.items[0]?.count, 4);
    });
  });
}
