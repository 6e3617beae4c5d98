/**
 * A database of its own for one test run (`continuum_test_<random>` on the machine's PostgreSQL,
 * CONTINUUM_TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432), dropped at the end; each
 * store of the run gets a fresh schema in it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPostgresStore, type PostgresStore } from '../../../src/adapters/store/postgres/index.js';

const ADMIN_URL = process.env.CONTINUUM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  readonly url: string;
  /** A store on a fresh schema of the test database. */
  store(extra?: { statementTimeoutMs?: number; now?: number }): Promise<PostgresStore>;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `continuum_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  let n = 0;
  return {
    url: url.toString(),
    async store(extra = {}): Promise<PostgresStore> {
      const now = extra.now;
      return createPostgresStore({
        url: url.toString(),
        poolSize: 4,
        statementTimeoutMs: extra.statementTimeoutMs ?? 30_000,
        schema: `s${++n}`,
        ...(now !== undefined ? { clock: { now: () => now } } : {}),
      });
    },
    async drop(): Promise<void> {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
