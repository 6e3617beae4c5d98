/** Users of the management API and their API keys, as the Store keeps them (services/auth.ts uses them). */
import type { Role } from '../domain/permissions.js';

export interface User {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly passwordHash: string;
  readonly role: Role;
  /** Set for customer users: the customer whose assigned devices they see. */
  readonly customerId?: string;
  readonly createdAt: number;
  /** A disabled user can neither sign in nor use tokens or API keys issued earlier. */
  readonly disabled: boolean;
  /** JWT claim `ver`: bumping it revokes every token issued before (logout, password or role change, disable). */
  readonly tokenVersion: number;
}

/** What an update may change; absent fields stay as they are. */
export interface UserPatch {
  readonly role?: Role;
  readonly disabled?: boolean;
  readonly passwordHash?: string;
  readonly tokenVersion?: number;
}

export interface ApiKey {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  /** sha256 of the key; the key itself is shown once at creation. */
  readonly keyHash: string;
  readonly createdAt: number;
  /** Epoch ms after which the key is refused; absent: no expiry. */
  readonly expiresAt?: number;
  /** The role requests with this key get (never above the owner's, checked on every use); absent: the owner's. */
  readonly role?: Role;
}

export interface UserStore {
  countUsers(): Promise<number>;
  insertUser(user: User): Promise<void>;
  findUserByEmail(email: string): Promise<User | undefined>;
  getUser(id: string): Promise<User | undefined>;
  /** The tenant's users, oldest first. */
  listUsers(tenantId: string): Promise<User[]>;
  /** Applies `patch`; resolves with the updated user, undefined when there is none with that id. */
  updateUser(id: string, patch: UserPatch): Promise<User | undefined>;
  /** Removes the user and its API keys; false when there was none. */
  deleteUser(id: string): Promise<boolean>;
  insertApiKey(key: ApiKey): Promise<void>;
  findApiKey(keyHash: string): Promise<ApiKey | undefined>;
  /** The user's API keys, oldest first. */
  listApiKeys(userId: string): Promise<ApiKey[]>;
  /** Removes one of the user's keys; false when the user has no key with that id. */
  deleteApiKey(userId: string, keyId: string): Promise<boolean>;
  /** Small persistent settings (e.g. the JWT signing secret). */
  getSetting(name: string): Promise<string | undefined>;
  putSetting(name: string, value: string): Promise<void>;
}
