/**
 * Backup and restore of a data directory, as one tar file:
 *
 *   continuum.db     the database, copied with SQLite's online backup API (the platform may run)
 *   credential.key   what access tokens are hashed with: without it no device could sign in
 *   ota/sha256/…     the bytes of every OTA package the copied database refers to
 *   manifest.json    last: format, versions, and the size and SHA-256 of every file above
 *
 * Only the packages the database copy refers to are taken, so the archive is consistent with
 * itself even when packages are uploaded or deleted during the backup. Not taken: the node id (a
 * restored copy on another machine must not share it), ports.json, the lock.
 *
 * Restore unpacks into a staging folder inside the data dir, checks every file against the
 * manifest and the database with quick_check, and only then moves the files into place, holding
 * the data dir's lock all along: it refuses while a platform runs there, and no platform can
 * start on a half-restored directory. Files it replaces are moved aside, not deleted.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { inspectDatabase, snapshotDatabase } from '../adapters/store/sqlite/backup.js';
import { CREDENTIAL_KEY_FILE } from './credential-key.js';
import { DATABASE_FILE } from './data-dir.js';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';
import { extractEntry, listTar, TarError, TarWriter, type TarEntry } from './tar.js';

export const BACKUP_FORMAT = 'continuum-backup';
const MANIFEST = 'manifest.json';
const OTA_DIR = 'ota';
const PACKAGE_NAME = /^ota\/sha256\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

export class BackupError extends Error {
  override name = 'BackupError';
}

const ManifestSchema = Type.Object({
  format: Type.Literal(BACKUP_FORMAT),
  formatVersion: Type.Literal(1),
  createdAt: Type.String({ maxLength: 64 }),
  schemaVersion: Type.Integer({ minimum: 0 }),
  files: Type.Array(Type.Object({ name: Type.String({ maxLength: 100 }), size: Type.Integer({ minimum: 0 }), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }), { maxItems: 1_000_000 }),
});
type Manifest = Static<typeof ManifestSchema>;

export interface BackupSummary {
  readonly file: string;
  readonly bytes: number;
  readonly schemaVersion: number;
  readonly packages: number;
  /** False when the key comes from config (auth.credentialKey): keep that value with the backup. */
  readonly credentialKey: boolean;
  /** Packages the database names whose bytes were already gone from the data dir. */
  readonly missingPackages: readonly string[];
}

const packagePath = (digest: string): string => `${OTA_DIR}/sha256/${digest.slice(0, 2)}/${digest}`;

