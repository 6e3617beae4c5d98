/**
 * The TOTP second factor of local accounts (RFC 6238: SHA-1, 6 digits, 30 s, as every
 * authenticator app expects). The shared secret is sealed with AES-256-GCM under a key derived
 * from the credential key, so a copy of the database alone does not yield the secrets. A code is
 * accepted once (the last used time step is stored), one step of clock drift either way. Ten
 * one-time recovery codes are handed out at confirmation and stored as sha256.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { PlatformError } from '../domain/errors.js';
import type { Clock, SigninStore, TotpEnrolment } from '../ports.js';
import { randomBase62, sha256Hex } from './auth-secrets.js';

const PERIOD_SECONDS = 30;
const DIGITS = 6;
const RECOVERY_CODES = 10;
const ISSUER = 'Continuum';
const SEAL_VERSION = 'v1';

export interface TotpDeps {
  readonly store: SigninStore;
  readonly clock: Clock;
  /** The credential key; absent (memory store): a random key for this process, as the data goes with it. */
  readonly key?: Buffer;
}

export interface TotpEnrolmentOffer {
  /** Base32, for typing into an authenticator. */
  readonly secret: string;
  /** otpauth://totp/… for a QR code or a link. */
  readonly uri: string;
}

/** Recovery codes as shown to the user: two groups of five, dash between (ignored when typed). */
function recoveryCode(): string {
  const raw = randomBase62(10);
  return `${raw.slice(0, 5)}-${raw.slice(5)}`;
}

function normalizeRecovery(code: string): string {
  return code.replace(/[\s-]/g, '');
}

export class TotpService {
  private readonly sealKey: Buffer;

  constructor(private readonly deps: TotpDeps) {
    // A key of its own (HKDF), so the TOTP seal and the token hashes never share one.
    this.sealKey = Buffer.from(hkdfSync('sha256', deps.key ?? randomBytes(32), Buffer.alloc(0), 'continuum totp seal', 32));
  }

  /** True when the user has a confirmed enrolment (sign-in then needs a code). */
  async isActive(userId: string): Promise<boolean> {
    return (await this.deps.store.getTotp(userId))?.confirmedAt !== undefined;
  }

  /** A new secret, inactive until confirmed; replaces an unconfirmed one, refuses over an active one. */
  async enroll(userId: string, email: string): Promise<TotpEnrolmentOffer> {
    if (await this.isActive(userId)) throw new PlatformError('CONFLICT', 'a second factor is already active: remove it first (DELETE /api/auth/totp)');
    const secret = new OTPAuth.Secret({ size: 20 });
    await this.deps.store.putTotp({ userId, secret: this.seal(secret.base32), lastStep: 0, recoveryHashes: [] });
    const totp = this.totp(secret.base32, email);
    return { secret: secret.base32, uri: totp.toString() };
  }

  /** Activates the enrolment with a first good code; the recovery codes are returned this once. */
  async confirm(userId: string, email: string, code: string): Promise<string[]> {
    const enrolment = await this.deps.store.getTotp(userId);
    if (!enrolment) throw new PlatformError('NOT_FOUND', 'no TOTP enrolment: start one with POST /api/auth/totp/enroll');
    if (enrolment.confirmedAt !== undefined) throw new PlatformError('CONFLICT', 'the second factor is already active');
    const step = this.matchingStep(enrolment, email, code);
    if (step === undefined) throw new PlatformError('FORBIDDEN', 'the code does not match: check the authenticator clock and try the next code');
    const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
    await this.deps.store.putTotp({
      ...enrolment,
      confirmedAt: this.deps.clock.now(),
      lastStep: step,
      recoveryHashes: codes.map((c) => sha256Hex(normalizeRecovery(c))),
    });
    return codes;
  }

  /**
   * A 6-digit code from the authenticator (each time step once) or an unused recovery code
   * (used up by this call). False for anything else, or when no factor is active.
   */
  async verify(userId: string, email: string, code: string): Promise<boolean> {
    const enrolment = await this.deps.store.getTotp(userId);
    if (enrolment?.confirmedAt === undefined) return false;
    const trimmed = code.trim();
    if (/^\d{6}$/.test(trimmed)) {
      const step = this.matchingStep(enrolment, email, trimmed);
      return step !== undefined && (await this.deps.store.useTotpStep(userId, step));
    }
    const recovery = normalizeRecovery(trimmed);
    if (recovery.length !== 10) return false;
    return this.deps.store.useRecoveryCode(userId, sha256Hex(recovery));
  }

  async remove(userId: string): Promise<boolean> {
    return this.deps.store.deleteTotp(userId);
  }

  /** How many recovery codes are left (for the account page). */
  async status(userId: string): Promise<{ active: boolean; pending: boolean; recoveryCodesLeft: number }> {
    const e = await this.deps.store.getTotp(userId);
    return { active: e?.confirmedAt !== undefined, pending: e !== undefined && e.confirmedAt === undefined, recoveryCodesLeft: e?.recoveryHashes.length ?? 0 };
  }

  private matchingStep(enrolment: TotpEnrolment, email: string, code: string): number | undefined {
    if (!/^\d{6}$/.test(code.trim())) return undefined;
    const now = this.deps.clock.now();
    const delta = this.totp(this.unseal(enrolment.secret), email).validate({ token: code.trim(), timestamp: now, window: 1 });
    if (delta === null) return undefined;
    const step = Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
    return step > enrolment.lastStep ? step : undefined;
  }

  private totp(base32: string, email: string): OTPAuth.TOTP {
    return new OTPAuth.TOTP({ issuer: ISSUER, label: email, algorithm: 'SHA1', digits: DIGITS, period: PERIOD_SECONDS, secret: OTPAuth.Secret.fromBase32(base32) });
  }

  private seal(base32: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const data = Buffer.concat([cipher.update(base32, 'utf8'), cipher.final()]);
    return [SEAL_VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), data.toString('base64')].join(':');
  }

  private unseal(sealed: string): string {
    const [version, iv, tag, data] = sealed.split(':');
    if (version !== SEAL_VERSION || !iv || !tag || data === undefined) throw new PlatformError('INTERNAL', 'stored TOTP secret has an unknown format');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new PlatformError('INTERNAL', 'stored TOTP secret does not open with the credential key', { cause: err });
    }
  }
}
