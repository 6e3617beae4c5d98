/**
 * User administration: create, list, change (role, disabled, password), delete; a user's own
 * password change and logout; the offline password reset of the CLI. Every change that should
 * end earlier sign-ins bumps the user's token version (the JWT claim `ver`) and forgets the user
 * in the cache, so the next request with an old token answers 401.
 *
 * Changes are serialized in this process so the "last enabled admin" rule cannot be raced by two
 * requests (a cluster would need the check inside one store transaction; one node writes today).
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_TENANT_ID } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import { isAdminRole, normalizeRole } from '../domain/permissions.js';
import type { Clock, Logger, Role, Store, User, UserPatch } from '../ports.js';
import type { UserCache } from './auth-cache.js';
import { checkPasswordPolicy, type PasswordHasher } from './auth-passwords.js';

export interface UserAdminDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly passwords: PasswordHasher;
  readonly cache: UserCache;
}

/** What an admin may change about a user. */
export interface UserChange {
  readonly role?: Role | string;
  readonly disabled?: boolean;
  readonly password?: string;
}

/** A user as the API shows it: never the password hash or the token version. */
export interface UserView {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly tenantId: string;
  readonly customerId?: string;
  readonly disabled: boolean;
  readonly createdAt: number;
}

export function viewOf(user: User): UserView {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    tenantId: user.tenantId,
    ...(user.customerId !== undefined ? { customerId: user.customerId } : {}),
    disabled: user.disabled,
    createdAt: user.createdAt,
  };
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const isActiveAdmin = (u: User): boolean => isAdminRole(u.role) && !u.disabled;

/** A role as given (legacy names accepted); BAD_REQUEST when it names none. */
export function roleOf(value: string): Role {
  const role = normalizeRole(value);
  if (!role) throw new PlatformError('BAD_REQUEST', `unknown role ${value}`);
  return role;
}

