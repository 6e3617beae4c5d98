/**
 * Customers of a tenant (issue 15): a tree (sub-customers) at most MAX_CUSTOMER_DEPTH deep. A
 * customer's users see the devices and dashboards assigned to it or to any customer below it.
 */
import type { Device } from './device.js';
import { PlatformError } from './errors.js';

export interface Customer {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly parentId?: string;
  readonly createdAt: number;
}

/** A root customer has depth 1; its children 2; … */
export const MAX_CUSTOMER_DEPTH = 5;

/**
 * What a caller may see: the tenant, and for a customer user the customer and its descendants.
 * `customerIds` absent = the whole tenant (every role but customer-user): that path costs nothing.
 * `deviceIds` present = a custom role scoped to a device group: only the group's members (resolved
 * when the scope is built), on top of any customer restriction (both must hold).
 */
export interface AccessScope {
  readonly tenantId: string;
  readonly customerIds?: ReadonlySet<string>;
  readonly deviceIds?: ReadonlySet<string>;
}

/** True when the scope narrows the tenant at all (lists then need a filter, streams a per-message check). */
export function isNarrowed(scope: AccessScope): boolean {
  return scope.customerIds !== undefined || scope.deviceIds !== undefined;
}

/** True when the device is in the scope; the one test every device read and write goes through. */
export function canSeeDevice(scope: AccessScope, device: Pick<Device, 'id' | 'tenantId' | 'customerId'>): boolean {
  if (!canSeeAssigned(scope, device)) return false;
  return scope.deviceIds === undefined || scope.deviceIds.has(device.id);
}

/**
 * The tenant and customer part of the test, for anything assigned to a customer (dashboards). A
 * group scope does not apply here: a dashboard belongs to no group, and its data is read through
 * the device routes, which check the group.
 */
export function canSeeAssigned(scope: AccessScope, item: { readonly tenantId: string; readonly customerId?: string }): boolean {
  if (item.tenantId !== scope.tenantId) return false;
  if (scope.customerIds === undefined) return true;
  return item.customerId !== undefined && scope.customerIds.has(item.customerId);
}

/** The customer and every customer below it, among `all` (one tenant's customers). */
export function descendantsOf(all: readonly Customer[], rootId: string): Set<string> {
  const children = new Map<string, string[]>();
  for (const c of all) {
    if (c.parentId === undefined) continue;
    const list = children.get(c.parentId) ?? [];
    list.push(c.id);
    children.set(c.parentId, list);
  }
  const found = new Set<string>([rootId]);
  const queue = [rootId];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop() as string) ?? []) {
      if (!found.has(child)) {
        found.add(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** How deep the customer sits (root = 1), walking parents; a cycle is reported as an error. */
export function depthOf(byId: ReadonlyMap<string, Customer>, id: string): number {
  let depth = 0;
  const seen = new Set<string>();
  for (let cur: string | undefined = id; cur !== undefined; cur = byId.get(cur)?.parentId) {
    if (seen.has(cur)) throw new PlatformError('BAD_REQUEST', 'customer parents form a cycle');
    seen.add(cur);
    depth += 1;
  }
  return depth;
}

/** The height of the subtree under `id` (a leaf = 1). */
export function subtreeHeight(all: readonly Customer[], id: string): number {
  const kids = all.filter((c) => c.parentId === id);
  return 1 + kids.reduce((max, c) => Math.max(max, subtreeHeight(all, c.id)), 0);
}
