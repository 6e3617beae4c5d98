/**
 * Users of the management API: scrypt password hashes, HS256 JWTs signed with a secret kept in
 * the store (so every node of a cluster accepts the same tokens), and API keys stored as sha256.
 * JWT is implemented on node:crypto: one algorithm, fixed header, no library surface to misuse.
 *
 * A token proves who signed in, not what they may do now: every request looks the user up (a
 * cache of one second, forgotten on every change; auth-cache.ts) and is refused when the user is
 * gone, disabled, or has revoked the token (claim `ver` behind the user's token version). The
 * role is the stored one. Sign-in is throttled per account and per client address.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_TENANT_ID } from '../domain/device.js';
import { isPlatformError, PlatformError } from '../domain/errors.js';
import type { ApiKey, Clock, Logger, Role, Store, User } from '../ports.js';
import type { AuditService } from './audit.js';
import { UserCache } from './auth-cache.js';
import { checkPasswordPolicy, PasswordHasher, type PasswordHasherOptions } from './auth-passwords.js';
import { generatePassword, randomBase62, safeEqual, sha256Hex } from './auth-secrets.js';
import { normalizeEmail, UserAdmin } from './auth-users.js';
import { FailureThrottle, type ThrottleOptions } from './throttle.js';

export { normalizeEmail };

export interface AuthDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Lifetime of login tokens (default one day). */
  readonly jwtTtlSeconds?: number;
  /** scrypt cost and how many hashes run at once (auth-passwords.ts). */
  readonly passwords?: PasswordHasherOptions;
  /** Sign-in lockouts per account and per client address (defaults in LOGIN_THROTTLE). */
  readonly loginThrottle?: { readonly account?: Partial<ThrottleOptions>; readonly address?: Partial<ThrottleOptions> };
  /** Lockouts are recorded here. */
  readonly audit?: Pick<AuditService, 'record'>;
}

export interface Principal {
  readonly userId: string;
  readonly tenantId: string;
  readonly role: Role;
  /** As stored when the request was authenticated (audit entries keep it: users may be deleted). */
  readonly email?: string;
  /** Set for customer users: what they see is that customer's (and its sub-customers') devices. */
  readonly customerId?: string;
}

export interface EnsureAdminResult {
  readonly created: boolean;
  /** The admin's email (when no user was created: the configured or default one). */
  readonly email: string;
  /** Set only when the password was generated: print it once. */
  readonly generatedPassword?: string;
}

export const DEFAULT_ADMIN_EMAIL = 'admin@continuum.local';
export const API_KEY_PREFIX = 'ck_';
const JWT_SECRET_SETTING = 'jwtSecret';
const JWT_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

const MINUTE = 60_000;
/**
 * Five wrong passwords for one account within 15 minutes lock it for 1 minute, each further
 * lockout twice as long up to 15 minutes. One address gets more (it may be a shared NAT) but is
 * stopped too, so trying one password against many accounts is bounded as well.
 */
export const LOGIN_THROTTLE: { readonly account: ThrottleOptions; readonly address: ThrottleOptions } = {
  account: { maxFailures: 5, windowMs: 15 * MINUTE, lockoutMs: MINUTE, maxLockoutMs: 15 * MINUTE, maxKeys: 50_000 },
  address: { maxFailures: 20, windowMs: 15 * MINUTE, lockoutMs: MINUTE, maxLockoutMs: 15 * MINUTE, maxKeys: 50_000 },
};

interface JwtClaims {
  sub: string;
  tid: string;
  /** The user's token version when this token was issued. */
  ver: number;
  iat: number;
  exp: number;
}

function principalOfUser(user: User): Principal {
  return { userId: user.id, tenantId: user.tenantId, role: user.role, email: user.email, ...(user.customerId !== undefined ? { customerId: user.customerId } : {}) };
}

function unauthorized(detail: string): PlatformError {
  return new PlatformError('UNAUTHORIZED', detail);
}

