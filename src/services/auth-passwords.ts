/**
 * Human passwords: the policy a new password must meet, and hashing through a HashGate so a
 * flood of sign-ins (each scrypt call at N = 2^17 holds 128 MiB and ~0.5 s of a core) queues
 * a few and refuses the rest with 503 + Retry-After instead of exhausting memory.
 */
import { PlatformError } from '../domain/errors.js';
import { hashSecret, needsRehash, USER_SCRYPT_COST, verifySecret } from './auth-secrets.js';
import { HashGate } from './throttle.js';

/** NIST SP 800-63B §5.1.1.2 asks for ≥ 8; we ask 12 of humans (issue 12). Existing shorter ones keep working until changed. */
export const MIN_PASSWORD_LENGTH = 12;
/** Long enough for any passphrase, short enough that hashing it is not a lever (the login schema caps input at 1024). */
export const MAX_PASSWORD_LENGTH = 256;

function weak(detail: string): PlatformError {
  return new PlatformError('BAD_REQUEST', `password ${detail}`);
}

/** Throws BAD_REQUEST with the reason when `password` may not be set for the user `email`. */
export function checkPasswordPolicy(password: string, email: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) throw weak(`must have at least ${MIN_PASSWORD_LENGTH} characters (got ${length})`);
  if (length > MAX_PASSWORD_LENGTH) throw weak(`must have at most ${MAX_PASSWORD_LENGTH} characters`);
  if (new Set(password).size === 1) throw weak('must not repeat one character');
  const lower = password.trim().toLowerCase();
  const address = email.trim().toLowerCase();
  const local = address.split('@')[0] ?? address;
  if (lower === address || lower === local) throw weak('must not be the e-mail address');
}

export interface PasswordHasherOptions {
  /** scrypt N for new hashes (a power of two); default USER_SCRYPT_COST. */
  readonly cost?: number;
  /** Hashes computed at once; default 2 (each holds 128·N·8 bytes). */
  readonly concurrency?: number;
  /** Hashes waiting for a slot; past it, UNAVAILABLE at once. Default 8 per slot. */
  readonly maxQueued?: number;
}

export class PasswordHasher {
  readonly cost: number;
  private readonly gate: HashGate;

  constructor(opts: PasswordHasherOptions = {}) {
    this.cost = opts.cost ?? USER_SCRYPT_COST;
    if (!Number.isSafeInteger(this.cost) || this.cost < 2 || (this.cost & (this.cost - 1)) !== 0) {
      throw new Error(`password hash cost must be a power of two, got ${this.cost}`);
    }
    const concurrency = Math.max(1, opts.concurrency ?? 2);
    this.gate = new HashGate(concurrency, opts.maxQueued ?? 8 * concurrency);
  }

  hash(password: string): Promise<string> {
    return this.gate.run(() => hashSecret(password, this.cost));
  }

  verify(password: string, encoded: string): Promise<boolean> {
    return this.gate.run(() => verifySecret(password, encoded));
  }

  /** Stored with weaker parameters than new hashes get: rehash after the next successful sign-in. */
  isOutdated(encoded: string): boolean {
    return needsRehash(encoded, this.cost);
  }
}
