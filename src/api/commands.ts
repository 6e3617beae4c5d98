/**
 * Commands: send one to a device (now, or through the durable outbox when `persistent`), read
 * its state and history. A two-way non-persistent command answers once the device replied or
 * the timeout passed; the outcome is in `status` (SUCCESSFUL, FAILED, TIMEOUT), always with 201.
 */
import { Type } from '@sinclair/typebox';
import type { JsonValue } from '../domain/telemetry.js';
import type { CommandStatus } from '../domain/action-apis.js';
import type { StoredCommand } from '../ports.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { scopeOf, visibleDeviceIds } from './access.js';
import { IdParams, PageOffset, errorResponses, nullable, splitList } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['commands'];

const STATUS = '(QUEUED|SENT|DELIVERED|SUCCESSFUL|FAILED|TIMEOUT|EXPIRED)';

const CommandView = Type.Object({
  id: Type.String(),
  deviceId: Type.String(),
  method: Type.String(),
  params: Type.Unknown(),
  oneway: Type.Boolean(),
  persistent: Type.Boolean(),
  status: Type.String({ description: 'QUEUED, SENT, DELIVERED, SUCCESSFUL, FAILED, TIMEOUT or EXPIRED' }),
  response: Type.Optional(Type.Unknown({ description: "the device's reply, when there is one" })),
  error: Type.Optional(Type.String()),
  retries: Type.Integer(),
  maxRetries: Type.Integer(),
  timeoutMs: Type.Integer(),
  origin: nullable(Type.String()),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  expiresAt: Type.Integer(),
});

export function commandView(c: StoredCommand) {
  return {
    id: c.id,
    deviceId: c.deviceId,
    method: c.method,
    params: c.params,
    oneway: c.oneway,
    persistent: c.persistent,
    status: c.status,
    ...(c.response !== undefined ? { response: c.response } : {}),
    ...(c.error !== undefined ? { error: c.error } : {}),
    retries: c.retries,
    maxRetries: c.maxRetries,
    timeoutMs: c.timeoutMs,
    origin: c.origin ?? null,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    expiresAt: c.expiresAt,
  };
}

export const commandRoutes: ApiPlugin<{ deps: ApiDeps; commands: NonNullable<ApiDeps['commands']> }> = async (app, { deps, commands }) => {
  app.post(
    '/devices/:id/commands',
    {
      schema: {
        tags,
        operationId: 'sendCommand', summary: 'Send a command; two-way non-persistent ones wait for the reply (up to timeoutMs)',
        params: IdParams,
        body: Type.Object(
          {
            method: Type.String({ minLength: 1, maxLength: 255 }),
            params: Type.Optional(Type.Unknown()),
            timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
            persistent: Type.Optional(Type.Boolean({ description: 'keep it in the outbox until the device is reachable' })),
            expiresInMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 86_400_000, description: 'persistent: give up after this long' })),
            oneway: Type.Optional(Type.Boolean({ description: 'no reply expected' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: CommandView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const b = request.body;
      const command = (await commands.send({
        tenantId: principal.tenantId,
        deviceId: request.params.id,
        method: b.method,
        params: (b.params ?? {}) as JsonValue,
        ...(b.timeoutMs !== undefined ? { timeoutMs: b.timeoutMs } : {}),
        ...(b.persistent !== undefined ? { persistent: b.persistent } : {}),
        ...(b.expiresInMs !== undefined ? { expiresInMs: b.expiresInMs } : {}),
        ...(b.oneway !== undefined ? { oneway: b.oneway } : {}),
        origin: `user:${principal.userId}`,
      })) as StoredCommand;
      return reply.code(201).send(commandView(command));
    },
  );

  app.get(
    '/commands/:id',
    { schema: { tags, operationId: 'getCommand', summary: 'One command and its state', params: IdParams, response: { 200: CommandView, ...errorResponses } } },
    async (request) => commandView(await commands.get(principalOf(request).tenantId, request.params.id)),
  );

  app.get(
    '/commands',
    {
      schema: {
        tags,
        operationId: 'listCommands', summary: 'Commands of the tenant, newest first',
        querystring: Type.Object({
          deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          status: Type.Optional(Type.String({ pattern: `^${STATUS}(,${STATUS})*$`, description: 'comma-separated states' })),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          offset: PageOffset,
        }),
        response: { 200: Type.Object({ items: Type.Array(CommandView), total: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const statuses = splitList(q.status) as CommandStatus[] | undefined;
      const scope = scopeOf(request);
      const deviceIds = await visibleDeviceIds(deps, scope);
      const page = await commands.list(scope.tenantId, {
        ...(q.deviceId !== undefined ? { deviceId: q.deviceId } : {}),
        ...(deviceIds !== undefined ? { deviceIds } : {}),
        ...(statuses ? { statuses } : {}),
        limit: q.limit,
        offset: q.offset,
      });
      return { items: page.items.map(commandView), total: page.total };
    },
  );
};
