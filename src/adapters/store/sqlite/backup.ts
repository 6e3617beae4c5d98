/**
 * Online backup of the SQLite database with SQLite's backup API (better-sqlite3's `db.backup()`),
 * from a second connection while the platform keeps writing through its own.
 *
 * The copy is made in ONE backup step: the step holds a read transaction, so the copy is the
 * database as of one instant (WAL mode lets the platform go on writing meanwhile). Copying in
 * small steps instead would restart from the first page every time another connection writes,
 * which under steady ingest may never finish.
 */
import Database from 'better-sqlite3';
import { SCHEMA_VERSION } from './schema.js';

export interface SnapshotResult {
  readonly pages: number;
}

/** Copies the database at `source` to the new file `dest` (which must not exist). */
export async function snapshotDatabase(source: string, dest: string): Promise<SnapshotResult> {
  // Read-write open (nothing is written): a read-only connection cannot open a WAL database
  // whose -shm file is missing, as it is whenever the platform is stopped.
  const db = new Database(source, { fileMustExist: true });
  let pages: number;
  try {
    db.pragma('busy_timeout = 10000');
    // The first step (0 pages) only sizes the copy; the handler then asks for every page at once.
    const progress = await db.backup(dest, { progress: () => 0x7fffffff });
    pages = progress.totalPages;
  } finally {
    db.close();
  }
  // The copy stands alone: rollback journal instead of WAL, so it is one file that even a
  // read-only connection opens (the platform switches it back to WAL at its next start).
  const copy = new Database(dest, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
  return { pages };
}

export interface DatabaseReport {
  /** PRAGMA user_version: the schema's migration number. */
  readonly schemaVersion: number;
  /** The newest schema this build understands; a higher schemaVersion cannot be opened. */
  readonly supportedVersion: number;
  /** 'ok', or the problems PRAGMA quick_check found. */
  readonly check: string;
  /** The SHA-256 keys of the OTA packages the database refers to (their bytes live beside it). */
  readonly packageChecksums: readonly string[];
}

/** Checks a database file (a backup's copy) without migrating or changing it. */
export function inspectDatabase(file: string): DatabaseReport {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const schemaVersion = db.pragma('user_version', { simple: true }) as number;
    const rows = db.pragma('quick_check') as Array<{ quick_check: string }>;
    const check = rows.map((r) => r.quick_check).join('; ');
    const hasOta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ota_packages'").get() !== undefined;
    const packageChecksums = hasOta ? (db.prepare('SELECT DISTINCT checksum FROM ota_packages').pluck().all() as string[]) : [];
    return { schemaVersion, supportedVersion: SCHEMA_VERSION, check, packageChecksums };
  } finally {
    db.close();
  }
}
