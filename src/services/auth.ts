/**
 * Users of the management API: scrypt password hashes, HS256 JWTs signed with a secret kept in
 * the store (so every node of a cluster accepts the same tokens), and API keys stored as sha256.
 * JWT is implemented on node:crypto: one algorithm, fixed header, no library surface to misuse.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_TENANT_ID } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import type { Clock, Logger, Role, Store, User } from '../ports.js';
import { generatePassword, hashSecret, randomBase62, safeEqual, sha256Hex, verifySecret } from './auth-secrets.js';

export interface AuthDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Lifetime of login tokens (default one day). */
  readonly jwtTtlSeconds?: number;
}

export interface Principal {
  readonly userId: string;
  readonly tenantId: string;
  readonly role: Role;
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
const MIN_PASSWORD_LENGTH = 8;

interface JwtClaims {
  sub: string;
  tid: string;
  role: Role;
  iat: number;
  exp: number;
}

function unauthorized(detail: string): PlatformError {
  return new PlatformError('UNAUTHORIZED', detail);
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class AuthService {
  private secret: Promise<Buffer> | undefined;
  /** Hash compared against when the email is unknown, so timing does not reveal which emails exist. */
  private dummyHash: Promise<string> | undefined;
  private readonly ttl: number;

  constructor(private readonly deps: AuthDeps) {
    this.ttl = deps.jwtTtlSeconds ?? 24 * 60 * 60;
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
    await this.createUser({ email, password, role: 'admin', tenantId });
    this.deps.logger.info({ email }, 'created the first admin user');
    return { created: true, email, ...(input.password ? {} : { generatedPassword: password }) };
  }

  async createUser(input: { email: string; password: string; role?: Role; tenantId?: string }): Promise<User> {
    const email = normalizeEmail(input.email);
    if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 255) throw new PlatformError('BAD_REQUEST', 'invalid email');
    if (input.password.length < MIN_PASSWORD_LENGTH) {
      throw new PlatformError('BAD_REQUEST', `password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    }
    if (await this.deps.store.findUserByEmail(email)) throw new PlatformError('CONFLICT', `user ${email} exists`);
    const user: User = {
      id: randomUUID(),
      tenantId: input.tenantId ?? DEFAULT_TENANT_ID,
      email,
      passwordHash: await hashSecret(input.password),
      role: input.role ?? 'user',
      createdAt: this.deps.clock.now(),
    };
    await this.deps.store.insertUser(user);
    return user;
  }

  async login(email: string, password: string): Promise<{ token: string; expiresAt: number }> {
    const user = await this.deps.store.findUserByEmail(normalizeEmail(email));
    if (!user) {
      this.dummyHash ??= hashSecret(randomBase62(16));
      await verifySecret(password, await this.dummyHash);
      throw unauthorized('invalid email or password');
    }
    if (!(await verifySecret(password, user.passwordHash))) throw unauthorized('invalid email or password');
    return this.issueToken(user);
  }

  async issueToken(user: User): Promise<{ token: string; expiresAt: number }> {
    const iat = Math.floor(this.deps.clock.now() / 1000);
    const claims: JwtClaims = { sub: user.id, tid: user.tenantId, role: user.role, iat, exp: iat + this.ttl };
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
    if (typeof claims.sub !== 'string' || typeof claims.tid !== 'string' || (claims.role !== 'admin' && claims.role !== 'user')) {
      throw unauthorized('malformed token');
    }
    return { userId: claims.sub, tenantId: claims.tid, role: claims.role };
  }

  async createApiKey(userId: string, name: string): Promise<{ id: string; key: string }> {
    if (name.trim().length === 0 || name.length > 255) throw new PlatformError('BAD_REQUEST', 'API key name must be 1..255 characters');
    if (!(await this.deps.store.getUser(userId))) throw new PlatformError('NOT_FOUND', 'user');
    const key = API_KEY_PREFIX + randomBase62(40);
    const id = randomUUID();
    await this.deps.store.insertApiKey({ id, userId, name, keyHash: sha256Hex(key), createdAt: this.deps.clock.now() });
    return { id, key };
  }

  async verifyApiKey(key: string): Promise<Principal> {
    if (key.length === 0 || key.length > 512) throw unauthorized('unknown API key');
    const record = await this.deps.store.findApiKey(sha256Hex(key));
    const user = record ? await this.deps.store.getUser(record.userId) : undefined;
    if (!user) throw unauthorized('unknown API key');
    return { userId: user.id, tenantId: user.tenantId, role: user.role };
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
