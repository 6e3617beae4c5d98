/** Small helpers the SQLite store's parts share: the handle type and constraint-error tests. */
import Database from 'better-sqlite3';

export type Db = Database.Database;
export type Statement = Database.Statement;

/**
 * True for a UNIQUE or PRIMARY KEY violation, optionally only on the given columns, as SQLite
 * names them in its message ("UNIQUE constraint failed: devices.tenant_id, devices.name").
 */
export function isUniqueViolation(err: unknown, columns?: string): boolean {
  if (!(err instanceof Database.SqliteError)) return false;
  if (err.code !== 'SQLITE_CONSTRAINT_UNIQUE' && err.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return false;
  return columns === undefined || err.message.endsWith(`: ${columns}`);
}

/** SQLite has no boolean: 1 / 0. */
export const bit = (b: boolean): number => (b ? 1 : 0);
