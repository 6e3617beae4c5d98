/** The RuleStore part of both stores: the same answers from memory and SQLite; SQLite keeps them across reopen. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryStore } from '../../../src/adapters/store/memory/index.js';
import { createSqliteStore } from '../../../src/adapters/store/sqlite/index.js';
import type { Rule } from '../../../src/domain/rules/model.js';
import type { Store } from '../../../src/ports.js';
import { device, seed, T1, T2 } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'continuum-rules-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function rule(id: string, name: string, extra: Partial<Rule> = {}): Rule {
  return { id, tenantId: T1, name, enabled: true, trigger: 'telemetry', condition: 'v > 1', actions: [{ type: 'alarm', alarmType: 'High', details: { a: [1, 'x'] } }], createdAt: 1000, updatedAt: 1000, ...extra };
}

const factories: [string, () => Store][] = [
  ['memory', () => createMemoryStore()],
  ['sqlite', () => createSqliteStore({ file: join(dir, `s${++n}`, 'continuum.db'), synchronous: 'NORMAL' })],
];

for (const [kind, make] of factories) {
  describe(`rule store (${kind})`, () => {
    it('saves, replaces, lists by tenant and name, deletes with its state', async () => {
      const store = make();
      await seed(store);
      await store.saveRule(rule('r2', 'beta'));
      await store.saveRule(rule('r1', 'alpha', { deviceId: 'd1', for: '10m' }));
      await store.saveRule(rule('r3', 'gamma', { tenantId: T2 }));
      assert.deepEqual((await store.listRules(T1)).map((r) => r.id), ['r1', 'r2']);
      assert.deepEqual((await store.listRules()).map((r) => r.id), ['r1', 'r2', 'r3']);
      assert.deepEqual(await store.getRule('r1'), rule('r1', 'alpha', { deviceId: 'd1', for: '10m' }));
      await store.saveRule(rule('r1', 'zeta', { updatedAt: 2000 }));
      assert.equal((await store.getRule('r1'))?.name, 'zeta');
      assert.deepEqual((await store.listRules(T1)).map((r) => r.id), ['r2', 'r1']);

      await store.saveRuleState([{ ruleId: 'r1', deviceId: 'd1', state: '{"a":1}', updatedAt: 5 }, { ruleId: 'r1', deviceId: 'd2', state: '{}', updatedAt: 5 }]);
      await store.saveRuleState([{ ruleId: 'r1', deviceId: 'd1', state: '{"a":2}', updatedAt: 6 }]);
      assert.deepEqual(await store.loadRuleState('r1', 'd1'), { ruleId: 'r1', deviceId: 'd1', state: '{"a":2}', updatedAt: 6 });
      // State of a rule that is gone is skipped, not an error for the whole batch.
      await store.saveRuleState([{ ruleId: 'gone', deviceId: 'd1', state: '{}', updatedAt: 5 }, { ruleId: 'r2', deviceId: 'd1', state: '{"b":1}', updatedAt: 5 }]);
      assert.equal(await store.loadRuleState('gone', 'd1'), undefined);
      assert.equal((await store.loadRuleState('r2', 'd1'))?.state, '{"b":1}');

      await store.deleteRuleState('r2');
      assert.equal(await store.loadRuleState('r2', 'd1'), undefined);
      assert.equal(await store.deleteRule('r1'), true);
      assert.equal(await store.deleteRule('r1'), false);
      assert.equal(await store.getRule('r1'), undefined);
      assert.equal(await store.loadRuleState('r1', 'd2'), undefined);
      await store.close();
    });

    it("refuses an unknown tenant; deleting a device deletes its rule state", async () => {
      const store = make();
      await seed(store);
      await assert.rejects(store.saveRule(rule('r9', 'x', { tenantId: 'nope' })));
      const d = device('with-state');
      await store.insertDevice(d, []);
      await store.saveRule(rule('r1', 'a'));
      await store.saveRuleState([{ ruleId: 'r1', deviceId: d.id, state: '{}', updatedAt: 1 }]);
      await store.deleteDevice(d.id);
      assert.equal(await store.loadRuleState('r1', d.id), undefined);
      await store.close();
    });
  });
}

it('SQLite keeps rules and rule state across close and reopen', async () => {
  const file = join(dir, 'reopen', 'continuum.db');
  const first = createSqliteStore({ file, synchronous: 'NORMAL' });
  await seed(first);
  await first.saveRule(rule('r1', 'kept'));
  await first.saveRuleState([{ ruleId: 'r1', deviceId: 'd1', state: '{"active":true}', updatedAt: 7 }]);
  await first.close();
  const second = createSqliteStore({ file, synchronous: 'NORMAL' });
  assert.equal((await second.getRule('r1'))?.name, 'kept');
  assert.equal((await second.loadRuleState('r1', 'd1'))?.state, '{"active":true}');
  await second.close();
});
