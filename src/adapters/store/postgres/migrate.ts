/**
 * Versioned schema migrations with node-pg-migrate, run programmatically at start under an
 * advisory lock (several nodes may start at once: one migrates, the others wait). The files live
 * in ./migrations (TypeScript, loaded by the runner the way tsx runs the project). The schema
 * version is the number of applied migrations; a database that has migrations this build does
 * not know was migrated by a newer build and is refused instead of being written to.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type pg from 'pg';
import type { Logger } from '../../../ports.js';
import { quoteIdent } from './db.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));
const MIGRATIONS_TABLE = 'pgmigrations';

/** Names of the migrations this build carries, in order (file names without extension). */
export function knownMigrations(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d+_[\w-]+\.(ts|js)$/.test(f))
    .map((f) => f.replace(/\.(ts|js)$/, ''))
    .sort();
}

export const SCHEMA_VERSION = knownMigrations().length;

async function appliedMigrations(client: pg.ClientBase, schema: string): Promise<string[]> {
  const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${quoteIdent(schema)}.${MIGRATIONS_TABLE}`]);
  if (!exists.rows[0]?.t) return [];
  const r = await client.query<{ name: string }>(`SELECT name FROM ${quoteIdent(schema)}.${MIGRATIONS_TABLE} ORDER BY run_on, id`);
  return r.rows.map((row) => row.name);
}

/** Refuses a database migrated by a newer build (a migration this build does not carry). */
export async function checkSchemaVersion(client: pg.ClientBase, schema: string): Promise<number> {
  const known = new Set(knownMigrations());
  const applied = await appliedMigrations(client, schema);
  const unknown = applied.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new Error(`database schema has migrations this build does not know (${unknown.join(', ')}): it was migrated by a newer Continuum`);
  }
  return applied.length;
}

/** Applies the pending migrations in one transaction; resolves with the schema version. */
export async function migrate(client: pg.ClientBase, schema: string, logger?: Logger): Promise<number> {
  await checkSchemaVersion(client, schema);
  const ran = await runner({
    dbClient: client,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: MIGRATIONS_TABLE,
    schema,
    createSchema: true,
    checkOrder: true,
    singleTransaction: true,
    // Another node migrating at the same time: wait for it, then find nothing left to do.
    advisoryLockMode: 'wait',
    log: () => undefined,
  });
  for (const m of ran) logger?.info({ migration: m.name }, 'postgres schema migrated');
  const version = await checkSchemaVersion(client, schema);
  if (version !== SCHEMA_VERSION) throw new Error(`postgres schema at version ${version} after migrating, expected ${SCHEMA_VERSION}`);
  return version;
}
