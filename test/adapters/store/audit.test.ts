/** The audit log on both stores: newest first, filters, paging, retention; append-only in SQLite. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createMemoryStore } from '../../../src/adapters/store/memory/index.js';
import { createSqliteStore } from '../../../src/adapters/store/sqlite/index.js';
import type { AuditEntry, Store } from '../../../src/ports.js';
import { tempDir } from '../../support/tmp.js';

const dir = tempDir();
const file = join(dir, 'audit.db');
const stores: [string, Store][] = [
  ['memory', createMemoryStore()],
  ['sqlite', createSqliteStore({ file, synchronous: 'NORMAL', checkpoints: false })],
];
after(async () => {
  for (const [, s] of stores) await s.close();
});

const entry = (n: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  id: `e${n}`,
  ts: 1000 + n,
  tenantId: 't1',
  actor: n % 2 ? 'u1' : 'u2',
  action: n % 3 ? 'auth.login' : 'POST /api/rules',
  outcome: 'success',
  ...extra,
});

for (const [kind, store] of stores) {
  test(`${kind}: audit entries are listed newest first, filtered and paged`, async () => {
    await store.appendAudit([1, 2, 3, 4, 5, 6].map((n) => entry(n)));
    await store.appendAudit([entry(7, { tenantId: 't2' }), entry(8, { targetId: 'dev-1', details: { body: { a: 1 } }, address: '127.0.0.1' })]);
    const all = await store.listAudit({ tenantId: 't1', limit: 100, offset: 0 });
    assert.deepEqual(all.items.map((e) => e.id), ['e8', 'e6', 'e5', 'e4', 'e3', 'e2', 'e1']);
    assert.equal(all.total, 7);
    assert.deepEqual(all.items[0], entry(8, { targetId: 'dev-1', details: { body: { a: 1 } }, address: '127.0.0.1' }));
    const logins = await store.listAudit({ tenantId: 't1', action: 'auth.', limit: 100, offset: 0 });
    assert.deepEqual(logins.items.map((e) => e.id), ['e8', 'e5', 'e4', 'e2', 'e1']);
    const exact = await store.listAudit({ tenantId: 't1', action: 'POST /api/rules', limit: 100, offset: 0 });
    assert.deepEqual(exact.items.map((e) => e.id), ['e6', 'e3']);
    const page = await store.listAudit({ tenantId: 't1', actor: 'u1', from: 1002, to: 1005, limit: 1, offset: 1 });
    assert.deepEqual([page.items.map((e) => e.id), page.total], [['e3'], 2]);
    assert.deepEqual((await store.listAudit({ tenantId: 't1', targetId: 'dev-1', limit: 10, offset: 0 })).items.map((e) => e.id), ['e8']);
  });

  test(`${kind}: retention removes only entries older than the cut`, async () => {
    assert.equal(await store.pruneAudit(1004), 3);
    const left = await store.listAudit({ tenantId: 't1', limit: 100, offset: 0 });
    assert.deepEqual(left.items.map((e) => e.id), ['e8', 'e6', 'e5', 'e4']);
  });
}

test('sqlite: an audit entry cannot be changed, even from another connection', () => {
  const other = new Database(file);
  try {
    assert.throws(() => other.prepare("UPDATE audit_log SET actor = 'someone-else'").run(), /append-only/);
  } finally {
    other.close();
  }
});
