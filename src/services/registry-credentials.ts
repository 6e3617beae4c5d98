/**
 * Device credential rules for the registry: token and fingerprint formats, MQTT basic matching
 * (ThingsBoard semantics) and the bounded cache of verified identities.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { DeviceCredential, DeviceIdentity } from '../domain/device.js';
import type { UserStore } from '../ports.js';
import { PlatformError } from '../domain/errors.js';
import { DEVICE_SCRYPT_COST, hashSecret, sha256Hex, verifySecret } from './auth-secrets.js';
import type { BasicCredentials } from '../ports/device-api.js';

const MAX_CREDENTIAL_LENGTH = 255;
/**
 * Device passwords (MQTT basic) are chosen by people and checked on every connect: at least 8
 * characters, so that with the per-credential lockout (device-auth-guard.ts) guessing one takes
 * years; at most 255 like every other credential field.
 */
export const MIN_DEVICE_PASSWORD_LENGTH = 8;
export const MAX_DEVICE_PASSWORD_LENGTH = 255;
/** Bytes of a credential key (HMAC-SHA-256 wants at least its output size). */
export const CREDENTIAL_KEY_BYTES = 32;

export type AuthLookup = { readonly token: string } | { readonly basic: BasicCredentials } | { readonly fingerprint: string };
type BasicCredential = Extract<DeviceCredential, { type: 'MQTT_BASIC' }>;
type TokenCredential = Extract<DeviceCredential, { type: 'ACCESS_TOKEN' }>;

/**
 * What is shown of a token after it was set: its first characters (4 at most, a quarter of the
 * token at most, so a short token chosen by a user is not half given away) and an ellipsis.
 */
export function tokenHint(token: string): string {
  return `${token.slice(0, Math.min(4, Math.floor(token.length / 4)))}…`;
}

/**
 * Access tokens are stored as HMAC-SHA-256 under the platform's credential key (a file in the
 * data dir or config auth.credentialKey, never in the database): a copy of the database then
 * holds nothing a device could authenticate with, and a lookup stays one hash plus one indexed
 * read. A plain hash would not do for tokens chosen by people (short ones fall to a dictionary);
 * a slow hash would cost every connect. The key is the whole secret: losing it means every
 * device needs a new token.
 */
export class TokenHasher {
  private readonly key: Buffer;

  /** Without a key, a random one: for the in-memory store and tests (nothing outlives the process). */
  constructor(key?: Buffer) {
    if (key !== undefined && key.length < CREDENTIAL_KEY_BYTES) throw new Error(`credential key must be at least ${CREDENTIAL_KEY_BYTES} bytes`);
    this.key = key ?? randomBytes(CREDENTIAL_KEY_BYTES);
  }

  digest(secret: string): string {
    return createHmac('sha256', this.key).update(secret, 'utf8').digest('hex');
  }

  credential(deviceId: string, token: string): TokenCredential {
    return { type: 'ACCESS_TOKEN', deviceId, tokenHash: this.digest(token), hint: tokenHint(token) };
  }

  /** Stored beside the hashes: a start with another key is refused instead of locking every device out. */
  keyCheck(): string {
    return this.digest('\u0000continuum credential key check');
  }
}

export function validateToken(token: string): string {
  if (token.length === 0 || token.length > MAX_CREDENTIAL_LENGTH || /\s/.test(token)) {
    throw new PlatformError('BAD_REQUEST', 'access token must be 1..255 characters without spaces');
  }
  return token;
}

/**
 * Certificate fingerprints are compared as lowercase hex without separators, so
 * `AB:CD:…` (node's fingerprint256) and `abcd…` name the same certificate.
 */
export function normalizeFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{40,128}$/.test(hex)) throw new PlatformError('BAD_REQUEST', 'certificate fingerprint must be hex (SHA-1 or SHA-256)');
  return hex;
}

/** A PEM/base64 certificate (ThingsBoard's provision `hash`) or a fingerprint → SHA-256 fingerprint. */
export function fingerprintOfCertificate(certOrFingerprint: string): string {
  const trimmed = certOrFingerprint.trim();
  if (/^[0-9a-fA-F:\s]{40,200}$/.test(trimmed)) return normalizeFingerprint(trimmed);
  const b64 = trimmed.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s/g, '');
  const der = Buffer.from(b64, 'base64');
  if (der.length < 32) throw new PlatformError('BAD_REQUEST', 'certificate is neither a fingerprint nor base64 DER');
  return createHash('sha256').update(der).digest('hex');
}

