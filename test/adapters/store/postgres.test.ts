import { after, before } from 'node:test';
import { createTestDatabase, type TestDatabase } from './postgres-support.js';
import { storeContract } from './contract.js';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db.drop();
});

storeContract('postgres', () => db.store());
