/** Platform users, their API keys (stored as hashes) and small persistent settings. */
import { PlatformError } from '../../../domain/errors.js';
import type { ApiKey, Role, User, UserStore } from '../../../ports.js';
import { emailKey, makeApiKey, makeUser, tenantNotFound, userNotFound } from '../shared.js';
import { isUniqueViolation, type Db } from './sql.js';

interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  password_hash: string;
  role: string;
  created_at: number;
}

interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  key_hash: string;
  created_at: number;
}

const USER_COLUMNS = 'id, tenant_id, email, password_hash, role, created_at';
const KEY_COLUMNS = 'id, user_id, name, key_hash, created_at';

const toUser = (r: UserRow): User =>
  makeUser({ id: r.id, tenantId: r.tenant_id, email: r.email, passwordHash: r.password_hash, role: r.role as Role, createdAt: r.created_at });

const toApiKey = (r: ApiKeyRow): ApiKey => makeApiKey({ id: r.id, userId: r.user_id, name: r.name, keyHash: r.key_hash, createdAt: r.created_at });

export function createSqliteUsers(db: Db): UserStore {
  const s = {
    count: db.prepare<[], number>('SELECT count(*) FROM users').pluck(),
    tenantExists: db.prepare('SELECT 1 FROM tenants WHERE id = ?').pluck(),
    insertUser: db.prepare(
      `INSERT INTO users (id, tenant_id, email, email_key, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    userByEmail: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE email_key = ?`),
    user: db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`),
    userExists: db.prepare('SELECT 1 FROM users WHERE id = ?').pluck(),
    insertKey: db.prepare('INSERT INTO api_keys (id, user_id, name, key_hash, created_at) VALUES (?, ?, ?, ?, ?)'),
    keyByHash: db.prepare<[string], ApiKeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE key_hash = ?`),
    getSetting: db.prepare<[string], string>('SELECT value FROM settings WHERE name = ?').pluck(),
    putSetting: db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
  };

  return {
    async countUsers(): Promise<number> {
      return s.count.get() as number;
    },

    async insertUser(user: User): Promise<void> {
      const u = makeUser(user);
      if (!s.tenantExists.get(u.tenantId)) throw tenantNotFound(u.tenantId);
      try {
        s.insertUser.run(u.id, u.tenantId, u.email, emailKey(u.email), u.passwordHash, u.role, u.createdAt);
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

    async insertApiKey(key: ApiKey): Promise<void> {
      const k = makeApiKey(key);
      if (!s.userExists.get(k.userId)) throw userNotFound(k.userId);
      try {
        s.insertKey.run(k.id, k.userId, k.name, k.keyHash, k.createdAt);
      } catch (err) {
        if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `api key ${k.id}`, { cause: err });
        throw err;
      }
    },

    async findApiKey(keyHash: string): Promise<ApiKey | undefined> {
      const r = s.keyByHash.get(keyHash);
      return r && toApiKey(r);
    },

    async getSetting(name: string): Promise<string | undefined> {
      return s.getSetting.get(name);
    },

    async putSetting(name: string, value: string): Promise<void> {
      s.putSetting.run(name, value);
    },
  };
}