/** Validates and hashes (scrypt) an MQTT basic credential. */
export async function buildBasicCredential(deviceId: string, basic: BasicCredentials): Promise<BasicCredential> {
  const clientId = basic.clientId || undefined;
  const username = basic.username || undefined;
  if (clientId === undefined && username === undefined) {
    throw new PlatformError('BAD_REQUEST', 'MQTT basic credentials need a client id or a user name');
  }
  if ((clientId?.length ?? 0) > MAX_CREDENTIAL_LENGTH || (username?.length ?? 0) > MAX_CREDENTIAL_LENGTH) {
    throw new PlatformError('BAD_REQUEST', 'client id and user name must be at most 255 characters');
  }
  if (basic.password && (basic.password.length < MIN_DEVICE_PASSWORD_LENGTH || basic.password.length > MAX_DEVICE_PASSWORD_LENGTH)) {
    throw new PlatformError('BAD_REQUEST', `device password must be ${MIN_DEVICE_PASSWORD_LENGTH}..${MAX_DEVICE_PASSWORD_LENGTH} characters`);
  }
  return {
    type: 'MQTT_BASIC',
    deviceId,
    ...(clientId !== undefined ? { clientId } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(basic.password ? { passwordHash: await hashSecret(basic.password, DEVICE_SCRYPT_COST) } : {}),
  };
}

function specificity(c: BasicCredential): number {
  return (c.clientId !== undefined ? 1 : 0) + (c.username !== undefined ? 1 : 0);
}

/**
 * ThingsBoard MQTT basic semantics: a credential names a client id, a user name or both, and
 * every field it names must match; the most specific match wins; its password, if any, must
 * match too. Returns the device id; throws BAD_CREDENTIALS.
 */
export async function matchBasicCredential(found: readonly DeviceCredential[], basic: BasicCredentials): Promise<string> {
  const clientId = basic.clientId || undefined;
  const username = basic.username || undefined;
  const best = found
    .filter((c): c is BasicCredential => c.type === 'MQTT_BASIC')
    .filter((c) => specificity(c) > 0 && (c.clientId === undefined || c.clientId === clientId))
    .filter((c) => c.username === undefined || c.username === username)
    .sort((a, b) => specificity(b) - specificity(a))[0];
  if (!best) throw new PlatformError('BAD_CREDENTIALS', 'no matching credentials');
  if (best.passwordHash !== undefined && !(basic.password && (await verifySecret(basic.password, best.passwordHash)))) {
    throw new PlatformError('BAD_CREDENTIALS', 'wrong password');
  }
  return best.deviceId;
}

const CREDENTIAL_KEY_CHECK = 'credentialKeyCheck';

/**
 * The database remembers a check value of the key its token hashes were made with: starting with
 * another key (a lost or mixed-up key file) would make every device fail to connect, so it is
 * refused with one clear line instead.
 */
export async function checkCredentialKey(settings: Pick<UserStore, 'getSetting' | 'putSetting'>, tokens: TokenHasher): Promise<void> {
  const expected = tokens.keyCheck();
  const stored = await settings.getSetting(CREDENTIAL_KEY_CHECK);
  if (stored === undefined) await settings.putSetting(CREDENTIAL_KEY_CHECK, expected);
  else if (stored !== expected) {
    throw new Error(
      'the credential key does not match this database: restore the credential.key file of this data dir (or auth.credentialKey) from backup; ' +
        'without it every device needs a new access token',
    );
  }
}

export function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

/** What a lockout log line names: a token's hint, a user name or client id; never a secret. */
export function credentialLabel(lookup: AuthLookup): string {
  if ('token' in lookup) return `token ${tokenHint(lookup.token)}`;
  if ('fingerprint' in lookup) return `certificate ${clip(lookup.fingerprint)}`;
  return `basic ${clip(lookup.basic.username ?? '')}/${clip(lookup.basic.clientId ?? '')}`;
}

export function authCacheKey(lookup: AuthLookup): string {
  if ('token' in lookup) return `t\0${lookup.token}`;
  if ('fingerprint' in lookup) return `x\0${lookup.fingerprint.replace(/[:\s]/g, '').toLowerCase()}`;
  const b = lookup.basic;
  // The password is part of the key (hashed): a wrong password never hits a cached success.
  return `b\0${b.clientId ?? ''}\0${b.username ?? ''}\0${sha256Hex(b.password ?? '')}`;
}

interface CacheEntry {
  readonly identity: DeviceIdentity;
  readonly expiresAt: number;
}

/**
 * Verified identities by credential, least recently used evicted first (a Map keeps insertion
 * order; a hit re-inserts). Entries expire after `ttlMs`, which bounds how long another cluster
 * node's change can go unnoticed; changes on this node invalidate at once.
 */
export class IdentityCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly keysByDevice = new Map<string, Set<string>>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): DeviceIdentity | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= now) {
      this.drop(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.identity;
  }

  set(key: string, identity: DeviceIdentity, now: number): void {
    if (this.maxEntries <= 0) return;
    this.drop(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.drop(oldest.value);
    }
    this.entries.set(key, { identity, expiresAt: now + this.ttlMs });
    let keys = this.keysByDevice.get(identity.deviceId);
    if (!keys) this.keysByDevice.set(identity.deviceId, (keys = new Set()));
    keys.add(key);
  }

  invalidateDevice(deviceId: string): void {
    for (const key of this.keysByDevice.get(deviceId) ?? []) this.entries.delete(key);
    this.keysByDevice.delete(deviceId);
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const keys = this.keysByDevice.get(entry.identity.deviceId);
    keys?.delete(key);
    if (keys?.size === 0) this.keysByDevice.delete(entry.identity.deviceId);
  }
}
