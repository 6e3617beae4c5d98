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
import { roleCovers } from './auth-role-ceiling.js';
import { TotpService } from './auth-totp.js';
import { normalizeEmail, UserAdmin } from './auth-users.js';
import { FailureThrottle, type ThrottleOptions } from './throttle.js';
import { RoleCatalog } from './roles.js';
import { TenantStatusCache } from './tenant-status.js';

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
  /** The credential key: TOTP secrets are sealed under a key derived from it (auth-totp.ts). */
  readonly credentialKey?: Buffer;
  /** Suspended tenants (shared with device authentication); default: one of its own over the store. */
  readonly tenantStatus?: TenantStatusCache;
}

export interface Principal {
  readonly userId: string;
  readonly tenantId: string;
  readonly role: Role;
  /** As stored when the request was authenticated (audit entries keep it: users may be deleted). */
  readonly email?: string;
  /** Set for customer users: the customer whose assigned devices they see. */
  readonly customerId?: string;
}

function principalOf(user: User): Principal {
  return { userId: user.id, tenantId: user.tenantId, role: user.role, email: user.email, ...(user.customerId !== undefined ? { customerId: user.customerId } : {}) };
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

function unauthorized(detail: string): PlatformError {
  return new PlatformError('UNAUTHORIZED', detail);
}

export class AuthService {
  /** User administration (routes under /api/users, own password, logout, CLI reset). */
  readonly users: UserAdmin;
  readonly passwords: PasswordHasher;
  /** The TOTP second factor of local accounts. */
  readonly totp: TotpService;
  /** What each role grants (built-in and the tenants' custom roles). */
  readonly roles: RoleCatalog;
  readonly tenantStatus: TenantStatusCache;
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
    this.roles = new RoleCatalog(deps.store, deps.clock);
    this.tenantStatus = deps.tenantStatus ?? new TenantStatusCache(deps.store);
    this.users = new UserAdmin({ store: deps.store, clock: deps.clock, logger: deps.logger, passwords: this.passwords, cache: this.cache });
    this.totp = new TotpService({ store: deps.store, clock: deps.clock, ...(deps.credentialKey ? { key: deps.credentialKey } : {}) });
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
      await this.users.create({ email, password, role: 'sysadmin', tenantId });
    } catch (err) {
      if (!isPlatformError(err, 'BAD_REQUEST')) throw err;
      throw new PlatformError('BAD_REQUEST', `the first admin (auth.adminEmail / CONTINUUM_ADMIN_EMAIL, auth.adminPassword / CONTINUUM_ADMIN_PASSWORD): ${err.message}`);
    }
    this.deps.logger.info({ email }, 'created the first admin user');
    return { created: true, email, ...(input.password ? {} : { generatedPassword: password }) };
  }

  createUser(input: { email: string; password: string; role?: Role | string; tenantId?: string; customerId?: string }): Promise<User> {
    return this.users.create(input);
  }

  /**
   * Email and password → a JWT. Refused with RATE_LIMITED (429 + Retry-After) while the account
   * or the address is locked out, before any hashing; UNAVAILABLE (503) when too many password
   * checks are already running. With an active second factor, SECOND_FACTOR_REQUIRED (401) until
   * `totp` carries a good code; a wrong code counts as a failed sign-in, like a wrong password.
   */
  async login(email: string, password: string, address?: string, totp?: string): Promise<{ token: string; expiresAt: number }> {
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
    this.tenantStatus.check(user.tenantId, 'user');
    if (await this.totp.isActive(user.id)) {
      if (totp === undefined || totp.trim() === '') throw new PlatformError('SECOND_FACTOR_REQUIRED', 'enter the code from your authenticator app (or a recovery code) as totp');
      if (!(await this.totp.verify(user.id, user.email, totp))) {
        this.countFailure(normalized, user, accountKey, addressKey, address);
        throw new PlatformError('SECOND_FACTOR_REQUIRED', 'the authenticator code is not valid (or was used already)');
      }
    }
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
    return principalOf(user);
  }

  /**
   * A key for the user; `role` (default: whatever the owner's role is when the key is used) may
   * not be above the owner's role (FORBIDDEN), and is checked again on every use.
   */
  async createApiKey(userId: string, name: string, expiresAt?: number, role?: Role): Promise<{ id: string; key: string; expiresAt?: number; role?: Role }> {
    if (name.trim().length === 0 || name.length > 255) throw new PlatformError('BAD_REQUEST', 'API key name must be 1..255 characters');
    if (expiresAt !== undefined && (!Number.isSafeInteger(expiresAt) || expiresAt <= this.deps.clock.now())) {
      throw new PlatformError('BAD_REQUEST', 'expiresAt must be a time in the future (epoch milliseconds)');
    }
    const owner = await this.deps.store.getUser(userId);
    if (!owner) throw new PlatformError('NOT_FOUND', 'user');
    if (role !== undefined && !roleCovers(owner.role, role)) throw new PlatformError('FORBIDDEN', `an API key may not have a role above yours (${owner.role}): ${role}`);
    const key = API_KEY_PREFIX + randomBase62(40);
    const id = randomUUID();
    const optional = { ...(expiresAt !== undefined ? { expiresAt } : {}), ...(role !== undefined ? { role } : {}) };
    const record: ApiKey = { id, userId, name, keyHash: sha256Hex(key), createdAt: this.deps.clock.now(), ...optional };
    await this.deps.store.insertApiKey(record);
    return { id, key, ...optional };
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
    // The owner may have been demoted since: a key never outranks its owner.
    if (record.role !== undefined && !roleCovers(user.role, record.role)) throw unauthorized("API key role is above its owner's current role");
    return { ...principalOf(user), role: record.role ?? user.role };
  }

  /**
   * Removes the caller's second factor after proving it again: a current code (or recovery code)
   * or the password. A wrong proof counts as a failed sign-in (throttled) and answers FORBIDDEN.
   */
  async removeTotp(userId: string, proof: { code?: string; password?: string }, address?: string): Promise<void> {
    const user = await this.deps.store.getUser(userId);
    if (!user) throw unauthorized('user no longer exists');
    const accountKey = [`account:${user.email}`];
    const addressKey = address ? [`address:${address}`] : [];
    this.accountThrottle.check(accountKey, 'attempts for this account');
    this.addressThrottle.check(addressKey, 'attempts from this address');
    const ok =
      proof.code !== undefined ? await this.totp.verify(user.id, user.email, proof.code) : proof.password !== undefined && (await this.passwords.verify(proof.password, user.passwordHash));
    if (!ok) {
      this.countFailure(user.email, user, accountKey, addressKey, address);
      throw new PlatformError('FORBIDDEN', 'the code or password is not correct');
    }
    if (!(await this.totp.remove(user.id))) throw new PlatformError('NOT_FOUND', 'no second factor to remove');
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
    // An API key is accepted as a bearer token too (Grafana's data sources send only Authorization).
    if (scheme === 'bearer' && value) return value.startsWith(API_KEY_PREFIX) ? this.verifyApiKey(value) : this.verifyToken(value);
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
    this.tenantStatus.check(user.tenantId, 'user');
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
