/**
 * Tenants (permission tenants:*, the system administrator only): create, list, read, rename,
 * suspend/resume, delete with everything they own, and add a user to a tenant.
 */
import { Type } from '@sinclair/typebox';
import { viewOf } from '../services/auth-users.js';
import type { TenantService } from '../services/tenants.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';
import { PasswordField, RoleSchema, UserSchema } from './users.js';

const tags = ['tenants'];

const TenantSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('suspended')]),
  createdAt: Type.Integer(),
});

export const tenantRoutes: ApiPlugin<{ tenants: TenantService }> = async (app, { tenants }) => {
  app.post(
    '/tenants',
    {
      schema: {
        tags,
        operationId: 'createTenant', summary: 'Create a tenant (sysadmin)',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false }),
        response: { 201: TenantSchema, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(await tenants.create(request.body.name)),
  );

  app.get('/tenants', { schema: { tags, operationId: 'listTenants', summary: 'Every tenant, oldest first (sysadmin)', response: { 200: Type.Array(TenantSchema), ...errorResponses } } }, async () => tenants.list());

  app.get(
    '/tenants/:id',
    { schema: { tags, operationId: 'getTenant', summary: 'One tenant (sysadmin)', params: IdParams, response: { 200: TenantSchema, ...errorResponses } } },
    async (request) => tenants.get(request.params.id),
  );

  app.patch(
    '/tenants/:id',
    {
      schema: {
        tags,
        operationId: 'updateTenant', summary: "Rename, suspend or resume a tenant (sysadmin). A suspended tenant's users cannot sign in or call the API and its devices are refused at connect.",
        params: IdParams,
        body: Type.Object(
          { name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })), status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('suspended')])) },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: TenantSchema, ...errorResponses },
      },
    },
    async (request) => tenants.update(request.params.id, request.body),
  );

  app.delete(
    '/tenants/:id',
    {
      schema: {
        tags,
        operationId: 'deleteTenant', summary: 'Delete a tenant and everything it owns: devices and their data, profiles, rules, dashboards, alarms, commands, users and API keys, integrations, OTA (sysadmin; not the default tenant)',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await tenants.remove(request.params.id);
      request.log.info({ tenantId: request.params.id }, 'tenant deleted');
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/tenants/:id/users',
    {
      schema: {
        tags,
        operationId: 'createTenantUser', summary: 'Create a user in a tenant (sysadmin), typically its first tenant-admin',
        params: IdParams,
        body: Type.Object({ email: Type.String({ minLength: 3, maxLength: 255 }), password: PasswordField, role: Type.Optional(RoleSchema) }, { additionalProperties: false }),
        response: { 201: UserSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const user = await tenants.addUser(request.params.id, { email: b.email, password: b.password, role: b.role ?? 'tenant-admin' });
      return reply.code(201).send(viewOf(user));
    },
  );
};
