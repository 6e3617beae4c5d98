/**
 * Small crypto helpers shared by the registry (device secrets) and auth (user passwords, JWT):
 * random base62 strings, scrypt password hashes, timing-safe comparison. node:crypto only.
 */
import { createHash, randomBytes, randomInt, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Uniform random base62 string (rejection sampling, no modulo bias). */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(length * 2);
    for (const b of bytes) {
      // 248 = 62 * 4: bytes above it would bias the first characters.
      if (b < 248) out += BASE62[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Compares two strings in time independent of where they differ (lengths are not secret). */
export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ba.length !== bb.length) {
    timingSafeEqual(ba, ba);
    return false;
  }
  return timingSafeEqual(ba, bb);
}

/**
 * scrypt cost N (r = 8, p = 1). Users: OWASP's current recommendation for scrypt, N = 2^17
 * (128 MiB and ~0.5 s per hash on a small server; concurrent hashes are bounded by HashGate).
 * Device secrets are verified on every connect and imported in bulk, so they cost less.
 */
export const USER_SCRYPT_COST = 2 ** 17;
export const DEVICE_SCRYPT_COST = 2048;
/** Stored parameters above these are refused rather than computed: a corrupt row must not allocate gigabytes. */
const MAX_SCRYPT_COST = 2 ** 20;
const MAX_SCRYPT_R = 32;
const MAX_SCRYPT_P = 16;
const KEY_LENGTH = 32;

function scryptAsync(secret: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** scrypt needs 128·N·r bytes; node's default maxmem (32 MiB) is below what N = 2^17 takes. */
function maxmemFor(N: number, r: number, p: number): number {
  return 128 * N * r * p + 2 * 1024 * 1024;
}

/** `scrypt$N$r$p$<salt b64>$<hash b64>`: the parameters travel with the hash so costs can change. */
export async function hashSecret(secret: string, cost: number = USER_SCRYPT_COST): Promise<string> {
  const salt = randomBytes(16);
  const r = 8;
  const p = 1;
  const key = await scryptAsync(secret, salt, KEY_LENGTH, { N: cost, r, p, maxmem: maxmemFor(cost, r, p) });
  return `scrypt$${cost}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

function parseHash(encoded: string): ScryptParams | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (![N, R, P].every((v) => Number.isSafeInteger(v) && v > 0)) return undefined;
  if (N > MAX_SCRYPT_COST || R > MAX_SCRYPT_R || P > MAX_SCRYPT_P) return undefined;
  return { N, r: R, p: P, salt: Buffer.from(saltB64, 'base64'), hash: Buffer.from(hashB64, 'base64') };
}

export async function verifySecret(secret: string, encoded: string): Promise<boolean> {
  const params = parseHash(encoded);
  if (!params || params.hash.length === 0) return false;
  const key = await scryptAsync(secret, params.salt, params.hash.length, { N: params.N, r: params.r, p: params.p, maxmem: maxmemFor(params.N, params.r, params.p) });
  return key.length === params.hash.length && timingSafeEqual(key, params.hash);
}

/** True when `encoded` was made with weaker parameters than `cost` (hash it again at the next sign-in). */
export function needsRehash(encoded: string, cost: number = USER_SCRYPT_COST): boolean {
  const params = parseHash(encoded);
  return params === undefined || params.N < cost || params.r < 8 || params.hash.length < KEY_LENGTH;
}

/** A short human-typable password for the generated first admin. */
export function generatePassword(): string {
  return randomBase62(12 + randomInt(0, 5));
}
