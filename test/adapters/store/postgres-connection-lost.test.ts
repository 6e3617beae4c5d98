/**
 * Regression: "a PostgreSQL restart kills every node" (found by test/e2e/cluster/pg-restart.test.ts).
 * The server ending a connection that a transaction holds between two statements (restart,
 * pg_terminate_backend: FATAL 57P01) made the checked-out pg client emit 'error' with no query to
 * fail it and nobody listening, and Node ends a process on an unheard 'error' event. inTx now
 * listens while it holds the connection: the transaction fails, the broken connection is thrown
 * away, and the next transaction runs on a fresh one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createPool, inTx } from '../../../src/adapters/store/postgres/db.js';
import { createTestDatabase, type TestDatabase } from './postgres-support.js';

let db: TestDatabase;
let pool: pg.Pool;
let admin: pg.Client;

before(async () => {
  db = await createTestDatabase();
  pool = createPool({ url: db.url, poolSize: 2, statementTimeoutMs: 10_000 });
  pool.on('error', () => undefined);
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
});
after(async () => {
  await admin.end();
  await pool.end();
  await db.drop();
});

test('a PostgreSQL restart kills every node: a connection terminated inside a transaction fails it instead of the process', async () => {
  await assert.rejects(
    inTx(pool, async (c) => {
      const { rows } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const ended = new Promise((resolve) => c.once('end', resolve));
      // Between two statements of the transaction, as a restart would do it.
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await ended;
      await c.query('SELECT 1');
    }),
  );
  const { rows } = await inTx(pool, (c) => c.query<{ one: number }>('SELECT 1 AS one'));
  assert.deepEqual(rows, [{ one: 1 }]);
});
