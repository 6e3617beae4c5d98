/**
 * `continuum backup FILE` and `continuum restore FILE`: work on the data directory itself (like
 * `user reset-password`), not through the API. Backup runs while the platform runs (SQLite's
 * online backup API from a second connection); restore takes the data dir's lock, so it refuses
 * while a platform runs there. The archive format is in ../backup.ts.
 */
import { parseArgs } from 'node:util';
import { BackupError, createBackup, restoreBackup } from '../backup.js';
import { ConfigError, loadConfig } from '../config.js';
import { CliError, type Io } from './common.js';

export const BACKUP_HELP = `Usage: continuum backup FILE [--data-dir DIR] [--config FILE] [--force] [--json]

Writes the data directory (default ./data, env CONTINUUM_DATA_DIR) to FILE, one tar file: the
database (copied with SQLite's online backup API: the platform may keep running), the credential
key and the OTA packages. FILE is written under a temporary name and renamed when complete;
--force replaces an existing FILE. The backup holds secrets (password hashes, the credential
key): it is created mode 0600, keep it so.`;

export const RESTORE_HELP = `Usage: continuum restore FILE [--data-dir DIR] [--config FILE] [--force] [--json]

Restores a backup made by "continuum backup" into the data directory (default ./data, env
CONTINUUM_DATA_DIR), with the server stopped: a running server holds the directory and the
restore refuses. Every file is checked against the backup's manifest and the database with
SQLite's quick_check before anything is replaced. A data dir that already holds a database is
replaced only with --force; its files are moved to <data-dir>/pre-restore-<time>/, not deleted.
A backup from a newer version (a newer schema) is refused; an older one is migrated by the next
start.`;

interface Flags {
  'data-dir'?: string;
  config?: string;
  force?: boolean;
  json?: boolean;
  help?: boolean;
}

function parse(argv: string[], command: string): { values: Flags; file: string | undefined } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { 'data-dir': { type: 'string' }, config: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 1) throw new CliError(`${command} takes one FILE, got ${positionals.length}`);
    return { values, file: positionals[0] };
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err));
  }
}

function dataDirOf(values: Flags, io: Io): string {
  try {
    return loadConfig({ env: io.env, ...(values.config ? { file: values.config } : {}), flags: { 'data-dir': values['data-dir'] } }).dataDir;
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

export async function runBackup(argv: string[], io: Io): Promise<number> {
  const { values, file } = parse(argv, 'backup');
  if (values.help) return io.stdout.write(BACKUP_HELP + '\n'), 0;
  if (!file) throw new CliError('backup needs a FILE to write (see continuum backup --help)');
  try {
    const summary = await createBackup(dataDirOf(values, io), file, { overwrite: values.force === true });
    if (values.json) io.stdout.write(JSON.stringify(summary) + '\n');
    else io.stdout.write(`backup written to ${summary.file}: schema version ${summary.schemaVersion}, ${summary.packages} OTA package(s), ${summary.bytes} bytes\n`);
    if (!summary.credentialKey) io.stderr.write('warning: the credential key comes from config (auth.credentialKey), not the data dir: keep that value with this backup, or no device can sign in after a restore\n');
    if (summary.missingPackages.length > 0) io.stderr.write(`warning: ${summary.missingPackages.length} OTA package(s) named by the database had no bytes in the data dir (deleted during the backup?): ${summary.missingPackages.map((d) => d.slice(0, 12)).join(', ')}\n`);
    return 0;
  } catch (err) {
    if (err instanceof BackupError) throw new CliError(err.message);
    throw err;
  }
}

export function runRestore(argv: string[], io: Io): number {
  const { values, file } = parse(argv, 'restore');
  if (values.help) return io.stdout.write(RESTORE_HELP + '\n'), 0;
  if (!file) throw new CliError('restore needs the backup FILE (see continuum restore --help)');
  try {
    const summary = restoreBackup(file, dataDirOf(values, io), { replace: values.force === true });
    if (values.json) io.stdout.write(JSON.stringify(summary) + '\n');
    else {
      io.stdout.write(`restored the backup of ${summary.createdAt} into ${summary.dataDir}: schema version ${summary.schemaVersion}, ${summary.packages} OTA package(s)\n`);
      if (summary.movedAside) io.stdout.write(`the files it replaced are in ${summary.movedAside}\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof BackupError) throw new CliError(err.message);
    throw err;
  }
}