export class UserAdmin {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: UserAdminDeps) {}

  list(tenantId: string): Promise<User[]> {
    return this.deps.store.listUsers(tenantId);
  }

  /** A customer user ('customer-user') needs `customerId` (the caller checked it is the tenant's); no other role takes one. */
  create(input: { email: string; password: string; role?: Role | string; tenantId?: string; customerId?: string }): Promise<User> {
    return this.serialized(async () => {
      const email = normalizeEmail(input.email);
      if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 255) throw new PlatformError('BAD_REQUEST', 'invalid email');
      checkPasswordPolicy(input.password, email);
      if ((roleOf(input.role ?? 'operator') === 'customer-user') !== (input.customerId !== undefined)) {
        throw new PlatformError('BAD_REQUEST', 'customerId is required for role customer-user and refused for every other role');
      }
      if (await this.deps.store.findUserByEmail(email)) throw new PlatformError('CONFLICT', `user ${email} exists`);
      const user: User = {
        id: randomUUID(),
        tenantId: input.tenantId ?? DEFAULT_TENANT_ID,
        email,
        passwordHash: await this.deps.passwords.hash(input.password),
        role: roleOf(input.role ?? 'operator'),
        createdAt: this.deps.clock.now(),
        disabled: false,
        tokenVersion: 0,
        ...(input.customerId !== undefined ? { customerId: input.customerId } : {}),
      };
      await this.deps.store.insertUser(user);
      return user;
    });
  }

  /** An admin's change to a user of its tenant; refuses to leave the tenant without an enabled admin. */
  update(tenantId: string, id: string, change: UserChange): Promise<User> {
    return this.serialized(async () => {
      const user = await this.requireInTenant(tenantId, id);
      const patch: { -readonly [K in keyof UserPatch]: UserPatch[K] } = {};
      if (change.role !== undefined && roleOf(change.role) !== user.role) {
        // A customer user is bound to its customer: it is created as one, never turned into one or out of one.
        if (roleOf(change.role) === 'customer-user' || user.role === 'customer-user') throw new PlatformError('BAD_REQUEST', 'a customer user keeps its role: create a new user instead');
        patch.role = roleOf(change.role);
      }
      if (change.disabled !== undefined && change.disabled !== user.disabled) patch.disabled = change.disabled;
      if (change.password !== undefined) {
        checkPasswordPolicy(change.password, user.email);
        patch.passwordHash = await this.deps.passwords.hash(change.password);
      }
      if (Object.keys(patch).length === 0) return user;
      await this.refuseLastAdmin(user, { ...user, ...patch });
      // Any of these ends the user's earlier sessions: a new role or password starts afresh.
      patch.tokenVersion = user.tokenVersion + 1;
      return this.apply(user.id, patch);
    });
  }

  remove(tenantId: string, id: string): Promise<void> {
    return this.serialized(async () => {
      const user = await this.requireInTenant(tenantId, id);
      await this.refuseLastAdmin(user, undefined);
      await this.deps.store.deleteUser(user.id);
      this.deps.cache.forget(user.id);
    });
  }

  /** The caller's own change: needs the current password; ends every other session. */
  changeOwnPassword(userId: string, currentPassword: string, newPassword: string): Promise<User> {
    return this.serialized(async () => {
      const user = await this.deps.store.getUser(userId);
      if (!user) throw new PlatformError('UNAUTHORIZED', 'user no longer exists');
      if (!(await this.deps.passwords.verify(currentPassword, user.passwordHash))) {
        throw new PlatformError('FORBIDDEN', 'the current password is not correct');
      }
      checkPasswordPolicy(newPassword, user.email);
      if (currentPassword === newPassword) throw new PlatformError('BAD_REQUEST', 'the new password must differ from the current one');
      const passwordHash = await this.deps.passwords.hash(newPassword);
      return this.apply(user.id, { passwordHash, tokenVersion: user.tokenVersion + 1 });
    });
  }

  /** Logout: every JWT issued to the user so far stops working (API keys are revoked one by one). */
  revokeTokens(userId: string): Promise<void> {
    return this.serialized(async () => {
      const user = await this.deps.store.getUser(userId);
      if (!user) return;
      await this.apply(user.id, { tokenVersion: user.tokenVersion + 1 });
    });
  }

  /**
   * The recovery path (`continuum user reset-password`, on the data dir): a new password, the
   * account enabled again and its earlier sessions ended. No tenant check: whoever can open the
   * data dir owns the installation anyway.
   */
  resetPassword(email: string, password: string): Promise<User> {
    return this.serialized(async () => {
      const user = await this.deps.store.findUserByEmail(normalizeEmail(email));
      if (!user) throw new PlatformError('NOT_FOUND', `no user ${normalizeEmail(email)}`);
      checkPasswordPolicy(password, user.email);
      const passwordHash = await this.deps.passwords.hash(password);
      return this.apply(user.id, { passwordHash, disabled: false, tokenVersion: user.tokenVersion + 1 });
    });
  }

  /** A stronger hash of the same password (after a sign-in): sessions stay valid. */
  async rehash(user: User, password: string): Promise<void> {
    const passwordHash = await this.deps.passwords.hash(password);
    await this.serialized(() => this.apply(user.id, { passwordHash }));
    this.deps.logger.info({ userId: user.id }, 'password hash upgraded to the current parameters');
  }

  private async apply(id: string, patch: UserPatch): Promise<User> {
    const updated = await this.deps.store.updateUser(id, patch);
    this.deps.cache.forget(id);
    if (!updated) throw new PlatformError('NOT_FOUND', `user ${id}`);
    return updated;
  }

  private async requireInTenant(tenantId: string, id: string): Promise<User> {
    const user = await this.deps.store.getUser(id);
    // Another tenant's user is "not found", not "forbidden": ids of other tenants are not confirmed.
    if (!user || user.tenantId !== tenantId) throw new PlatformError('NOT_FOUND', `user ${id}`);
    return user;
  }

  private async refuseLastAdmin(before: User, after: User | undefined): Promise<void> {
    if (!isActiveAdmin(before) || (after && isActiveAdmin(after))) return;
    const others = (await this.deps.store.listUsers(before.tenantId)).filter((u) => u.id !== before.id && isActiveAdmin(u));
    if (others.length === 0) {
      throw new PlatformError('CONFLICT', `${before.email} is the last enabled admin of the tenant: make another user tenant-admin first`);
    }
  }

  /** Runs `task` after every change queued before it (a failure does not block the next). */
  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
