/**
 * Device credentials: one per type per device (primary key), and `cred_key` unique across all
 * devices (token hash, certificate fingerprint, or the client id + user name pair of basic
 * credentials). Access tokens are stored as a keyed hash and a short hint (schema v9).
 */
import type { DeviceCredential } from '../../../domain/device.js';
import { PlatformError } from '../../../domain/errors.js';
import type { CredentialLookup, CredentialStore } from '../../../ports.js';
import { credentialFields, credentialKey } from '../shared.js';
import { CREDENTIAL_COLUMNS, toCredential, type CredentialRow } from '../rows/credentials.js';
import { isUniqueViolation, type Db } from './sql.js';

export interface SqliteCredentials extends CredentialStore {
  /** Inserts a new device's credential (inside the caller's transaction). */
  insert(credential: DeviceCredential): void;
}

export function createSqliteCredentials(db: Db): SqliteCredentials {
  const insertSql = `INSERT INTO credentials (device_id, type, cred_key, token_hash, token_hint, client_id, username, password_hash, fingerprint)
                     VALUES (@deviceId, @type, @key, @tokenHash, @tokenHint, @clientId, @username, @passwordHash, @fingerprint)`;
  const s = {
    insert: db.prepare(insertSql),
    upsert: db.prepare(
      `${insertSql}
       ON CONFLICT (device_id, type) DO UPDATE SET cred_key = excluded.cred_key, token_hash = excluded.token_hash, token_hint = excluded.token_hint,
         client_id = excluded.client_id, username = excluded.username, password_hash = excluded.password_hash,
         fingerprint = excluded.fingerprint`,
    ),
    byKey: db.prepare<[string, string], CredentialRow>(`SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE cred_key = ? AND type = ?`),
    // Basic credentials match on client id or user name; binding NULL for an absent one matches nothing.
    basic: db.prepare<[{ clientId: string | null; username: string | null }], CredentialRow>(
      `SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE client_id = @clientId AND type = 'MQTT_BASIC'
       UNION
       SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE username = @username AND type = 'MQTT_BASIC'
       ORDER BY device_id`,
    ),
    ofDevice: db.prepare<[string], CredentialRow>(`SELECT ${CREDENTIAL_COLUMNS} FROM credentials WHERE device_id = ? ORDER BY type`),
    deviceExists: db.prepare('SELECT 1 FROM devices WHERE id = ?').pluck(),
  };

  function params(c: DeviceCredential): Record<string, string | null> {
    return { deviceId: c.deviceId, type: c.type, key: credentialKey(c), ...credentialFields(c) };
  }

  function writeError(err: unknown, c: DeviceCredential): unknown {
    if (isUniqueViolation(err, 'credentials.cred_key')) return new PlatformError('CONFLICT', `${c.type} credential already in use`, { cause: err });
    if (isUniqueViolation(err, 'credentials.device_id, credentials.type')) return new PlatformError('CONFLICT', `two ${c.type} credentials`, { cause: err });
    return err;
  }

  const setTx = db.transaction((c: DeviceCredential) => {
    if (!s.deviceExists.get(c.deviceId)) throw new PlatformError('DEVICE_NOT_FOUND', c.deviceId);
    const p = params(c);
    try {
      s.upsert.run(p);
    } catch (err) {
      throw writeError(err, c);
    }
  });

  return {
    insert(c: DeviceCredential): void {
      const p = params(c);
      try {
        s.insert.run(p);
      } catch (err) {
        throw writeError(err, c);
      }
    },

    async findCredentials(lookup: CredentialLookup): Promise<DeviceCredential[]> {
      switch (lookup.type) {
        case 'ACCESS_TOKEN':
          return s.byKey.all(`token:${lookup.tokenHash}`, lookup.type).map(toCredential);
        case 'X509_CERTIFICATE':
          return s.byKey.all(`x509:${lookup.fingerprint}`, lookup.type).map(toCredential);
        default:
          return s.basic.all({ clientId: lookup.clientId ?? null, username: lookup.username ?? null }).map(toCredential);
      }
    },

    async getCredentials(deviceId: string): Promise<DeviceCredential[]> {
      return s.ofDevice.all(deviceId).map(toCredential);
    },

    async setCredential(credential: DeviceCredential): Promise<void> {
      setTx(credential);
    },
  };
}
