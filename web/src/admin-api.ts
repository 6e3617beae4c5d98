/**
 * Shapes and calls of the operator tooling: users (GET/POST/PATCH/DELETE /api/users), the audit
 * log (GET /api/audit), and the caller's own password and API keys (/api/auth/...).
 */
import { api, del, get, post, query, renewSession, type Page } from './api.js';

export type Role = 'sysadmin' | 'tenant-admin' | 'operator' | 'viewer' | 'customer-user' | `custom:${string}`;

export interface User {
  id: string;
  email: string;
  role: Role;
  tenantId: string;
  customerId?: string;
  disabled: boolean;
  createdAt: number;
}

export interface AuditEntry {
  id: string;
  ts: number;
  actor: string;
  actorName: string | null;
  action: string;
  outcome: 'success' | 'failure' | 'denied';
  targetType: string | null;
  targetId: string | null;
  address: string | null;
  details?: unknown;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  outcome?: string;
  from?: number;
  to?: number;
  limit: number;
  offset: number;
}

export interface ApiKey {
  id: string;
  name: string;
  createdAt: number;
  expiresAt?: number;
  role?: string;
}

const userPath = (id: string): string => `/api/users/${encodeURIComponent(id)}`;

export const listUsers = (): Promise<User[]> => get('/api/users');
export const createUser = (body: { email: string; password: string; role: Role; customerId?: string }): Promise<User> => post('/api/users', body);
export const updateUser = (id: string, body: { role?: Role; disabled?: boolean; password?: string }): Promise<User> => api('PATCH', userPath(id), body);
export const deleteUser = (id: string): Promise<void> => del(userPath(id));

export const listAudit = (filter: AuditFilter): Promise<Page<AuditEntry>> => get(`/api/audit${query({ ...filter })}`);

export const listApiKeys = (): Promise<ApiKey[]> => get('/api/auth/api-keys');
export const createApiKey = (body: { name: string; expiresAt?: number; role?: string }): Promise<{ id: string; key: string; expiresAt?: number; role?: string }> => post('/api/auth/api-keys', body);
export const deleteApiKey = (id: string): Promise<void> => del(`/api/auth/api-keys/${encodeURIComponent(id)}`);

/** The server ends every other session and answers a new token, which replaces this tab's. */
export async function changeOwnPassword(currentPassword: string, newPassword: string): Promise<void> {
  const fresh = await post<{ token: string; expiresAt: number }>('/api/auth/password', { currentPassword, newPassword });
  renewSession(fresh.token, fresh.expiresAt);
}
