/**
 * A tenant's custom roles (permission roles:*, tenant admins): a name, a list of permissions
 * (resource:read|write|operate) and an optional scope {customerId?, groupId?}. A user gets one
 * with role `custom:<id>`.
 */
import { Type } from '@sinclair/typebox';
import type { CustomRole } from '../ports.js';
import type { RoleCatalog } from '../services/roles.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['roles'];

const ScopeSchema = Type.Object({ customerId: Type.Optional(Type.String({ maxLength: 64 })), groupId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });
const Permissions = Type.Array(Type.String({ pattern: '^[a-z-]+:(read|write|operate)$' }), { maxItems: 200 });

const CustomRoleSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  permissions: Type.Array(Type.String()),
  scope: Type.Optional(ScopeSchema),
  createdAt: Type.Integer(),
  /** What a user's role field says to get this role. */
  role: Type.String(),
});

const view = (r: CustomRole) => ({ ...r, permissions: [...r.permissions], ...(r.scope ? { scope: { ...r.scope } } : {}), role: `custom:${r.id}` });

export const customRoleRoutes: ApiPlugin<{ roles: RoleCatalog }> = async (app, { roles }) => {
  app.get('/roles', { schema: { tags, operationId: 'listRoles', summary: "The tenant's custom roles by name", response: { 200: Type.Array(CustomRoleSchema), ...errorResponses } } }, async (request) =>
    (await roles.list(principalOf(request).tenantId)).map(view),
  );

  app.post(
    '/roles',
    {
      schema: {
        tags,
        operationId: 'createRole', summary: 'Create a custom role; give it to a user as role custom:<id>',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), permissions: Permissions, scope: Type.Optional(ScopeSchema) }, { additionalProperties: false }),
        response: { 201: CustomRoleSchema, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(view(await roles.create(principalOf(request).tenantId, request.body))),
  );

  app.get('/roles/:id', { schema: { tags, operationId: 'getRole', summary: 'One custom role', params: IdParams, response: { 200: CustomRoleSchema, ...errorResponses } } }, async (request) =>
    view(await roles.get(principalOf(request).tenantId, request.params.id)),
  );

  app.patch(
    '/roles/:id',
    {
      schema: {
        tags,
        operationId: 'updateRole', summary: 'Change a custom role (its users get the new permissions within a second)',
        params: IdParams,
        body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), permissions: Type.Optional(Permissions), scope: Type.Optional(ScopeSchema) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: CustomRoleSchema, ...errorResponses },
      },
    },
    async (request) => view(await roles.update(principalOf(request).tenantId, request.params.id, request.body)),
  );

  app.delete('/roles/:id', { schema: { tags, operationId: 'deleteRole', summary: 'Delete a custom role (its users keep the name and get no permission)', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } }, async (request, reply) => {
    await roles.remove(principalOf(request).tenantId, request.params.id);
    return reply.code(204).send(null);
  });
};
