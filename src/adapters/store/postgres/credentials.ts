/**
 * Device credentials: one per type per device (primary key), `cred_key` unique across all
 * devices (token hash, certificate fingerprint, or the client id + user name pair of basic
 * credentials), as in the SQLite store.
 */
import type pg from 'pg';
import type { DeviceCredential } from '../../../domain/device.js';
import { PlatformError } from '../../../domain/errors.js';
import type { CredentialLookup, CredentialStore } from '../../../ports.js';
import { credentialFields, credentialKey } from '../shared.js';
import { CREDENTIAL_COLUMNS, toCredential, type CredentialRow } from '../rows/credentials.js';
import { all, inTx, isUniqueViolation, one, type Queryable } from './db.js';

const INSERT = `INSERT INTO credentials (device_id, type, cred_key, token_hash, token_hint, client_id, username, password_hash, fingerprint)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;

/** The columns of one credential row, cred_key included (throws BAD_REQUEST for an empty one). */
export function credentialParams(c: DeviceCredential): unknown[] {
  const f = credentialFields(c);
  return [c.deviceId, c.type, credentialKey(c), f.tokenHash, f.tokenHint, f.clientId, f.username, f.passwordHash, f.fingerprint];
}

export function credentialWriteError(err: unknown, c: DeviceCredential): unknown {
  if (isUniqueViolation(err, 'credentials_key')) return new PlatformError('CONFLICT', `${c.type} credential already in use`, { cause: err });
  if (isUniqueViolation(err, 'credentials_pkey')) return new PlatformError('CONFLICT', `two ${c.type} credentials`, { cause: err });
  return err;
}

/** Inserts a new device's credential inside the caller's transaction. */
export async function insertCredential(c: Queryable, credential: DeviceCredential): Promise<void> {
  try {
    await c.query(INSERT, credentialParams(credential));
  } catch (err) {
    throw credentialWriteError(err, credential);
  }
}

export function createPgCredentials(pool: pg.Pool): CredentialStore {
  return {
    async findCredentials(lookup: CredentialLookup): Promise<DeviceCredential[]> {
      switch (lookup.type) {
        case 'ACCESS_TOKEN':
          return (await all<CredentialRow>(pool, `SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE cred_key = $1 AND type = $2`, [`token:${lookup.tokenHash}`, lookup.type])).map(toCredential);
        case 'X509_CERTIFICATE':
          return (await all<CredentialRow>(pool, `SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE cred_key = $1 AND type = $2`, [`x509:${lookup.fingerprint}`, lookup.type])).map(toCredential);
        default: {
          // Basic credentials match on client id or user name; NULL for an absent one matches nothing.
          const rows = await all<CredentialRow>(
            pool,
            `SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE type = 'MQTT_BASIC' AND (client_id = $1 OR username = $2) ORDER BY device_id COLLATE "C"`,
            [lookup.clientId ?? null, lookup.username ?? null],
          );
          return rows.map(toCredential);
        }
      }
    },

    async getCredentials(deviceId: string): Promise<DeviceCredential[]> {
      return (await all<CredentialRow>(pool, `SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE device_id = $1 ORDER BY type COLLATE "C"`, [deviceId])).map(toCredential);
    },

    async setCredential(credential: DeviceCredential): Promise<void> {
      const params = credentialParams(credential);
      await inTx(pool, async (c) => {
        // Locks the device row: a concurrent delete cannot leave a credential behind.
        if (!(await one(c, 'SELECT 1 FROM devices WHERE id = $1 FOR SHARE', [credential.deviceId]))) {
          throw new PlatformError('DEVICE_NOT_FOUND', credential.deviceId);
        }
        try {
          await c.query(
            `${INSERT} ON CONFLICT (device_id, type) DO UPDATE SET cred_key = excluded.cred_key, token_hash = excluded.token_hash,
               token_hint = excluded.token_hint, client_id = excluded.client_id, username = excluded.username,
               password_hash = excluded.password_hash, fingerprint = excluded.fingerprint`,
            params,
          );
        } catch (err) {
          throw credentialWriteError(err, credential);
        }
      });
    },
  };
}
