/**
 * OTA signing keys and policy (issue 16, docs/OTA.md "Signed packages"): a tenant registers
 * Ed25519 public keys (the platform never sees a private key), chooses whether unsigned
 * packages are refused, and every upload that carries a signature is verified here against the
 * tenant's keys over the canonical manifest (domain/ota-signing.ts).
 */
import { createPublicKey, randomUUID, verify, type KeyObject } from 'node:crypto';
import { PlatformError } from '../domain/errors.js';
import { canonicalManifest, checkKeyName, DEFAULT_OTA_SETTINGS, type OtaManifest, type OtaSettings, type OtaSigningKey } from '../domain/ota-signing.js';
import type { Clock, OtaKeyStore } from '../ports.js';

/** The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the raw 32 bytes follow it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** An Ed25519 public key from PEM (SPKI) or base64 of the raw 32 bytes; BAD_REQUEST otherwise. */
export function parsePublicKey(input: string): Buffer {
  const text = input.trim();
  if (text.startsWith('-----BEGIN')) {
    // createPublicKey would derive the public half of a private key: refuse it instead, so a
    // private key pasted by mistake is never taken as if all were well (it should be replaced).
    if (/PRIVATE KEY/.test(text)) throw new PlatformError('BAD_REQUEST', 'that is a private key: send only the public key (and consider this private key exposed)');
    let key: KeyObject;
    try {
      key = createPublicKey({ key: text, format: 'pem' });
    } catch {
      throw new PlatformError('BAD_REQUEST', 'publicKey is not a PEM public key');
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new PlatformError('BAD_REQUEST', `publicKey must be Ed25519, not ${key.asymmetricKeyType ?? 'unknown'}`);
    return (key.export({ format: 'der', type: 'spki' })).subarray(ED25519_SPKI_PREFIX.length);
  }
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(text)) throw new PlatformError('BAD_REQUEST', 'publicKey must be PEM or base64 of the raw 32-byte Ed25519 key');
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== 32) throw new PlatformError('BAD_REQUEST', 'publicKey must be 32 bytes');
  return raw;
}

function keyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** A signature as it travels: base64 (standard or URL-safe) of 64 bytes. */
export function parseSignature(input: string): Buffer {
  const text = input.trim();
  if (!/^[A-Za-z0-9+/_-]{86}(?:==)?$/.test(text)) throw new PlatformError('SIGNATURE_INVALID', 'signature must be base64 of a 64-byte Ed25519 signature');
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

export interface OtaSigningDeps {
  readonly store: OtaKeyStore;
  readonly clock: Clock;
}

/** Keys a tenant may register: enough for rotation and several vendors, bounded so verification stays cheap. */
export const MAX_KEYS_PER_TENANT = 20;

export class OtaSigningService {
  constructor(private readonly deps: OtaSigningDeps) {}

  async addKey(tenantId: string, name: string, publicKey: string): Promise<OtaSigningKey> {
    const raw = parsePublicKey(publicKey);
    if ((await this.deps.store.listOtaKeys(tenantId)).length >= MAX_KEYS_PER_TENANT) {
      throw new PlatformError('BAD_REQUEST', `a tenant has at most ${MAX_KEYS_PER_TENANT} signing keys`);
    }
    const key: OtaSigningKey = { id: randomUUID(), tenantId, name: checkKeyName(name), publicKey: raw.toString('base64'), createdAt: this.deps.clock.now() };
    await this.deps.store.insertOtaKey(key);
    return key;
  }

  listKeys(tenantId: string): Promise<OtaSigningKey[]> {
    return this.deps.store.listOtaKeys(tenantId);
  }

  /** Packages verified by the key keep their `signedBy`: deleting a key revokes it for new uploads only. */
  async deleteKey(tenantId: string, id: string): Promise<void> {
    if (!(await this.deps.store.deleteOtaKey(tenantId, id))) throw new PlatformError('NOT_FOUND', `signing key ${id}`);
  }

  async settings(tenantId: string): Promise<OtaSettings> {
    return (await this.deps.store.getOtaSettings(tenantId)) ?? DEFAULT_OTA_SETTINGS;
  }

  async putSettings(tenantId: string, settings: OtaSettings): Promise<OtaSettings> {
    await this.deps.store.putOtaSettings(tenantId, { requireSigned: settings.requireSigned });
    return this.settings(tenantId);
  }

  /**
   * The id of the tenant's key that verifies `signature` over the manifest. SIGNATURE_INVALID
   * when none does; when there is no signature, undefined, or SIGNATURE_INVALID if the tenant
   * requires signed packages.
   */
  async check(tenantId: string, manifest: OtaManifest, signature: string | undefined): Promise<string | undefined> {
    if (signature === undefined) {
      if ((await this.settings(tenantId)).requireSigned) throw new PlatformError('SIGNATURE_INVALID', 'this tenant accepts signed packages only: add a signature');
      return undefined;
    }
    const sig = parseSignature(signature);
    const data = canonicalManifest(manifest);
    for (const key of await this.deps.store.listOtaKeys(tenantId)) {
      if (verify(null, data, keyObject(Buffer.from(key.publicKey, 'base64')), sig)) return key.id;
    }
    throw new PlatformError('SIGNATURE_INVALID', 'no signing key of this tenant verifies the signature over the package manifest');
  }
}
