/**
 * Which role may hand out which (API keys, OIDC mapping): the built-in roles of issue 15 ranked,
 * with the legacy names read as their successors ('admin' = tenant-admin, 'user' = operator;
 * domain/permissions.ts). A customer user is not below a viewer but beside the chain: it sees only
 * its customer's things, so it may hold (and mint) only its own kind, and no one else may mint it
 * (a key of that role would have no customer). A custom role (`custom:<id>`) is the tenant's own
 * permission list: its holder may mint only that same role, and only tenant admins (who define
 * such roles) may mint one for themselves.
 */
import { isCustomRole, normalizeRole, type BuiltinRole, type Role } from '../domain/permissions.js';

const RANK: Readonly<Record<Exclude<BuiltinRole, 'customer-user'>, number>> = { sysadmin: 4, 'tenant-admin': 3, operator: 2, viewer: 1 };

/** The name a role is stored by (legacy names give their successor). */
function canonical(role: Role): Role {
  return normalizeRole(role) ?? role;
}

function rankOf(role: Role): number | undefined {
  const r = canonical(role);
  if (isCustomRole(r) || r === 'customer-user') return undefined;
  return RANK[r];
}

/** True when someone holding `holder` may grant `wanted` (equal or below it). */
export function roleCovers(holder: Role, wanted: Role): boolean {
  const h = canonical(holder);
  const w = canonical(wanted);
  if (h === w) return true;
  if (isCustomRole(w)) return h === 'tenant-admin' || h === 'sysadmin';
  const hr = rankOf(h);
  const wr = rankOf(w);
  return hr !== undefined && wr !== undefined && hr >= wr;
}

/** The higher of two roles of the ranked chain (customer users and custom roles rank lowest: the narrowest views). */
export function higherRole(a: Role, b: Role): Role {
  return (rankOf(b) ?? 0) > (rankOf(a) ?? 0) ? b : a;
}
