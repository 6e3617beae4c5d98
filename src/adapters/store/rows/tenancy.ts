/** Row shapes and mappers both SQL stores (postgres/, sqlite/) share: their columns have the same names. */
import type { Permission } from '../../../domain/permissions.js';
import type { CustomRole, RoleScope, TenantRecord, TenantStatus } from '../../../ports.js';

export interface TenantRow {
  id: string;
  name: string;
  status: string;
  created_at: number;
}

export interface RoleRow {
  id: string;
  tenant_id: string;
  name: string;
  permissions: string;
  scope: string | null;
  created_at: number;
}

export const toTenant = (r: TenantRow): TenantRecord => ({ id: r.id, name: r.name, status: r.status as TenantStatus, createdAt: r.created_at });

export const toRole = (r: RoleRow): CustomRole => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  permissions: JSON.parse(r.permissions) as Permission[],
  ...(r.scope !== null ? { scope: JSON.parse(r.scope) as RoleScope } : {}),
  createdAt: r.created_at,
});
