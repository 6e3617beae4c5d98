/**
 * The credential key: what access tokens are hashed with (services/registry-credentials.ts,
 * TokenHasher). It must live OUTSIDE the database, or a copy of the database would again hand
 * out everything needed to test guesses offline. Sources, first found wins:
 *   1. config auth.credentialKey (env CONTINUUM_AUTH_CREDENTIAL_KEY): base64 of ≥ 32 bytes, for
 *      deployments that keep secrets in a secret store;
 *   2. the file `credential.key` in the data dir, created (mode 0600, 32 random bytes, base64)
 *      on first start.
 * Back it up with the database, but not in the same place. Lost, it cannot be recovered: every
 * device must be given a new token (PUT /api/devices/{id}/credentials); the registry refuses to
 * start with a key that does not match the database rather than fail every device.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CREDENTIAL_KEY_BYTES } from '../services/registry-credentials.js';
import { ConfigError, type Config } from './config.js';

export const CREDENTIAL_KEY_FILE = 'credential.key';

function decode(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length < CREDENTIAL_KEY_BYTES) throw new ConfigError(`${where}: the credential key must be base64 of at least ${CREDENTIAL_KEY_BYTES} bytes`);
  return key;
}

function readOrCreate(file: string): Buffer {
  try {
    // 'wx': never overwrite a key (two first starts racing both end up reading one file).
    writeFileSync(file, `${randomBytes(CREDENTIAL_KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return decode(readFileSync(file, 'utf8'), file);
}

/** The key to hash access tokens with; undefined for the memory store (a random one per process). */
export function loadCredentialKey(config: Config): Buffer | undefined {
  if (config.auth.credentialKey !== undefined) return decode(config.auth.credentialKey, 'auth.credentialKey');
  if (config.store.kind === 'memory') return undefined;
  return readOrCreate(join(config.dataDir, CREDENTIAL_KEY_FILE));
}
