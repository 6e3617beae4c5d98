/**
 * User administration (permission users:*, enforced in roles.ts): GET/POST /api/users,
 * PATCH/DELETE /api/users/{id}. Answers never carry password hashes or token versions.
 */
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../domain/errors.js';
import { CUSTOM_ROLE_PREFIX, isCustomRole, type Role } from '../domain/permissions.js';
import { roleOf, viewOf } from '../services/auth-users.js';
import type { Principal } from '../services/auth.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { errorResponses, IdParams } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['users'];

/** Built-in roles, the legacy names (admin → tenant-admin, user → operator) and `custom:<roleId>`. */
export const RoleSchema = Type.String({
  pattern: '^(sysadmin|tenant-admin|operator|viewer|customer-user|admin|user|custom:[A-Za-z0-9-]{1,64})$',
  description: 'sysadmin | tenant-admin | operator | viewer | customer-user | custom:<roleId> (legacy: admin, user)',
});

/**
 * Whether the caller may hand out `value`: only the system administrator makes system
 * administrators, and a custom role must be one of the caller's tenant (else 404).
 */
export async function assignableRole(deps: ApiDeps, caller: Principal, tenantId: string, value: string): Promise<Role> {
  const role = roleOf(value);
  if (role === 'sysadmin' && caller.role !== 'sysadmin') throw new PlatformError('FORBIDDEN', 'only the system administrator may give the sysadmin role');
  if (isCustomRole(role)) await deps.auth.roles.get(tenantId, role.slice(CUSTOM_ROLE_PREFIX.length));
  return role;
}

/** A tenant admin may not change or delete the system administrator (who shares the default tenant). */
async function guardSysadmin(deps: ApiDeps, caller: Principal, id: string): Promise<void> {
  const target = await deps.auth.getUser(id);
  if (target?.tenantId === caller.tenantId && target.role === 'sysadmin' && caller.role !== 'sysadmin') {
    throw new PlatformError('FORBIDDEN', 'only the system administrator may change a sysadmin');
  }
}

export const UserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: Type.String(),
  tenantId: Type.String(),
  customerId: Type.Optional(Type.String()),
  disabled: Type.Boolean(),
  createdAt: Type.Integer(),
});

/** Matches the login route's bound; the password policy (≥ 12, ≤ 256 characters) gives the clearer message. */
export const PasswordField = Type.String({ minLength: 1, maxLength: 1024 });

export const userRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/users',
    {
      schema: {
        tags,
        operationId: 'listUsers', summary: "The caller's tenant's users, oldest first (users:read)",
        response: { 200: Type.Array(UserSchema), ...errorResponses },
      },
    },
    async (request) => (await deps.auth.users.list(principalOf(request).tenantId)).map(viewOf),
  );

  app.post(
    '/users',
    {
      schema: {
        tags,
        operationId: 'createUser', summary:
          "Create a user in the caller's tenant (users:write): role tenant-admin, operator (reads, commands, alarms, set points; the default), viewer (reads), customer-user, or custom:<roleId>; legacy admin/user are accepted. " +
          'A customer-user needs customerId (sees and operates only the devices and dashboards of that customer and its sub-customers). ' +
          'The password needs at least 12 characters, not one repeated character, not the e-mail address.',
        body: Type.Object(
          {
            email: Type.String({ minLength: 3, maxLength: 255 }),
            password: PasswordField,
            role: Type.Optional(RoleSchema),
            customerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'required for role customer-user, refused for others' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: UserSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const caller = principalOf(request);
      const role = await assignableRole(deps, caller, caller.tenantId, b.role ?? 'operator');
      // The customer must be the caller's tenant's (404 otherwise, as for any id it may not see).
      if (b.customerId !== undefined && role === 'customer-user') {
        if (!deps.customers) throw new PlatformError('BAD_REQUEST', 'customers are not enabled');
        await deps.customers.get(caller.tenantId, b.customerId);
      }
      const user = await deps.auth.users.create({
        email: b.email,
        password: b.password,
        role,
        tenantId: caller.tenantId,
        ...(b.customerId !== undefined ? { customerId: b.customerId } : {}),
      });
      request.log.info({ email: user.email, role: user.role }, 'user created');
      return reply.code(201).send(viewOf(user));
    },
  );

  app.patch(
    '/users/:id',
    {
      schema: {
        tags,
        operationId: 'updateUser', summary:
          'Change a user (users:write): role, disabled, password. Any change ends the sessions the user had (their tokens answer 401). ' +
          "The tenant's last enabled admin cannot be demoted or disabled (409).",
        params: IdParams,
        body: Type.Object({ role: Type.Optional(RoleSchema), disabled: Type.Optional(Type.Boolean()), password: Type.Optional(PasswordField) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: UserSchema, ...errorResponses },
      },
    },
    async (request) => {
      const caller = principalOf(request);
      await guardSysadmin(deps, caller, request.params.id);
      const role = request.body.role === undefined ? undefined : await assignableRole(deps, caller, caller.tenantId, request.body.role);
      const user = await deps.auth.users.update(caller.tenantId, request.params.id, { ...request.body, ...(role ? { role } : {}) });
      request.log.info({ userId: user.id, changed: Object.keys(request.body) }, 'user changed');
      return viewOf(user);
    },
  );

  app.delete(
    '/users/:id',
    {
      schema: {
        tags,
        operationId: 'deleteUser', summary: "Delete a user and its API keys (users:write); its tokens answer 401 from the next request. The tenant's last enabled admin cannot be deleted (409).",
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await guardSysadmin(deps, principalOf(request), request.params.id);
      await deps.auth.users.remove(principalOf(request).tenantId, request.params.id);
      request.log.info({ userId: request.params.id }, 'user deleted');
      return reply.code(204).send(null);
    },
  );
};