export class AuthService {
  /** User administration (routes under /api/users, own password, logout, CLI reset). */
  readonly users: UserAdmin;
  readonly passwords: PasswordHasher;
  private readonly cache: UserCache;
  private readonly accountThrottle: FailureThrottle;
  private readonly addressThrottle: FailureThrottle;
  private secret: Promise<Buffer> | undefined;
  /** Hash compared against when the email is unknown, so timing does not reveal which emails exist. */
  private dummyHash: Promise<string> | undefined;
  private readonly ttl: number;

  constructor(private readonly deps: AuthDeps) {
    this.ttl = deps.jwtTtlSeconds ?? 24 * 60 * 60;
    this.passwords = new PasswordHasher(deps.passwords);
    this.cache = new UserCache(deps.store, deps.clock);
    this.users = new UserAdmin({ store: deps.store, clock: deps.clock, logger: deps.logger, passwords: this.passwords, cache: this.cache });
    this.accountThrottle = new FailureThrottle({ ...LOGIN_THROTTLE.account, ...deps.loginThrottle?.account }, deps.clock);
    this.addressThrottle = new FailureThrottle({ ...LOGIN_THROTTLE.address, ...deps.loginThrottle?.address }, deps.clock);
  }

  /**
   * Checks the configured first admin before the server starts listening (the admin itself is
   * created once it listens): a weak configured password stops startup at once.
   */
  async checkFirstAdmin(input: { email?: string; password?: string }): Promise<void> {
    if (!input.password || (await this.deps.store.countUsers()) > 0) return;
    try {
      checkPasswordPolicy(input.password, normalizeEmail(input.email || DEFAULT_ADMIN_EMAIL));
    } catch (err) {
      if (!isPlatformError(err, 'BAD_REQUEST')) throw err;
      throw new PlatformError('BAD_REQUEST', `the first admin (auth.adminEmail / CONTINUUM_ADMIN_EMAIL, auth.adminPassword / CONTINUUM_ADMIN_PASSWORD): ${err.message}`);
    }
  }

  /**
   * First start: creates the admin from config/env when given, else with a generated password
   * that is returned once. Does nothing when any user exists.
   */
  async ensureAdmin(input: { email?: string; password?: string; tenantId?: string } = {}): Promise<EnsureAdminResult> {
    const email = normalizeEmail(input.email || DEFAULT_ADMIN_EMAIL);
    if ((await this.deps.store.countUsers()) > 0) return { created: false, email };
    const password = input.password || generatePassword();
    const tenantId = input.tenantId ?? DEFAULT_TENANT_ID;
    if (tenantId === DEFAULT_TENANT_ID) await this.deps.store.ensureTenant({ id: tenantId, name: 'Default' });
    try {
      await this.users.create({ email, password, role: 'admin', tenantId });
    } catch (err) {
      if (!isPlatformError(err, 'BAD_REQUEST')) throw err;
      throw new PlatformError('BAD_REQUEST', `the first admin (auth.adminEmail / CONTINUUM_ADMIN_EMAIL, auth.adminPassword / CONTINUUM_ADMIN_PASSWORD): ${err.message}`);
    }
    this.deps.logger.info({ email }, 'created the first admin user');
    return { created: true, email, ...(input.password ? {} : { generatedPassword: password }) };
  }

  createUser(input: { email: string; password: string; role?: Role; tenantId?: string; customerId?: string }): Promise<User> {
    return this.users.create(input);
  }

  /**
   * Email and password → a JWT. Refused with RATE_LIMITED (429 + Retry-After) while the account
   * or the address is locked out, before any hashing; UNAVAILABLE (503) when too many password
   * checks are already running.
   */
  async login(email: string, password: string, address?: string): Promise<{ token: string; expiresAt: number }> {
    const normalized = normalizeEmail(email);
    const accountKey = [`account:${normalized}`];
    const addressKey = address ? [`address:${address}`] : [];
    this.accountThrottle.check(accountKey, 'sign-ins for this account');
    this.addressThrottle.check(addressKey, 'sign-ins from this address');
    const user = await this.deps.store.findUserByEmail(normalized);
    const ok = user ? await this.passwords.verify(password, user.passwordHash) : await this.verifyDummy(password);
    if (!user || !ok) {
      this.countFailure(normalized, user, accountKey, addressKey, address);
      throw unauthorized('invalid email or password');
    }
    if (user.disabled) throw unauthorized('this account is disabled');
    this.accountThrottle.success(accountKey[0] as string);
    if (this.passwords.isOutdated(user.passwordHash)) {
      // After the answer is decided; a failure only means the old hash stays until next time.
      await this.users.rehash(user, password).catch((err: unknown) => this.deps.logger.warn({ err, userId: user.id }, 'password rehash failed'));
    }
    return this.issueToken(user);
  }

