/**
 * Integrations over REST (issue 18): `GET/POST /integrations`, `GET/DELETE /integrations/:id`,
 * scoped to the caller's tenant. Admins create and delete (roles.ts: every write is admin-only
 * unless listed); operators read. Secrets in a config (passwords, private keys, tokens) are
 * never answered: `secretsSet` says which are set.
 */
import { Type, type Static } from '@sinclair/typebox';
import { EXPORT_EVENTS, INTEGRATION_TYPES } from '../domain/integrations.js';
import type { IntegrationService, IntegrationView } from '../services/integrations/service.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['integrations'];

const FilterSchema = Type.Object(
  {
    events: Type.Optional(Type.Array(Type.Union(EXPORT_EVENTS.map((e) => Type.Literal(e))), { maxItems: EXPORT_EVENTS.length })),
    devices: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000, description: 'device ids' })),
    profiles: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 1000, description: 'device profile ids' })),
  },
  { additionalProperties: false },
);

const IntegrationBodySchema = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 32, description: `one of ${INTEGRATION_TYPES.join(', ')} (kafka: not built yet)` }),
    name: Type.String({ minLength: 1, maxLength: 255 }),
    enabled: Type.Optional(Type.Boolean()),
    config: Type.Object({}, { additionalProperties: true, description: "the type's settings (docs/INTEGRATIONS.md)" }),
    filter: Type.Optional(FilterSchema),
  },
  { additionalProperties: false },
);

const IntegrationViewSchema = Type.Object(
  {
    id: Type.String(),
    type: Type.String(),
    name: Type.String(),
    enabled: Type.Boolean(),
    config: Type.Object({}, { additionalProperties: true, description: 'settings without secrets' }),
    secretsSet: Type.Array(Type.String(), { description: 'secret fields that are set (never shown)' }),
    filter: FilterSchema,
    createdAt: Type.Integer(),
    updatedAt: Type.Integer(),
    status: Type.Object({
      state: Type.String({ description: 'connecting, connected, disconnected or stopped' }),
      lastError: Type.Optional(Type.String()),
      lastErrorAt: Type.Optional(Type.Integer()),
      sent: Type.Integer(),
      dropped: Type.Integer(),
      received: Type.Integer(),
      rejected: Type.Integer(),
      backlog: Type.Integer({ description: 'records waiting for the remote' }),
      lagMs: Type.Integer({ description: 'age of the oldest waiting record' }),
    }),
  },
  { title: 'Integration' },
);

function view(v: IntegrationView): Static<typeof IntegrationViewSchema> {
  const { tenantId: _tenant, ...rest } = v;
  return { ...rest, filter: { ...rest.filter } as Static<typeof FilterSchema>, status: { ...rest.status, lagMs: Math.round(rest.status.lagMs) } };
}

export const integrationRoutes: ApiPlugin<{ integrations: Pick<IntegrationService, 'list' | 'get' | 'create' | 'remove'> }> = async (app, opts) => {
  const integrations = opts.integrations;

  app.get('/integrations', { schema: { tags, operationId: 'listIntegrations', summary: "The tenant's integrations with their status", response: { 200: Type.Object({ items: Type.Array(IntegrationViewSchema) }), ...errorResponses } } }, async (request) => ({
    items: (await integrations.list(principalOf(request).tenantId)).map(view),
  }));

  app.post(
    '/integrations',
    { schema: { tags, operationId: 'createIntegration', summary: 'Create an integration (admin); it starts at once when enabled', body: IntegrationBodySchema, response: { 201: IntegrationViewSchema, ...errorResponses } } },
    async (request, reply) => reply.code(201).send(view(await integrations.create(principalOf(request).tenantId, request.body))),
  );

  app.get('/integrations/:id', { schema: { tags, operationId: 'getIntegration', summary: 'One integration: status, backlog, lag and last error', params: IdParams, response: { 200: IntegrationViewSchema, ...errorResponses } } }, async (request) =>
    view(await integrations.get(principalOf(request).tenantId, request.params.id)),
  );

  app.delete('/integrations/:id', { schema: { tags, operationId: 'deleteIntegration', summary: 'Stop and delete an integration and its buffer (admin)', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } }, async (request, reply) => {
    await integrations.remove(principalOf(request).tenantId, request.params.id);
    return reply.code(204).send(null);
  });
};
