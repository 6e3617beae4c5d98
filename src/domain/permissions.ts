/**
 * Who may do what: permissions are resource × action, and a role is a set of permissions.
 * The built-in roles are fixed here; custom roles (stored per tenant, `custom:<roleId>` in a
 * user's role) list permissions from the same vocabulary. Pure: the API's route table
 * (src/api/route-permissions.ts) names one permission per route and asks `allows`.
 */

export const RESOURCES = [
  'devices',
  'credentials',
  'profiles',
  'rules',
  'dashboards',
  'alarms',
  'commands',
  'attributes',
  'telemetry',
  'users',
  'api-keys',
  'audit',
  'edge-config',
  'integrations',
  'ota',
  'tenants',
  'customers',
  'groups',
  'grants',
  'roles',
  'settings',
  'metrics',
] as const;
export type Resource = (typeof RESOURCES)[number];

/**
 * Resources that span every tenant: tenants themselves, and the process metrics (their labels
 * name every tenant's ids). Only the system administrator holds them; no tenant admin, no custom
 * role (the isolation matrix found /metrics readable by a tenant admin).
 */
export const PLATFORM_RESOURCES: ReadonlySet<Resource> = new Set(['tenants', 'metrics']);

/** Whether the permission is on a platform-wide resource (PLATFORM_RESOURCES). */
export function isPlatformPermission(permission: string): boolean {
  return PLATFORM_RESOURCES.has(permission.split(':')[0] as Resource);
}

/**
 * What a custom role scoped to a customer or a group may hold: the resources whose every route is
 * narrowed by the scope (api/access.ts checks the device behind each id and filters lists).
 * Everything else (rules, profiles, groups, users, OTA, integrations, …) spans the tenant: a
 * scoped role holding it would reach past its scope (a group-scoped role with `groups:operate`
 * could send bulk commands to other groups' devices). Dashboards are narrowed by a customer
 * scope only (a dashboard belongs to no group).
 */
export function scopedRoleAllows(permission: Permission, scope: { readonly customerId?: string; readonly groupId?: string }): boolean {
  const resource = permission.split(':')[0] as Resource;
  if (DEVICE_SCOPED_RESOURCES.has(resource)) return true;
  return resource === 'dashboards' && scope.customerId !== undefined;
}

const DEVICE_SCOPED_RESOURCES: ReadonlySet<Resource> = new Set(['devices', 'credentials', 'telemetry', 'attributes', 'alarms', 'commands']);

/** read: see it; operate: run it (commands, alarm ack, set points, rule checks); write: configure it. */
export const ACTIONS = ['read', 'write', 'operate'] as const;
export type Action = (typeof ACTIONS)[number];

export type Permission = `${Resource}:${Action}`;

export const BUILTIN_ROLES = ['sysadmin', 'tenant-admin', 'operator', 'viewer', 'customer-user'] as const;
export type BuiltinRole = (typeof BUILTIN_ROLES)[number];

/** The stored form of a user's custom role: `custom:` and the role's id. */
export const CUSTOM_ROLE_PREFIX = 'custom:';
export type CustomRoleRef = `custom:${string}`;
export type Role = BuiltinRole | CustomRoleRef;

/** Inputs of earlier contracts, still accepted everywhere a role is given. */
const LEGACY_ROLES: Readonly<Record<string, BuiltinRole>> = { admin: 'tenant-admin', user: 'operator' };

const ALL_PERMISSIONS: readonly Permission[] = RESOURCES.flatMap((r) => ACTIONS.map((a): Permission => `${r}:${a}`));

export function isPermission(value: string): value is Permission {
  return (ALL_PERMISSIONS as readonly string[]).includes(value);
}

export function isBuiltinRole(value: string): value is BuiltinRole {
  return (BUILTIN_ROLES as readonly string[]).includes(value);
}

export function isCustomRole(value: string): value is CustomRoleRef {
  return value.startsWith(CUSTOM_ROLE_PREFIX) && value.length > CUSTOM_ROLE_PREFIX.length;
}

/** A role as given (new names, legacy 'admin'/'user', `custom:<id>`), or undefined when it is none. */
export function normalizeRole(value: string): Role | undefined {
  if (isBuiltinRole(value)) return value;
  const legacy = LEGACY_ROLES[value];
  if (legacy) return legacy;
  return isCustomRole(value) ? value : undefined;
}

/** Administrators of a tenant: the tenant keeps at least one enabled. */
export function isAdminRole(role: string): boolean {
  return role === 'sysadmin' || role === 'tenant-admin';
}

/** Reads a viewer may not make: secrets and other people's actions. */
const PRIVILEGED_READS: ReadonlySet<Resource> = new Set(['credentials', 'audit', 'users', 'edge-config', 'tenants', 'roles', 'settings', 'metrics', 'grants']);
const READS = RESOURCES.filter((r) => !PRIVILEGED_READS.has(r)).map((r): Permission => `${r}:read`);
/** Operating devices without configuring them: commands and RPC, alarm ack/clear, shared attributes, rule checks. */
const OPERATES: readonly Permission[] = ['commands:operate', 'alarms:operate', 'attributes:operate', 'rules:operate', 'groups:operate'];
/**
 * A customer user reaches only its devices and what hangs off them (telemetry, attributes, alarms,
 * commands) and its dashboards; which ids answer is decided by its scope (api/access.ts). Rules,
 * profiles, users, OTA, integrations, customers and groups are not its business.
 */
const CUSTOMER_USER: readonly Permission[] = [
  'devices:read',
  'telemetry:read',
  'attributes:read',
  'alarms:read',
  'commands:read',
  'dashboards:read',
  'commands:operate',
  'alarms:operate',
  'attributes:operate',
];

const BUILTIN_PERMISSIONS: Readonly<Record<BuiltinRole, ReadonlySet<Permission>>> = {
  sysadmin: new Set(ALL_PERMISSIONS),
  'tenant-admin': new Set(ALL_PERMISSIONS.filter((p) => !isPlatformPermission(p))),
  operator: new Set([...READS, ...OPERATES]),
  viewer: new Set(READS),
  // Its devices only: narrowed to the customer's assigned devices by its scope (api/access.ts).
  'customer-user': new Set(CUSTOMER_USER),
};

export function builtinPermissions(role: BuiltinRole): ReadonlySet<Permission> {
  return BUILTIN_PERMISSIONS[role];
}

/** Whether `granted` covers `needed`: write implies operate and read, operate implies read. */
export function allows(granted: ReadonlySet<Permission>, needed: Permission): boolean {
  if (granted.has(needed)) return true;
  const [resource, action] = needed.split(':') as [Resource, Action];
  if (action === 'read') return granted.has(`${resource}:operate`) || granted.has(`${resource}:write`);
  if (action === 'operate') return granted.has(`${resource}:write`);
  return false;
}
