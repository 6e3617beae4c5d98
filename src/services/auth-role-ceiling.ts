/**
 * Which role may hand out which (API keys, OIDC mapping): the built-in roles of issue 15 ranked,
 * with the legacy names read as their successors ('admin' = tenant-admin, 'user' = operator).
 * A customer user is not below a viewer but beside the chain: it sees only its customer's
 * things, so it may hold (and mint) only its own kind, and no one else may mint it (a key of that
 * role would have no customer).
 */
import type { Role } from '../ports.js';

export type CanonicalRole = 'sysadmin' | 'tenant-admin' | 'operator' | 'viewer' | 'customer-user';

const CANONICAL: Readonly<Record<Role, CanonicalRole>> = {
  sysadmin: 'sysadmin',
  'tenant-admin': 'tenant-admin',
  admin: 'tenant-admin',
  operator: 'operator',
  user: 'operator',
  viewer: 'viewer',
  'customer-user': 'customer-user',
};

const RANK: Readonly<Record<Exclude<CanonicalRole, 'customer-user'>, number>> = { sysadmin: 4, 'tenant-admin': 3, operator: 2, viewer: 1 };

/** Every name a client may send, legacy ones included. */
export const ROLE_NAMES = Object.keys(CANONICAL) as Role[];

export function parseRole(name: string): Role | undefined {
  return Object.hasOwn(CANONICAL, name) ? (name as Role) : undefined;
}

export function canonicalRole(role: Role): CanonicalRole {
  return CANONICAL[role];
}

/** True when someone holding `holder` may grant `wanted` (equal or below it). */
export function roleCovers(holder: Role, wanted: Role): boolean {
  const h = CANONICAL[holder];
  const w = CANONICAL[wanted];
  if (h === 'customer-user' || w === 'customer-user') return h === w;
  return RANK[h] >= RANK[w];
}

/** The higher of two roles of the ranked chain (a customer user ranks lowest here: it is the narrowest view). */
export function higherRole(a: Role, b: Role): Role {
  const rank = (r: Role): number => (CANONICAL[r] === 'customer-user' ? 0 : RANK[CANONICAL[r] as Exclude<CanonicalRole, 'customer-user'>]);
  return rank(b) > rank(a) ? b : a;
}
