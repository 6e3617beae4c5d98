/**
 * `continuum migrate --from-sqlite DIR --to-postgres URL`: a single node's data dir into an empty
 * PostgreSQL database (../migrate-sqlite.ts), with progress on stderr and the verification counts
 * on stdout; exit 1 when a count differs. Works on the files, not through the API: the node must
 * be stopped (the data dir's lock is taken).
 */
import { parseArgs } from 'node:util';
import { DataDirLockedError } from '../data-dir-lock.js';
import { MigrateError, migrateSqliteToPostgres } from '../migrate-sqlite.js';
import { pino } from 'pino';
import { CliError, table, writeJson, type Io } from './common.js';

export const MIGRATE_HELP = `Usage: continuum migrate --from-sqlite DIR --to-postgres URL [--to-data-dir DIR2] [--force]
                         [--batch-size N] [--json]

Copies everything a single node keeps in its data dir DIR (users, tenants, customers, devices,
credentials, profiles, attributes, telemetry with its roll-ups, alarms, rules and their state,
commands, dashboards, OTA metadata, integrations, audit log…) into the PostgreSQL database at URL,
in batches with progress lines, then counts every table on both sides; exits 1 if a count differs.

The node must be stopped (the data dir is locked while it runs). The target database is migrated
to the current schema first and must be empty: --force empties it. MQTT broker state (persistent
sessions, queued and retained messages) is not copied.

Device tokens are kept as hashes keyed by the credential key (DIR/credential.key, or
CONTINUUM_AUTH_CREDENTIAL_KEY): every node serving the database needs that same key. Start the
first node with --data-dir DIR, or pass --to-data-dir DIR2 to copy the key (and the OTA package
files) into a new node's data dir; copy it to the others (docs/OPERATIONS.md, "Cluster").

  --batch-size N   rows per INSERT (default 5000)
  --json           the counts as JSON`;

export async function runMigrate(argv: string[], io: Io): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'from-sqlite': { type: 'string' },
        'to-postgres': { type: 'string' },
        'to-data-dir': { type: 'string' },
        'batch-size': { type: 'string' },
        force: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new CliError(err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err));
  }
  if (values.help) return io.stdout.write(MIGRATE_HELP + '\n'), 0;
  const from = values['from-sqlite'];
  const to = values['to-postgres'] ?? io.env.CONTINUUM_POSTGRES_URL;
  if (typeof from !== 'string') throw new CliError('migrate needs --from-sqlite DIR (the data dir of the single node)');
  if (typeof to !== 'string') throw new CliError('migrate needs --to-postgres URL (postgres://USER@HOST:5432/DB)');
  const batchText = values['batch-size'];
  if (batchText !== undefined && (typeof batchText !== 'string' || !/^[1-9]\d{0,5}$/.test(batchText))) throw new CliError('--batch-size must be a positive integer');
  const toDataDir = values['to-data-dir'];
  try {
    const result = await migrateSqliteToPostgres({
      fromDir: from,
      toUrl: to,
      force: values.force === true,
      batchSize: batchText === undefined ? 5_000 : Number(batchText),
      ...(typeof toDataDir === 'string' ? { toDataDir } : {}),
      ...(io.env.CONTINUUM_AUTH_CREDENTIAL_KEY ? { credentialKey: io.env.CONTINUUM_AUTH_CREDENTIAL_KEY } : {}),
      // stderr: stdout carries the counts (a script may parse them with --json).
      logger: pino({ level: io.env.CONTINUUM_LOG_LEVEL ?? 'warn', base: { app: 'continuum' } }, pino.destination(2)),
      progress: (line) => io.stderr.write(line + '\n'),
    });
    if (values.json) writeJson(io, result);
    else {
      io.stdout.write(table([['TABLE', 'SOURCE', 'TARGET', ''], ...result.counts.map((c) => [c.table, String(c.source), String(c.target), c.source === c.target ? 'ok' : 'MISMATCH'])]));
      for (const s of result.skipped) io.stdout.write(`not copied: ${s}\n`);
      io.stdout.write(result.ok ? 'verified: every table has as many rows in PostgreSQL as in SQLite\n' : 'MISMATCH: some tables differ (above); the target is incomplete\n');
    }
    return result.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof MigrateError || err instanceof DataDirLockedError) throw new CliError(err.message);
    throw err;
  }
}
