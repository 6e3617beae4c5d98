/** The device twin: desired (shared attributes) against reported (client attributes), and the delta. */
import { Type } from '@sinclair/typebox';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const Entry = Type.Object({ value: Type.Unknown(), ts: Type.Integer({ description: 'last update (ms)' }) });

export const twinRoutes: ApiPlugin<{ deps: ApiDeps; twin: NonNullable<ApiDeps['twin']> }> = async (app, { deps, twin }) => {
  app.get(
    '/devices/:id/twin',
    {
      schema: {
        tags: ['attributes'],
        operationId: 'getDeviceTwin', summary: 'Desired vs reported state; delta lists desired keys the device reports differently or not at all',
        params: IdParams,
        response: {
          200: Type.Object({
            desired: Type.Record(Type.String(), Entry),
            reported: Type.Record(Type.String(), Entry),
            delta: Type.Record(
              Type.String(),
              Type.Object({ desired: Type.Unknown(), reported: Type.Optional(Type.Unknown({ description: 'absent when never reported' })) }),
            ),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const device = await deps.registry.requireDevice(request.params.id, principalOf(request).tenantId);
      return twin.get(device.id);
    },
  );
};
