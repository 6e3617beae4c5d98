/** Server-side RPC: POST /api/devices/{id}/rpc waits for the device's answer (or not, if oneway). */
import { Type } from '@sinclair/typebox';
import type { JsonValue } from '../domain/telemetry.js';
import type { ApiDeps, RpcApi } from './deps.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

export const rpcRoutes: ApiPlugin<{ deps: ApiDeps; rpc: RpcApi }> = async (app, { deps, rpc }) => {
  app.post(
    '/devices/:id/rpc',
    {
      schema: {
        tags: ['rpc'],
        operationId: 'callDeviceRpc', summary: 'Call a method on the device; 408 if it does not answer in time, 409 if it is offline',
        params: IdParams,
        body: Type.Object(
          {
            method: Type.String({ minLength: 1, maxLength: 255 }),
            params: Type.Optional(Type.Unknown()),
            timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
            oneway: Type.Optional(Type.Boolean({ default: false })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ response: Type.Unknown({ description: "the device's answer; null for oneway" }) }), ...errorResponses },
      },
    },
    async (request) => {
      const { tenantId } = principalOf(request);
      const device = await deps.registry.requireDevice(request.params.id, tenantId);
      const b = request.body;
      const response = await rpc.call({
        tenantId,
        deviceId: device.id,
        method: b.method,
        params: (b.params ?? {}) as JsonValue,
        ...(b.timeoutMs !== undefined ? { timeoutMs: b.timeoutMs } : {}),
        oneway: b.oneway ?? false,
      });
      return { response: response ?? null };
    },
  );
};
