/** Users, their API keys and settings in Maps, with the SQLite store's answers and errors. */
import { PlatformError } from '../../../domain/errors.js';
import type { ApiKey, CustomerStore, User, UserPatch, UserStore } from '../../../ports.js';
import { checkInt, compareBinary, emailKey, makeApiKey, makeUser, userNotFound } from '../shared.js';

const oldestFirst = (a: { createdAt: number; id: string }, b: { createdAt: number; id: string }): number =>
  a.createdAt - b.createdAt || compareBinary(a.id, b.id);

export function createMemoryUsers(
  tenantExists: (id: string) => boolean,
  tenantNotFound: (id: string) => Error,
): UserStore & Pick<CustomerStore, 'countCustomerUsers'> {
  const users = new Map<string, User>();
  const usersByEmail = new Map<string, string>();
  const apiKeys = new Map<string, ApiKey>();
  const apiKeysByHash = new Map<string, string>();
  const settings = new Map<string, string>();

  function removeKey(id: string): void {
    const key = apiKeys.get(id);
    if (!key) return;
    apiKeys.delete(id);
    apiKeysByHash.delete(key.keyHash);
  }

  return {
    async countUsers(): Promise<number> {
      return users.size;
    },

    async countCustomerUsers(customerId: string): Promise<number> {
      let n = 0;
      for (const u of users.values()) if (u.customerId === customerId) n += 1;
      return n;
    },

    async insertUser(user: User): Promise<void> {
      makeUser(user);
      if (!tenantExists(user.tenantId)) throw tenantNotFound(user.tenantId);
      if (users.has(user.id)) throw new PlatformError('CONFLICT', `user ${user.id}`);
      if (usersByEmail.has(emailKey(user.email))) throw new PlatformError('CONFLICT', `user ${user.email}`);
      users.set(user.id, makeUser(user));
      usersByEmail.set(emailKey(user.email), user.id);
    },

    async findUserByEmail(email: string): Promise<User | undefined> {
      const id = usersByEmail.get(emailKey(email));
      const u = id === undefined ? undefined : users.get(id);
      return u && makeUser(u);
    },

    async getUser(id: string): Promise<User | undefined> {
      const u = users.get(id);
      return u && makeUser(u);
    },

    async listUsers(tenantId: string): Promise<User[]> {
      return [...users.values()].filter((u) => u.tenantId === tenantId).sort(oldestFirst).map(makeUser);
    },

    async updateUser(id: string, patch: UserPatch): Promise<User | undefined> {
      const current = users.get(id);
      if (!current) return undefined;
      if (patch.tokenVersion !== undefined) checkInt(patch.tokenVersion, 'tokenVersion');
      const updated = makeUser({ ...current, ...patch });
      users.set(id, updated);
      return makeUser(updated);
    },

    async deleteUser(id: string): Promise<boolean> {
      const user = users.get(id);
      if (!user) return false;
      for (const key of [...apiKeys.values()]) if (key.userId === id) removeKey(key.id);
      users.delete(id);
      usersByEmail.delete(emailKey(user.email));
      return true;
    },

    async insertApiKey(key: ApiKey): Promise<void> {
      makeApiKey(key);
      if (!users.has(key.userId)) throw userNotFound(key.userId);
      if (apiKeys.has(key.id) || apiKeysByHash.has(key.keyHash)) throw new PlatformError('CONFLICT', `api key ${key.id}`);
      apiKeys.set(key.id, makeApiKey(key));
      apiKeysByHash.set(key.keyHash, key.id);
    },

    async findApiKey(keyHash: string): Promise<ApiKey | undefined> {
      const id = apiKeysByHash.get(keyHash);
      const k = id === undefined ? undefined : apiKeys.get(id);
      return k && makeApiKey(k);
    },

    async listApiKeys(userId: string): Promise<ApiKey[]> {
      return [...apiKeys.values()].filter((k) => k.userId === userId).sort(oldestFirst).map(makeApiKey);
    },

    async deleteApiKey(userId: string, keyId: string): Promise<boolean> {
      if (apiKeys.get(keyId)?.userId !== userId) return false;
      removeKey(keyId);
      return true;
    },

    async getSetting(name: string): Promise<string | undefined> {
      return settings.get(name);
    },

    async putSetting(name: string, value: string): Promise<void> {
      settings.set(name, value);
    },
  };
}
