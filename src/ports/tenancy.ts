/** Tenants (created, suspended, deleted by the system administrator) and custom roles, in the Store. */
import type { Permission } from '../domain/permissions.js';

export type TenantStatus = 'active' | 'suspended';

export interface TenantRecord {
  readonly id: string;
  readonly name: string;
  /** A suspended tenant's users cannot sign in or call the API, its devices cannot connect. */
  readonly status: TenantStatus;
  readonly createdAt: number;
}

export interface TenantPatch {
  readonly name?: string;
  readonly status?: TenantStatus;
}

/** Where a custom role applies; stored now, enforced by customer/group scoping. */
export interface RoleScope {
  readonly customerId?: string;
  readonly groupId?: string;
}

/** A tenant's own role; users name it as `custom:<id>`. */
export interface CustomRole {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly permissions: readonly Permission[];
  readonly scope?: RoleScope;
  readonly createdAt: number;
}

export interface TenancyStore {
  /** All tenants, oldest first. */
  listTenants(): Promise<TenantRecord[]>;
  getTenant(id: string): Promise<TenantRecord | undefined>;
  /** CONFLICT when the id exists. */
  insertTenant(tenant: TenantRecord): Promise<void>;
  updateTenant(id: string, patch: TenantPatch): Promise<TenantRecord | undefined>;
  /**
   * Removes the tenant row, its roles and whatever tenant-scoped rows are left (alarms,
   * commands, OTA deployments). The caller deletes devices, users and the rest through their own
   * operations first; false when there was no such tenant.
   */
  deleteTenant(id: string): Promise<boolean>;
  /** The tenant's custom roles by name. */
  listRoles(tenantId: string): Promise<CustomRole[]>;
  getRole(id: string): Promise<CustomRole | undefined>;
  /** Inserts or replaces; CONFLICT when another role of the tenant has the name. */
  saveRole(role: CustomRole): Promise<void>;
  deleteRole(id: string): Promise<boolean>;
}
