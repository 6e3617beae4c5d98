/** Platform users, their API keys (stored as hashes) and small persistent settings. */
import { PlatformError } from '../../../domain/errors.js';
import type { ApiKey, User, UserPatch, UserStore } from '../../../ports.js';
import { emailKey, makeApiKey, makeUser, tenantNotFound, userNotFound } from '../shared.js';
import { KEY_COLUMNS, USER_COLUMNS, toApiKey, toUser, type ApiKeyRow, type UserRow } from '../rows/users.js';
import { isUniqueViolation, type Db } from './sql.js';

export function createSqliteUsers(db: Db): UserStore {
  const s = {
    count: db.prepare<[], number>('SELECT count(*) FROM users').pluck(),
    tenantExists: db.prepare('SELECT 1 FROM tenants WHERE id = ?').pluck(),
    insertUser: db.prepare(
      `INSERT INTO users (id, tenant_id, email, email_key, password_hash, role, created_at, disabled, token_version, customer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    userByEmail: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE email_key = ?`),
    user: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`),
    usersOfTenant: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = ? ORDER BY created_at, id`),
    updateUser: db.prepare('UPDATE users SET role = ?, disabled = ?, password_hash = ?, token_version = ? WHERE id = ?'),
    deleteUser: db.prepare('DELETE FROM users WHERE id = ?'),
    userExists: db.prepare('SELECT 1 FROM users WHERE id = ?').pluck(),
    insertKey: db.prepare('INSERT INTO api_keys (id, user_id, name, key_hash, created_at, expires_at, role) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    keyByHash: db.prepare<[string], ApiKeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE key_hash = ?`),
    keysOfUser: db.prepare<[string], ApiKeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE user_id = ? ORDER BY created_at, id`),
    deleteKey: db.prepare('DELETE FROM api_keys WHERE id = ? AND user_id = ?'),
    deleteKeysOfUser: db.prepare('DELETE FROM api_keys WHERE user_id = ?'),
    deleteIdentitiesOfUser: db.prepare('DELETE FROM user_identities WHERE user_id = ?'),
    deleteTotpOfUser: db.prepare('DELETE FROM user_totp WHERE user_id = ?'),
    getSetting: db.prepare<[string], string>('SELECT value FROM settings WHERE name = ?').pluck(),
    putSetting: db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
  };

  // The keys go explicitly (the foreign key cascades too, but only while foreign_keys is on).
  const deleteUserTx = db.transaction((id: string): boolean => {
    s.deleteKeysOfUser.run(id);
    s.deleteIdentitiesOfUser.run(id);
    s.deleteTotpOfUser.run(id);
    return s.deleteUser.run(id).changes > 0;
  });

  return {
    async countUsers(): Promise<number> {
      return s.count.get() as number;
    },

    async insertUser(user: User): Promise<void> {
      const u = makeUser(user);
      if (!s.tenantExists.get(u.tenantId)) throw tenantNotFound(u.tenantId);
      try {
        s.insertUser.run(u.id, u.tenantId, u.email, emailKey(u.email), u.passwordHash, u.role, u.createdAt, u.disabled ? 1 : 0, u.tokenVersion, u.customerId ?? null);
      } catch (err) {
        if (isUniqueViolation(err, 'users.id')) throw new PlatformError('CONFLICT', `user ${u.id}`, { cause: err });
        if (isUniqueViolation(err, 'users.email_key')) throw new PlatformError('CONFLICT', `user ${u.email}`, { cause: err });
        throw err;
      }
    },

    async findUserByEmail(email: string): Promise<User | undefined> {
      const r = s.userByEmail.get(emailKey(email));
      return r && toUser(r);
    },

    async getUser(id: string): Promise<User | undefined> {
      const r = s.user.get(id);
      return r && toUser(r);
    },

    async listUsers(tenantId: string): Promise<User[]> {
      return s.usersOfTenant.all(tenantId).map(toUser);
    },

    async updateUser(id: string, patch: UserPatch): Promise<User | undefined> {
      const r = s.user.get(id);
      if (!r) return undefined;
      const updated = makeUser({ ...toUser(r), ...patch });
      s.updateUser.run(updated.role, updated.disabled ? 1 : 0, updated.passwordHash, updated.tokenVersion, id);
      return updated;
    },

    async deleteUser(id: string): Promise<boolean> {
      return deleteUserTx(id);
    },

    async insertApiKey(key: ApiKey): Promise<void> {
      const k = makeApiKey(key);
      if (!s.userExists.get(k.userId)) throw userNotFound(k.userId);
      try {
        s.insertKey.run(k.id, k.userId, k.name, k.keyHash, k.createdAt, k.expiresAt ?? null, k.role ?? null);
      } catch (err) {
        if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `api key ${k.id}`, { cause: err });
        throw err;
      }
    },

    async findApiKey(keyHash: string): Promise<ApiKey | undefined> {
      const r = s.keyByHash.get(keyHash);
      return r && toApiKey(r);
    },

    async listApiKeys(userId: string): Promise<ApiKey[]> {
      return s.keysOfUser.all(userId).map(toApiKey);
    },

    async deleteApiKey(userId: string, keyId: string): Promise<boolean> {
      return s.deleteKey.run(keyId, userId).changes > 0;
    },

    async getSetting(name: string): Promise<string | undefined> {
      return s.getSetting.get(name);
    },

    async putSetting(name: string, value: string): Promise<void> {
      s.putSetting.run(name, value);
    },
  };
}
