/**
 * The data directory holds the database, and with it the JWT signing secret, password hashes and
 * device credentials: only the service account may read it. The directory is made 0700 and the
 * database files 0600 — created so from the start, and tightened at every start (with a warning)
 * when an earlier version or an administrator left them readable by others.
 *
 * SQLite creates the -wal and -shm files with the permissions of the database file, so creating
 * the database file 0600 before SQLite opens it covers those too; they are still checked here.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '../adapters/store/sqlite/index.js';
import type { TokenDigest } from '../adapters/store/sqlite/migrate-tokens.js';
import type { BrokerStateStore, Logger, Store } from '../ports.js';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;
export const DATABASE_FILE = 'continuum.db';

/** Sets `mode` when the current permissions grant more; warns when it had to. */
function tighten(path: string, mode: number, logger: Logger): void {
  let current: number;
  try {
    current = statSync(path).mode & 0o777;
  } catch {
    return; // not there (a -wal that SQLite removed): nothing to protect
  }
  if ((current & ~mode) === 0) return;
  chmodSync(path, mode);
  logger.warn({ path, was: current.toString(8), now: mode.toString(8) }, 'data file was readable by other users; permissions tightened');
}

/** Creates the directory 0700 (or tightens it) before anything is written into it. */
export function secureDataDir(dir: string, logger: Logger): void {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  tighten(dir, DIR_MODE, logger);
}

/** Creates the database file empty with 0600 when missing (SQLite accepts it as a new database). */
export function createPrivateFile(file: string): void {
  if (existsSync(file)) return;
  closeSync(openSync(file, 'a', FILE_MODE));
}

/** The database and its companions, after SQLite opened them. */
export function secureDatabaseFiles(file: string, logger: Logger): void {
  for (const path of [file, `${file}-wal`, `${file}-shm`]) tighten(path, FILE_MODE, logger);
}

/** The SQLite database of a data dir, private to the service account. */
export function openDataDirStore(dataDir: string, synchronous: 'NORMAL' | 'FULL', logger: Logger, tokenDigest?: TokenDigest): Store {
  return openDataDir(dataDir, synchronous, logger, tokenDigest).store;
}

/** The same, with the MQTT broker's state kept in the same database. */
export function openDataDir(
  dataDir: string,
  synchronous: 'NORMAL' | 'FULL',
  logger: Logger,
  tokenDigest?: TokenDigest,
): { store: Store; brokerState: BrokerStateStore } {
  secureDataDir(dataDir, logger);
  const file = join(dataDir, DATABASE_FILE);
  createPrivateFile(file);
  const opened = openSqliteStore({ file, synchronous, logger, ...(tokenDigest ? { tokenDigest } : {}) });
  secureDatabaseFiles(file, logger);
  return opened;
}
