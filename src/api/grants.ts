/**
 * Device-to-device MQTT grants over REST (issue 15): `GET/POST /grants`, `GET/DELETE /grants/:id`,
 * scoped to the caller's tenant (another tenant's grant answers 404). Tenant admins only, reads
 * included (roles.ts ADMIN_READS): a grant map says which devices can reach which. Every change is
 * recorded by the audit hook. Templates are checked on the way in (services/mqtt-grants.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { MqttGrant } from '../domain/mqtt-grants.js';
import type { MqttGrantService } from '../services/mqtt-grants.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['grants'];

const SubjectSchema = Type.Object(
  {
    deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'one device of the tenant' })),
    group: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'every device of the named group' })),
    all: Type.Optional(Type.Literal(true, { description: 'every device of the tenant' })),
  },
  { additionalProperties: false, description: 'exactly one of deviceId, group, all' },
);

const ActionsSchema = Type.Array(Type.Union([Type.Literal('publish'), Type.Literal('subscribe')]), { minItems: 1, maxItems: 2 });

const GrantBodySchema = Type.Object(
  {
    subject: SubjectSchema,
    actions: ActionsSchema,
    topic: Type.String({
      minLength: 1,
      maxLength: 1024,
      description: 'topic filter template; variables ${device.name}, ${device.id}, ${device.attr.KEY}, ${group:NAME} (docs/MQTT.md)',
    }),
  },
  { additionalProperties: false },
);

const GrantSchema = Type.Object(
  { id: Type.String(), subject: SubjectSchema, actions: ActionsSchema, topic: Type.String(), createdAt: Type.Integer() },
  { title: 'MqttGrant' },
);

function view(g: MqttGrant): Static<typeof GrantSchema> {
  return { id: g.id, subject: { ...g.subject }, actions: [...g.actions], topic: g.topic, createdAt: g.createdAt };
}

export const grantRoutes: ApiPlugin<{ grants: Pick<MqttGrantService, 'list' | 'get' | 'create' | 'remove'> }> = async (app, opts) => {
  const grants = opts.grants;

  app.get('/grants', { schema: { tags, operationId: 'listGrants', summary: "The tenant's device-to-device MQTT grants (admin)", response: { 200: Type.Object({ items: Type.Array(GrantSchema) }), ...errorResponses } } }, async (request) => ({
    items: (await grants.list(principalOf(request).tenantId)).map(view),
  }));

  app.post(
    '/grants',
    {
      schema: {
        tags,
        operationId: 'createGrant', summary: 'Grant devices publish/subscribe on a topic filter template (admin); live connections are recompiled',
        body: GrantBodySchema,
        response: { 201: GrantSchema, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(view(await grants.create(principalOf(request).tenantId, request.body))),
  );

  app.get('/grants/:id', { schema: { tags, operationId: 'getGrant', summary: 'One grant (admin)', params: IdParams, response: { 200: GrantSchema, ...errorResponses } } }, async (request) =>
    view(await grants.get(principalOf(request).tenantId, request.params.id)),
  );

  app.delete('/grants/:id', { schema: { tags, operationId: 'deleteGrant', summary: 'Delete a grant (admin); connections lose what it allowed at once', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } }, async (request, reply) => {
    await grants.remove(principalOf(request).tenantId, request.params.id);
    return reply.code(204).send(null);
  });
};