  /**
   * The caller's own password change. A wrong current password counts as a failed sign-in of the
   * account (and the address): a stolen session must not become an unthrottled password oracle.
   */
  async changeOwnPassword(userId: string, currentPassword: string, newPassword: string, address?: string): Promise<User> {
    const user = await this.deps.store.getUser(userId);
    if (!user) throw unauthorized('user no longer exists');
    const accountKey = [`account:${user.email}`];
    const addressKey = address ? [`address:${address}`] : [];
    this.accountThrottle.check(accountKey, 'password attempts for this account');
    this.addressThrottle.check(addressKey, 'password attempts from this address');
    try {
      return await this.users.changeOwnPassword(userId, currentPassword, newPassword);
    } catch (err) {
      if (isPlatformError(err, 'FORBIDDEN')) this.countFailure(user.email, user, accountKey, addressKey, address);
      throw err;
    }
  }

  async issueToken(user: User): Promise<{ token: string; expiresAt: number }> {
    const iat = Math.floor(this.deps.clock.now() / 1000);
    const claims: JwtClaims = { sub: user.id, tid: user.tenantId, ver: user.tokenVersion, iat, exp: iat + this.ttl };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const signingInput = `${JWT_HEADER}.${payload}`;
    const signature = createHmac('sha256', await this.jwtSecret()).update(signingInput).digest('base64url');
    return { token: `${signingInput}.${signature}`, expiresAt: claims.exp * 1000 };
  }

