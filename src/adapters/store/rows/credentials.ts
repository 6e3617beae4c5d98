/** Row shapes and mappers both SQL stores (postgres/, sqlite/) share: their columns have the same names. */
import type { DeviceCredential } from '../../../domain/device.js';
import { makeCredential } from '../shared.js';

export interface CredentialRow {
  device_id: string;
  type: string;
  token_hash: string | null;
  token_hint: string | null;
  client_id: string | null;
  username: string | null;
  password_hash: string | null;
  fingerprint: string | null;
}

export const CREDENTIAL_COLUMNS = 'device_id, type, token_hash, token_hint, client_id, username, password_hash, fingerprint';

export const toCredential = (r: CredentialRow): DeviceCredential =>
  makeCredential({
    type: r.type,
    deviceId: r.device_id,
    tokenHash: r.token_hash,
    tokenHint: r.token_hint,
    clientId: r.client_id,
    username: r.username,
    passwordHash: r.password_hash,
    fingerprint: r.fingerprint,
  });