/** Writes a backup of `dataDir` to `file` (a new file, or replaced with `overwrite`). */
export async function createBackup(dataDir: string, file: string, options: { overwrite?: boolean } = {}): Promise<BackupSummary> {
  const dir = resolve(dataDir);
  const target = resolve(file);
  const database = join(dir, DATABASE_FILE);
  if (!existsSync(database)) throw new BackupError(`no database in ${dir} (pass --data-dir)`);
  if (existsSync(target) && !options.overwrite) throw new BackupError(`${target} exists (choose another name, or --force to replace it)`);
  if (!existsSync(dirname(target))) throw new BackupError(`directory ${dirname(target)} does not exist`);
  // Work files beside the target: the same file system (the final rename is atomic) with room for it.
  const work = mkdtempSync(join(dirname(target), `.${basename(target)}.work-`));
  const partial = join(work, 'backup.tar');
  try {
    const copy = join(work, DATABASE_FILE);
    await snapshotDatabase(database, copy);
    const report = inspectDatabase(copy);
    if (report.check !== 'ok') throw new BackupError(`the database copy fails its check: ${report.check}`);
    const fd = openSync(partial, 'wx', 0o600);
    const files: Manifest['files'] = [];
    const missingPackages: string[] = [];
    let credentialKey = false;
    try {
      const tar = new TarWriter(fd);
      files.push({ name: DATABASE_FILE, ...tar.addFile(DATABASE_FILE, copy) });
      if (existsSync(join(dir, CREDENTIAL_KEY_FILE))) {
        files.push({ name: CREDENTIAL_KEY_FILE, ...tar.addFile(CREDENTIAL_KEY_FILE, join(dir, CREDENTIAL_KEY_FILE)) });
        credentialKey = true;
      }
      for (const digest of report.packageChecksums) {
        const name = packagePath(digest);
        if (!PACKAGE_NAME.test(name)) throw new BackupError(`the database names a package with a malformed checksum: ${digest.slice(0, 80)}`);
        const path = join(dir, name);
        if (!existsSync(path)) {
          missingPackages.push(digest);
          continue;
        }
        files.push({ name, ...tar.addFile(name, path) });
      }
      const manifest: Manifest = { format: BACKUP_FORMAT, formatVersion: 1, createdAt: new Date().toISOString(), schemaVersion: report.schemaVersion, files };
      tar.addBuffer(MANIFEST, Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
      tar.finish();
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, target);
    const bytes = files.reduce((sum, f) => sum + f.size, 0);
    return { file: target, bytes, schemaVersion: report.schemaVersion, packages: files.length - 1 - (credentialKey ? 1 : 0), credentialKey, missingPackages };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface RestoreSummary {
  readonly dataDir: string;
  readonly schemaVersion: number;
  readonly createdAt: string;
  readonly packages: number;
  /** Where the files the restore replaced were moved (with `replace`), or undefined. */
  readonly movedAside?: string;
}

function readManifest(fd: number, entry: TarEntry): Manifest {
  if (entry.size > 64 * 1024 * 1024) throw new BackupError('manifest.json is implausibly large');
  const buf = Buffer.alloc(entry.size);
  readSync(fd, buf, 0, entry.size, entry.offset);
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new BackupError('manifest.json is not JSON: not a Continuum backup, or damaged');
  }
  if (!Value.Check(ManifestSchema, parsed)) {
    const first = Value.Errors(ManifestSchema, parsed).First();
    throw new BackupError(`not a Continuum backup (manifest.json${first ? `: ${first.path || '/'} ${first.message}` : ''})`);
  }
  return parsed;
}

/** Entries by name, each name one the restore knows; anything else means not ours, or tampered. */
function indexEntries(entries: readonly TarEntry[]): Map<string, TarEntry> {
  const byName = new Map<string, TarEntry>();
  for (const e of entries) {
    const known = e.name === DATABASE_FILE || e.name === CREDENTIAL_KEY_FILE || e.name === MANIFEST || PACKAGE_NAME.test(e.name);
    if (!known) throw new BackupError(`unexpected file in the backup: ${JSON.stringify(e.name.slice(0, 120))}`);
    if (byName.has(e.name)) throw new BackupError(`file twice in the backup: ${e.name}`);
    byName.set(e.name, e);
  }
  return byName;
}

/** What a restore replaces in a data dir that already has a database. */
const REPLACED = [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`, CREDENTIAL_KEY_FILE, OTA_DIR, 'ports.json'];

/** Restores `file` into `dataDir`; refuses while a platform holds it, or over a database unless `replace`. */
export function restoreBackup(file: string, dataDir: string, options: { replace?: boolean } = {}): RestoreSummary {
  const dir = resolve(dataDir);
  let fd: number;
  try {
    fd = openSync(resolve(file), 'r');
  } catch (err) {
    throw new BackupError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    let entries: TarEntry[];
    try {
      entries = listTar(fd);
    } catch (err) {
      if (err instanceof TarError) throw new BackupError(`${file}: ${err.message}`);
      throw err;
    }
    const byName = indexEntries(entries);
    const manifestEntry = byName.get(MANIFEST);
    if (!manifestEntry || !byName.has(DATABASE_FILE)) throw new BackupError(`${file} is not a Continuum backup (no manifest.json or continuum.db)`);
    const manifest = readManifest(fd, manifestEntry);
    const expected = new Map(manifest.files.map((f) => [f.name, f]));
    for (const name of byName.keys()) if (name !== MANIFEST && !expected.has(name)) throw new BackupError(`${name} is in the backup but not in its manifest`);
    for (const name of expected.keys()) if (!byName.has(name)) throw new BackupError(`${name} is in the manifest but missing from the backup`);

    let lock;
    try {
      lock = lockDataDir(dir);
    } catch (err) {
      if (err instanceof DataDirLockedError) throw new BackupError(`${err.message}; restore needs the server stopped`);
      throw err;
    }
    try {
      if (existsSync(join(dir, DATABASE_FILE)) && !options.replace) {
        throw new BackupError(`${dir} already holds a database: restore into an empty data dir, or pass --force to replace it (its files are moved aside, not deleted)`);
      }
      return unpack(fd, byName, manifest, dir);
    } finally {
      lock.release();
    }
  } finally {
    closeSync(fd);
  }
}

function unpack(fd: number, byName: Map<string, TarEntry>, manifest: Manifest, dir: string): RestoreSummary {
  const staging = mkdtempSync(join(dir, '.restore-'));
  try {
    for (const f of manifest.files) {
      const entry = byName.get(f.name);
      if (!entry) throw new BackupError(`${f.name} is missing from the backup`);
      const dest = join(staging, f.name);
      mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
      const hash = createHash('sha256');
      extractEntry(fd, entry, dest, (chunk) => hash.update(chunk));
      const digest = hash.digest('hex');
      if (entry.size !== f.size || digest !== f.sha256) throw new BackupError(`${f.name} does not match the manifest (damaged backup)`);
      const pkg = PACKAGE_NAME.exec(f.name);
      if (pkg && (pkg[2] !== digest || !digest.startsWith(pkg[1] ?? ''))) throw new BackupError(`${f.name}: its bytes do not have that SHA-256`);
    }
    const report = inspectDatabase(join(staging, DATABASE_FILE));
    if (report.check !== 'ok') throw new BackupError(`the database in the backup fails its check: ${report.check}`);
    if (report.schemaVersion > report.supportedVersion) {
      throw new BackupError(`the backup's database has schema version ${report.schemaVersion}, newer than this version of Continuum understands (${report.supportedVersion}): restore it with the version that made it`);
    }
    let movedAside: string | undefined;
    const present = REPLACED.filter((name) => existsSync(join(dir, name)));
    if (present.length > 0) {
      movedAside = join(dir, `pre-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`);
      mkdirSync(movedAside, { mode: 0o700 });
      for (const name of present) renameSync(join(dir, name), join(movedAside, name));
    }
    renameSync(join(staging, DATABASE_FILE), join(dir, DATABASE_FILE));
    if (byName.has(CREDENTIAL_KEY_FILE)) renameSync(join(staging, CREDENTIAL_KEY_FILE), join(dir, CREDENTIAL_KEY_FILE));
    else if (movedAside && existsSync(join(movedAside, CREDENTIAL_KEY_FILE))) {
      // The backup was made with the key in config: keep the key this data dir had.
      renameSync(join(movedAside, CREDENTIAL_KEY_FILE), join(dir, CREDENTIAL_KEY_FILE));
    }
    if (existsSync(join(staging, OTA_DIR))) renameSync(join(staging, OTA_DIR), join(dir, OTA_DIR));
    const packages = manifest.files.filter((f) => PACKAGE_NAME.test(f.name)).length;
    return { dataDir: dir, schemaVersion: report.schemaVersion, createdAt: manifest.createdAt, packages, ...(movedAside ? { movedAside } : {}) };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
