/**
 * `continuum user reset-password EMAIL --data-dir DIR`: the recovery path for a locked-out admin.
 * It works on the data directory itself, with the server stopped: sets a new password (given, or
 * generated and printed once), enables the account again and ends its earlier sessions.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { DATABASE_FILE, openDataDirStore } from '../data-dir.js';
import { loadCredentialKey } from '../credential-key.js';
import { TokenHasher, tokenHint } from '../../services/registry.js';
import { DataDirLockedError, lockDataDir, type DataDirLock } from '../data-dir-lock.js';
import { AuthService } from '../../services/auth.js';
import { generatePassword } from '../../services/auth-secrets.js';
import { isPlatformError } from '../../domain/errors.js';
import { systemClock, type Logger, type Store } from '../../ports.js';
import { CliError, type Io } from './common.js';

export const RESET_HELP = `Usage: continuum user reset-password EMAIL [--data-dir DIR] [--password P] [--json]

Sets a new password for EMAIL directly in the data directory (default ./data, env
CONTINUUM_DATA_DIR). Run it with the server stopped. Without --password (or env
CONTINUUM_NEW_PASSWORD) a password is generated and printed once. The account is enabled again
and every token issued to it before answers 401; its API keys stay.`;

/** Warnings (a data dir that was readable by others) go to stderr as one line each. */
function stderrLogger(io: Io): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (obj: unknown, msg?: string) => void io.stderr.write(`warning: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
    error: (obj: unknown, msg?: string) => void io.stderr.write(`error: ${msg ?? ''} ${JSON.stringify(obj)}\n`),
    child: () => logger,
  };
  return logger;
}

export async function runResetPassword(argv: string[], io: Io): Promise<number> {
  let values: { 'data-dir'?: string; password?: string; 'new-password'?: string; json?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      options: { 'data-dir': { type: 'string' }, password: { type: 'string' }, 'new-password': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    }));
  } catch (err) {
    throw new CliError(err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err));
  }
  if (values.help) return io.stdout.write(RESET_HELP + '\n'), 0;
  const email = positionals[0];
  if (!email) throw new CliError('user reset-password needs an e-mail address (see continuum user reset-password --help)');
  const config = loadConfig({ env: io.env, flags: { 'data-dir': values['data-dir'] } });
  if (!existsSync(join(config.dataDir, DATABASE_FILE))) throw new CliError(`no database in ${config.dataDir} (pass --data-dir)`);
  const given = values.password ?? values['new-password'] ?? io.env.CONTINUUM_NEW_PASSWORD;
  const password = given || generatePassword();
  const logger = stderrLogger(io);
  // Offline only: a running server holds the data dir (and would keep its cached users).
  let lock: DataDirLock;
  try {
    lock = lockDataDir(resolve(config.dataDir));
  } catch (err) {
    if (err instanceof DataDirLockedError) throw new CliError(`${err.message}; reset-password works on a stopped server`);
    throw err;
  }
  let store: Store;
  try {
    // An old database may still hold clear access tokens: its migration needs the credential key.
    const tokens = new TokenHasher(loadCredentialKey(config));
    store = openDataDirStore(config.dataDir, config.store.synchronous, logger, (token) => ({ hash: tokens.digest(token), hint: tokenHint(token) }));
  } catch (err) {
    lock.release();
    throw err;
  }
  try {
    const auth = new AuthService({ store, clock: systemClock, logger, passwords: { cost: config.auth.passwordHashCost } });
    const user = await auth.users.resetPassword(email, password);
    if (values.json) io.stdout.write(JSON.stringify({ email: user.email, role: user.role, ...(given ? {} : { password }) }) + '\n');
    else io.stdout.write(`password of ${user.role} ${user.email} reset${given ? '' : `; new password: ${password}`}\n`);
    return 0;
  } catch (err) {
    if (isPlatformError(err)) throw new CliError(err.message);
    throw err;
  } finally {
    await store.close();
    lock.release();
  }
}