  async verifyToken(token: string): Promise<Principal> {
    const parts = token.split('.');
    if (parts.length !== 3) throw unauthorized('malformed token');
    const [header, payload, signature] = parts as [string, string, string];
    // Only our own fixed header is accepted: no "alg":"none", no algorithm confusion.
    if (header !== JWT_HEADER) throw unauthorized('unsupported token');
    const expected = createHmac('sha256', await this.jwtSecret()).update(`${header}.${payload}`).digest('base64url');
    if (!safeEqual(signature, expected)) throw unauthorized('bad token signature');
    let claims: Partial<JwtClaims>;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<JwtClaims>;
    } catch {
      throw unauthorized('malformed token');
    }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.deps.clock.now()) throw unauthorized('token expired');
    if (typeof claims.sub !== 'string' || typeof claims.tid !== 'string') throw unauthorized('malformed token');
    const user = await this.activeUser(claims.sub);
    // Tokens issued before token versions existed carry none: they count as version 0.
    if (user.tenantId !== claims.tid || (claims.ver ?? 0) !== user.tokenVersion) throw unauthorized('token revoked: sign in again');
    return principalOfUser(user);
  }

  async createApiKey(userId: string, name: string, expiresAt?: number): Promise<{ id: string; key: string; expiresAt?: number }> {
    if (name.trim().length === 0 || name.length > 255) throw new PlatformError('BAD_REQUEST', 'API key name must be 1..255 characters');
    if (expiresAt !== undefined && (!Number.isSafeInteger(expiresAt) || expiresAt <= this.deps.clock.now())) {
      throw new PlatformError('BAD_REQUEST', 'expiresAt must be a time in the future (epoch milliseconds)');
    }
    if (!(await this.deps.store.getUser(userId))) throw new PlatformError('NOT_FOUND', 'user');
    const key = API_KEY_PREFIX + randomBase62(40);
    const id = randomUUID();
    const record: ApiKey = { id, userId, name, keyHash: sha256Hex(key), createdAt: this.deps.clock.now(), ...(expiresAt !== undefined ? { expiresAt } : {}) };
    await this.deps.store.insertApiKey(record);
    return { id, key, ...(expiresAt !== undefined ? { expiresAt } : {}) };
  }

  /** The user's keys without their hashes. */
  async listApiKeys(userId: string): Promise<Omit<ApiKey, 'keyHash'>[]> {
    return (await this.deps.store.listApiKeys(userId)).map(({ keyHash: _hash, ...rest }) => rest);
  }

  /** Revokes one of the user's keys; the next request with it answers 401. */
  async deleteApiKey(userId: string, keyId: string): Promise<void> {
    if (!(await this.deps.store.deleteApiKey(userId, keyId))) throw new PlatformError('NOT_FOUND', `API key ${keyId}`);
  }

  async verifyApiKey(key: string): Promise<Principal> {
    if (key.length === 0 || key.length > 512) throw unauthorized('unknown API key');
    const record = await this.deps.store.findApiKey(sha256Hex(key));
    if (!record) throw unauthorized('unknown API key');
    if (record.expiresAt !== undefined && record.expiresAt <= this.deps.clock.now()) throw unauthorized('API key expired');
    const user = await this.activeUser(record.userId);
    return principalOfUser(user);
  }

  /** `Authorization: Bearer <jwt>` (or `ApiKey <key>`) or an `X-API-Key` header. */
  authenticateRequest(headers: { authorization?: string; apiKey?: string }): Promise<Principal> {
    const apiKey = headers.apiKey?.trim();
    if (apiKey) return this.verifyApiKey(apiKey);
    const auth = headers.authorization?.trim();
    if (!auth) return Promise.reject(unauthorized('missing Authorization: Bearer <token> or X-API-Key header'));
    const space = auth.indexOf(' ');
    const scheme = space > 0 ? auth.slice(0, space).toLowerCase() : '';
    const value = space > 0 ? auth.slice(space + 1).trim() : '';
    if (scheme === 'bearer' && value) return this.verifyToken(value);
    if (scheme === 'apikey' && value) return this.verifyApiKey(value);
    return Promise.reject(unauthorized('Authorization must be "Bearer <token>"'));
  }

  getUser(id: string): Promise<User | undefined> {
    return this.deps.store.getUser(id);
  }

  private async activeUser(id: string): Promise<User> {
    const user = await this.cache.get(id);
    if (!user) throw unauthorized('user no longer exists');
    if (user.disabled) throw unauthorized('this account is disabled');
    return user;
  }

  private async verifyDummy(password: string): Promise<false> {
    this.dummyHash ??= this.passwords.hash(randomBase62(16));
    await this.passwords.verify(password, await this.dummyHash);
    return false;
  }

  private countFailure(email: string, user: User | undefined, accountKey: string[], addressKey: string[], address: string | undefined): void {
    const accountLocked = this.accountThrottle.failure(accountKey);
    const addressLocked = this.addressThrottle.failure(addressKey);
    if (!accountLocked && !addressLocked) return;
    const scope = accountLocked ? 'account' : 'address';
    const seconds = Math.ceil((accountLocked ? this.accountThrottle.lockedFor(accountKey) : this.addressThrottle.lockedFor(addressKey)) / 1000);
    this.deps.logger.warn({ email, address, scope, lockedForSeconds: seconds }, 'sign-in locked out after repeated failed passwords');
    this.deps.audit?.record({
      tenantId: user?.tenantId ?? DEFAULT_TENANT_ID,
      actor: 'anonymous',
      actorName: email,
      action: 'auth.lockout',
      outcome: 'denied',
      ...(address ? { address } : {}),
      details: { scope, seconds },
    });
  }

  private jwtSecret(): Promise<Buffer> {
    this.secret ??= this.loadSecret();
    this.secret.catch(() => (this.secret = undefined));
    return this.secret;
  }

  private async loadSecret(): Promise<Buffer> {
    const stored = await this.deps.store.getSetting(JWT_SECRET_SETTING);
    if (stored) return Buffer.from(stored, 'base64url');
    const fresh = randomBytes(32).toString('base64url');
    await this.deps.store.putSetting(JWT_SECRET_SETTING, fresh);
    // Another node may have written first; whatever is stored now wins.
    const winner = (await this.deps.store.getSetting(JWT_SECRET_SETTING)) ?? fresh;
    return Buffer.from(winner, 'base64url');
  }
}
