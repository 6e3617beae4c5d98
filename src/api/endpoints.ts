/**
 * GET /api/endpoints: the ports the device transports listen on, as in <data-dir>/ports.json.
 * Clients on another machine (the simulator, the dashboard's connect instructions) read them
 * here instead of assuming 1883/5683, which on a shared host may be another broker.
 */
import { Type } from '@sinclair/typebox';
import type { ApiDeps } from './deps.js';
import { errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const EndpointsView = Type.Object({
  ports: Type.Record(Type.String(), Type.Integer(), { description: 'listener name (http, mqtt, mqtts, coap, https…) → port; empty while starting' }),
});

export const endpointRoutes: ApiPlugin<{ ports: NonNullable<ApiDeps['ports']> }> = async (app, { ports }) => {
  app.get(
    '/endpoints',
    { schema: { tags: ['operations'], summary: 'Ports the platform listens on for devices (as in ports.json)', response: { 200: EndpointsView, ...errorResponses } } },
    async () => ({ ports: { ...(ports() ?? {}) } }),
  );
};
