/** Client, shared and server attributes: read all scopes, write shared/server, delete keys. */
import { Type } from '@sinclair/typebox';
import { ATTRIBUTE_SCOPES, type AttributeScope } from '../domain/device.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { errorResponses, splitList } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['attributes'];

const AnyScope = Type.Union([Type.Literal('client'), Type.Literal('shared'), Type.Literal('server')]);
/** Users write shared attributes (pushed to the device) and server attributes; the device owns client ones. */
const WritableScope = Type.Union([Type.Literal('shared'), Type.Literal('server')], {
  description: 'shared (pushed to the device) or server; client attributes are written by the device only',
});

const Entry = Type.Object({ value: Type.Unknown(), lastUpdateTs: Type.Integer() });
const ScopeMap = Type.Record(Type.String(), Entry);

export const attributeRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { registry, attributes } = deps;

  app.get(
    '/devices/:id/attributes',
    {
      schema: {
        tags,
        operationId: 'getDeviceAttributes', summary: 'Attributes by scope',
        params: Type.Object({ id: Type.String({ minLength: 1 }) }),
        querystring: Type.Object({
          scope: Type.Optional(AnyScope),
          keys: Type.Optional(Type.String({ description: 'comma-separated keys; absent = all' })),
        }),
        response: {
          200: Type.Object({ client: Type.Optional(ScopeMap), shared: Type.Optional(ScopeMap), server: Type.Optional(ScopeMap) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const device = await registry.requireDevice(request.params.id, principalOf(request).tenantId);
      const scopes: readonly AttributeScope[] = request.query.scope ? [request.query.scope] : ATTRIBUTE_SCOPES;
      const keys = splitList(request.query.keys);
      const out: Partial<Record<AttributeScope, Record<string, { value: JsonValue; lastUpdateTs: number }>>> = {};
      await Promise.all(
        scopes.map(async (scope) => {
          const entries = await attributes.get(device.id, scope, keys);
          out[scope] = Object.fromEntries(entries.map((e) => [e.key, { value: e.value, lastUpdateTs: e.lastUpdateTs }]));
        }),
      );
      return out;
    },
  );

  app.post(
    '/devices/:id/attributes/:scope',
    {
      schema: {
        tags,
        operationId: 'setDeviceAttributes', summary: 'Set attributes; shared ones are pushed to the device',
        params: Type.Object({ id: Type.String({ minLength: 1 }), scope: WritableScope }),
        body: Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.Unknown(), { minProperties: 1 }),
        response: { 200: Type.Object({}), ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const device = await registry.requireDevice(request.params.id, tenantId);
      await attributes.set(tenantId, device.id, request.params.scope, request.body as Record<string, JsonValue>);
      return {};
    },
  );

  app.delete(
    '/devices/:id/attributes/:scope',
    {
      schema: {
        tags,
        operationId: 'deleteDeviceAttributes', summary: 'Delete attribute keys',
        params: Type.Object({ id: Type.String({ minLength: 1 }), scope: WritableScope }),
        querystring: Type.Object({ keys: Type.String({ minLength: 1, description: 'comma-separated keys' }) }),
        response: { 200: Type.Object({}), ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const device = await registry.requireDevice(request.params.id, tenantId);
      await attributes.remove(tenantId, device.id, request.params.scope, splitList(request.query.keys) ?? []);
      return {};
    },
  );
};
