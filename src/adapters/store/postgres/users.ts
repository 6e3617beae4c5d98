/** Users (unique case-insensitive emails), their API keys, and small persistent settings. */
import type pg from 'pg';
import { PlatformError } from '../../../domain/errors.js';
import type { ApiKey, User, UserPatch, UserStore } from '../../../ports.js';
import { emailKey, makeApiKey, makeUser, tenantNotFound, userNotFound } from '../shared.js';
import { KEY_COLUMNS, USER_COLUMNS, toApiKey, toUser, type ApiKeyRow, type UserRow } from '../rows/users.js';
import { all, isForeignKeyViolation, isUniqueViolation, one, run } from './db.js';

export function createPgUsers(pool: pg.Pool): UserStore {
  const getUser = async (id: string): Promise<User | undefined> => {
    const r = await one<UserRow>(pool, `SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
    return r && toUser(r);
  };
  return {
    async countUsers(): Promise<number> {
      return (await one<{ n: number }>(pool, 'SELECT count(*) AS n FROM users'))?.n ?? 0;
    },

    async insertUser(user: User): Promise<void> {
      const u = makeUser(user);
      try {
        await pool.query(
          `INSERT INTO users (id, tenant_id, email, email_key, password_hash, role, created_at, disabled, token_version, customer_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [u.id, u.tenantId, u.email, emailKey(u.email), u.passwordHash, u.role, u.createdAt, u.disabled, u.tokenVersion, u.customerId ?? null],
        );
      } catch (err) {
        if (isForeignKeyViolation(err)) throw tenantNotFound(u.tenantId);
        if (isUniqueViolation(err, 'users_pkey')) throw new PlatformError('CONFLICT', `user ${u.id}`, { cause: err });
        if (isUniqueViolation(err, 'users_email')) throw new PlatformError('CONFLICT', `user ${u.email}`, { cause: err });
        throw err;
      }
    },

    async findUserByEmail(email: string): Promise<User | undefined> {
      const r = await one<UserRow>(pool, `SELECT ${USER_COLUMNS} FROM users WHERE email_key = $1`, [emailKey(email)]);
      return r && toUser(r);
    },

    getUser,

    async listUsers(tenantId: string): Promise<User[]> {
      return (await all<UserRow>(pool, `SELECT ${USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY created_at, id COLLATE "C"`, [tenantId])).map(toUser);
    },

    async updateUser(id: string, patch: UserPatch): Promise<User | undefined> {
      // One statement: absent fields keep their value (COALESCE over NULL parameters).
      const r = await one<UserRow>(
        pool,
        `UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled), password_hash = COALESCE($4, password_hash),
           token_version = COALESCE($5, token_version)
         WHERE id = $1 RETURNING ${USER_COLUMNS}`,
        [id, patch.role ?? null, patch.disabled ?? null, patch.passwordHash ?? null, patch.tokenVersion ?? null],
      );
      return r && toUser(r);
    },

    async deleteUser(id: string): Promise<boolean> {
      // API keys, OIDC identities and the TOTP enrolment go by ON DELETE CASCADE.
      return (await run(pool, 'DELETE FROM users WHERE id = $1', [id])) > 0;
    },

    async insertApiKey(key: ApiKey): Promise<void> {
      const k = makeApiKey(key);
      try {
        await pool.query(`INSERT INTO api_keys (${KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
          k.id, k.userId, k.name, k.keyHash, k.createdAt, k.expiresAt ?? null, k.role ?? null,
        ]);
      } catch (err) {
        if (isForeignKeyViolation(err)) throw userNotFound(k.userId);
        if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `api key ${k.id}`, { cause: err });
        throw err;
      }
    },

    async findApiKey(keyHash: string): Promise<ApiKey | undefined> {
      const r = await one<ApiKeyRow>(pool, `SELECT ${KEY_COLUMNS} FROM api_keys WHERE key_hash = $1`, [keyHash]);
      return r && toApiKey(r);
    },

    async listApiKeys(userId: string): Promise<ApiKey[]> {
      return (await all<ApiKeyRow>(pool, `SELECT ${KEY_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at, id COLLATE "C"`, [userId])).map(toApiKey);
    },

    async deleteApiKey(userId: string, keyId: string): Promise<boolean> {
      return (await run(pool, 'DELETE FROM api_keys WHERE id = $1 AND user_id = $2', [keyId, userId])) > 0;
    },

    async getSetting(name: string): Promise<string | undefined> {
      return (await one<{ value: string }>(pool, 'SELECT value FROM settings WHERE name = $1', [name]))?.value;
    },

    async putSetting(name: string, value: string): Promise<void> {
      await pool.query('INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, value]);
    },
  };
}
