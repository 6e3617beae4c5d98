/** Row shapes and mappers both SQL stores (postgres/, sqlite/) share: their columns have the same names. */
import type { Role } from '../../../domain/permissions.js';
import type { ApiKey, User } from '../../../ports.js';
import { makeApiKey, makeUser } from '../shared.js';

export interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  password_hash: string;
  role: string;
  created_at: number;
  /** PostgreSQL boolean, SQLite 0/1. */
  disabled: boolean | number;
  token_version: number;
  customer_id: string | null;
}

export interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  key_hash: string;
  created_at: number;
  expires_at: number | null;
  role: string | null;
}

export const USER_COLUMNS = 'id, tenant_id, email, password_hash, role, created_at, disabled, token_version, customer_id';
export const KEY_COLUMNS = 'id, user_id, name, key_hash, created_at, expires_at, role';

export const toUser = (r: UserRow): User =>
  makeUser({
    id: r.id,
    tenantId: r.tenant_id,
    email: r.email,
    passwordHash: r.password_hash,
    role: r.role as Role,
    createdAt: r.created_at,
    disabled: r.disabled !== false && r.disabled !== 0,
    tokenVersion: r.token_version,
    ...(r.customer_id !== null ? { customerId: r.customer_id } : {}),
  });

export const toApiKey = (r: ApiKeyRow): ApiKey =>
  makeApiKey({ id: r.id, userId: r.user_id, name: r.name, keyHash: r.key_hash, createdAt: r.created_at, ...(r.expires_at !== null ? { expiresAt: r.expires_at } : {}), ...(r.role !== null ? { role: r.role as Role } : {}) });
