/** Row shapes and mappers both SQL stores (postgres/, sqlite/) share: their columns have the same names. */
import type { Customer } from '../../../domain/customers.js';
import type { DeviceGroup, GroupFilter } from '../../../domain/device-groups.js';

export interface CustomerRow {
  id: string;
  tenant_id: string;
  parent_id: string | null;
  name: string;
  created_at: number;
}

export interface GroupRow {
  id: string;
  tenant_id: string;
  name: string;
  filter: string | null;
  created_at: number;
}

export const toCustomer = (r: CustomerRow): Customer => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  ...(r.parent_id !== null ? { parentId: r.parent_id } : {}),
  createdAt: r.created_at,
});

export const toGroup = (r: GroupRow): DeviceGroup => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  ...(r.filter !== null ? { filter: JSON.parse(r.filter) as GroupFilter } : {}),
  createdAt: r.created_at,
});
