/**
 * User administration (admin only, enforced in roles.ts): GET/POST /api/users,
 * PATCH/DELETE /api/users/{id}. Answers never carry password hashes or token versions.
 */
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../domain/errors.js';
import { viewOf } from '../services/auth-users.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { errorResponses, IdParams } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['users'];

const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('user'), Type.Literal('customer-user')]);

export const UserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: Type.String(),
  tenantId: Type.String(),
  disabled: Type.Boolean(),
  createdAt: Type.Integer(),
  customerId: Type.Optional(Type.String()),
});

/** Matches the login route's bound; the password policy (≥ 12, ≤ 256 characters) gives the clearer message. */
export const PasswordField = Type.String({ minLength: 1, maxLength: 1024 });

export const userRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/users',
    {
      schema: {
        tags,
        summary: "The caller's tenant's users, oldest first (admin only)",
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
        summary:
          "Create a user in the caller's tenant (admin only): role admin, user (an operator: reads, commands, alarms, set points), " +
          'or customer-user with customerId (sees and operates only the devices and dashboards of that customer and its sub-customers). ' +
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
      const { tenantId } = principalOf(request);
      // The customer must be the caller's tenant's (404 otherwise, as for any id it may not see).
      if (b.customerId !== undefined && b.role === 'customer-user') {
        if (!deps.customers) throw new PlatformError('BAD_REQUEST', 'customers are not enabled');
        await deps.customers.get(tenantId, b.customerId);
      }
      const user = await deps.auth.users.create({
        email: b.email,
        password: b.password,
        role: b.role ?? 'user',
        tenantId,
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
        summary:
          'Change a user (admin only): role, disabled, password. Any change ends the sessions the user had (their tokens answer 401). ' +
          "The tenant's last enabled admin cannot be demoted or disabled (409).",
        params: IdParams,
        body: Type.Object({ role: Type.Optional(RoleSchema), disabled: Type.Optional(Type.Boolean()), password: Type.Optional(PasswordField) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: UserSchema, ...errorResponses },
      },
    },
    async (request) => {
      const user = await deps.auth.users.update(principalOf(request).tenantId, request.params.id, request.body);
      request.log.info({ userId: user.id, changed: Object.keys(request.body) }, 'user changed');
      return viewOf(user);
    },
  );

  app.delete(
    '/users/:id',
    {
      schema: {
        tags,
        summary: "Delete a user and its API keys (admin only); its tokens answer 401 from the next request. The tenant's last enabled admin cannot be deleted (409).",
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await deps.auth.users.remove(principalOf(request).tenantId, request.params.id);
      request.log.info({ userId: request.params.id }, 'user deleted');
      return reply.code(204).send(null);
    },
  );
};
