/** The cluster ports' contract on PostgreSQL (migration 006), a store per test on a database of this run. */
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '../store/postgres-support.js';
import { clusterContract } from './contract.js';

let db: TestDatabase | undefined;

clusterContract('postgres', async () => {
  db ??= await createTestDatabase();
  const store = await db.store();
  return {
    cluster: store.cluster,
    store,
    // the database's clock decides expiry: let real time pass
    pass: (ms: number) => sleep(ms),
    close: () => store.close(),
  };
});

after(async () => {
  await db?.drop();
});
