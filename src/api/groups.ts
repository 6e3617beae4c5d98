/**
 * Device groups over REST (issue 15): CRUD and static members (tenant-admin), resolved members
 * (static ∪ attribute filter), and bulk actions (operator: one command per member, shared
 * attributes on every member). An id of another tenant answers 404.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { DeviceGroup, GroupFilter } from '../domain/device-groups.js';
import { MAX_GROUP_CONDITIONS } from '../domain/device-groups.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { DeviceGroupService } from '../services/device-groups.js';
import { principalOf } from './principal.js';
import { deviceView, DeviceView, errorResponses, IdParams, ref } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['groups'];
const Id = Type.String({ minLength: 1, maxLength: 64 });

/** `{all: [{scope, key, equals}]}`: every condition must hold (compiled with the route, checked at the boundary). */
export const GroupFilterSchema = Type.Object(
  {
    all: Type.Array(
      Type.Object(
        {
          scope: Type.Union([Type.Literal('server'), Type.Literal('shared'), Type.Literal('client')]),
          key: Type.String({ minLength: 1, maxLength: 255 }),
          equals: Type.Unknown({ description: 'JSON value the attribute must equal' }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_GROUP_CONDITIONS },
    ),
  },
  { additionalProperties: false, title: 'GroupFilter' },
);

const GroupView = Type.Object(
  { id: Type.String(), name: Type.String(), filter: Type.Optional(GroupFilterSchema), createdAt: Type.Integer() },
  { title: 'DeviceGroup' },
);

const toFilter = (f: Static<typeof GroupFilterSchema>): GroupFilter => f as GroupFilter;
const view = (g: DeviceGroup): Static<typeof GroupView> => ({ id: g.id, name: g.name, ...(g.filter ? { filter: g.filter as Static<typeof GroupFilterSchema> } : {}), createdAt: g.createdAt });

export const groupRoutes: ApiPlugin<{ groups: DeviceGroupService }> = async (app, { groups }) => {
  const tenant = (request: Parameters<typeof principalOf>[0]): string => principalOf(request).tenantId;

  app.post(
    '/groups',
    {
      schema: {
        tags,
        operationId: 'createGroup', summary: 'Create a device group: static members (added later) and/or a filter on attributes',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }), filter: Type.Optional(GroupFilterSchema) }, { additionalProperties: false }),
        response: { 201: GroupView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const b = request.body;
      return reply.code(201).send(view(await groups.create(tenant(request), { name: b.name, ...(b.filter ? { filter: toFilter(b.filter) } : {}) })));
    },
  );

  app.get('/groups', { schema: { tags, operationId: 'listGroups', summary: "The tenant's device groups by name", response: { 200: Type.Object({ items: Type.Array(GroupView) }), ...errorResponses } } }, async (request) => ({
    items: (await groups.list(tenant(request))).map(view),
  }));

  app.get('/groups/:id', { schema: { tags, operationId: 'getGroup', summary: 'One device group', params: IdParams, response: { 200: GroupView, ...errorResponses } } }, async (request) =>
    view(await groups.get(tenant(request), request.params.id)),
  );

  app.patch(
    '/groups/:id',
    {
      schema: {
        tags,
        operationId: 'updateGroup', summary: 'Rename a group or replace its filter (null: static members only)',
        params: IdParams,
        body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })), filter: Type.Optional(Type.Union([GroupFilterSchema, Type.Null()])) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: GroupView, ...errorResponses },
      },
    },
    async (request) => {
      const b = request.body;
      return view(
        await groups.update(tenant(request), request.params.id, {
          ...(b.name !== undefined ? { name: b.name } : {}),
          ...(b.filter !== undefined ? { filter: b.filter === null ? null : toFilter(b.filter) } : {}),
        }),
      );
    },
  );

  app.delete('/groups/:id', { schema: { tags, operationId: 'deleteGroup', summary: 'Delete a group (its devices stay)', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } }, async (request, reply) => {
    await groups.remove(tenant(request), request.params.id);
    return reply.code(204).send(null);
  });

  app.post(
    '/groups/:id/devices',
    {
      schema: {
        tags,
        operationId: 'addGroupDevices', summary: 'Add static members; every id must be a device of the tenant (404 naming it)',
        params: IdParams,
        body: Type.Object({ deviceIds: Type.Array(Id, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await groups.addMembers(tenant(request), request.params.id, request.body.deviceIds);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/groups/:id/devices/:deviceId',
    { schema: { tags, operationId: 'removeGroupDevice', summary: 'Remove a static member', params: Type.Object({ id: Id, deviceId: Id }), response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await groups.removeMember(tenant(request), request.params.id, request.params.deviceId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/groups/:id/devices',
    { schema: { tags, operationId: 'listGroupDevices', summary: 'The resolved members: static ones and those matching the filter, by name', params: IdParams, response: { 200: Type.Object({ items: Type.Array(ref(DeviceView)) }), ...errorResponses } } },
    async (request) => ({ items: (await groups.devices(tenant(request), request.params.id)).map((d) => deviceView(d, undefined)) }),
  );

  app.post(
    '/groups/:id/commands',
    {
      schema: {
        tags,
        operationId: 'sendGroupCommand', summary: 'Send one command to every member (operator); answers each device with its command id, or its error',
        params: IdParams,
        body: Type.Object(
          { method: Type.String({ minLength: 1, maxLength: 255 }), params: Type.Optional(Type.Unknown()), persistent: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Object({ deviceId: Type.String(), commandId: Type.Optional(Type.String()), status: Type.Optional(Type.String()), error: Type.Optional(Type.String()) })),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const b = request.body;
      const items = await groups.sendCommand(
        p.tenantId,
        request.params.id,
        { method: b.method, params: (b.params ?? {}) as JsonValue, ...(b.persistent !== undefined ? { persistent: b.persistent } : {}) },
        `user:${p.userId}`,
      );
      return { items };
    },
  );

  app.post(
    '/groups/:id/attributes',
    {
      schema: {
        tags,
        operationId: 'setGroupAttributes', summary: 'Set shared attributes on every member (operator); each device gets them pushed',
        params: IdParams,
        body: Type.Object({ values: Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.Unknown(), { minProperties: 1, maxProperties: 100 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ deviceIds: Type.Array(Type.String()) }), ...errorResponses },
      },
    },
    async (request) => ({ deviceIds: await groups.setSharedAttributes(tenant(request), request.params.id, request.body.values as Record<string, JsonValue>) }),
  );
};
