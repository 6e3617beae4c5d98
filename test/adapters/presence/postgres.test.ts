/** PostgresPresence on the machine's PostgreSQL: the Presence contract, and two nodes' instances sharing one table. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresPresence } from '../../../src/adapters/presence/postgres/presence.js';
import { createTestDatabase, type TestDatabase } from '../store/postgres-support.js';
import { presenceContract } from './contract.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db.drop();
});

let schemas = 0;
/** A migrated schema of the test database (the store's migrations create the table), and a pool on it. */
async function openPool(): Promise<{ pool: pg.Pool; close(): Promise<void> }> {
  const store = await db.store();
  await store.close();
  // db.store() numbers its schemas s1, s2, ...: this pool goes to the one just migrated.
  const pool = new pg.Pool({ connectionString: db.url, max: 4, options: `-c search_path=s${++schemas}` });
  // DROP DATABASE ... WITH (FORCE) may reach a backend whose client already ended: not a failure.
  pool.on('error', () => undefined);
  return { pool, close: () => pool.end() };
}

presenceContract('postgres', async () => {
  const { pool, close } = await openPool();
  return { presence: new PostgresPresence(pool), close };
});

describe('PostgresPresence across nodes', () => {
  it("one node's instance sees what another node's instance recorded; epochs are above the time the schema was made", async () => {
    const before = Date.now();
    const { pool, close } = await openPool();
    const other = new pg.Pool({ connectionString: db.url, max: 2, options: `-c search_path=s${schemas}` });
    other.on('error', () => undefined);
    try {
      const a = new PostgresPresence(pool);
      const b = new PostgresPresence(other);
      const onA = await a.connect({ deviceId: 'd', tenantId: 't', nodeId: 'a', transport: 'mqtt', since: 1 });
      // Status rows written with clock epochs before this schema existed stay older than any new session.
      assert.ok(onA.epoch >= before, `epoch ${onA.epoch} starts at the migration's clock`);
      assert.deepEqual(await b.lookup('d'), onA);
      const onB = await b.connect({ deviceId: 'd', tenantId: 't', nodeId: 'b', transport: 'mqtt', since: 2 });
      assert.equal((await a.lookup('d'))?.nodeId, 'b');
      assert.ok(onB.epoch > onA.epoch);
      assert.deepEqual((await a.expireNode('b')).map((e) => e.nodeId), ['b']);
      assert.equal((await b.lookup('d'))?.nodeId, 'a');
    } finally {
      await other.end();
      await close();
    }
  });
});
