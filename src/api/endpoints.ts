/**
 * GET /api/endpoints: where devices connect — the listening addresses as bound (a configured port
 * 0 shows the real port), the same ports as <data-dir>/ports.json. The dashboard's "Add device"
 * wizard prints commands from them and `continuum simulate` connects to them, instead of assuming
 * 1883/5683, which on a shared host may be another broker. Host names are left to the client: the
 * one it used to reach the API is the best guess of what a device can reach.
 */
import { Type } from '@sinclair/typebox';
import type { ListeningAddress } from '../ports.js';
import { errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const EndpointView = Type.Object({
  name: Type.String({ description: "e.g. 'mqtt', 'mqtts', 'mqtt-ws', 'coap', 'http', 'https'" }),
  protocol: Type.Union([Type.Literal('tcp'), Type.Literal('udp')]),
  port: Type.Integer(),
});

const EndpointsView = Type.Object({
  items: Type.Array(EndpointView),
  ports: Type.Record(Type.String(), Type.Integer(), { description: 'listener name → port (the first of a name), as in ports.json; empty while starting' }),
});

export const endpointRoutes: ApiPlugin<{ endpoints: () => readonly ListeningAddress[] }> = async (app, { endpoints }) => {
  app.get(
    '/endpoints',
    {
      schema: {
        tags: ['platform'],
        operationId: 'listEndpoints', summary: "The platform's listening ports for devices (MQTT, CoAP, HTTP), as bound",
        response: { 200: EndpointsView, ...errorResponses },
      },
    },
    async () => {
      const items = endpoints().map((a) => ({ name: a.name, protocol: a.protocol, port: a.port }));
      const ports: Record<string, number> = {};
      for (const a of items) if (!(a.name in ports)) ports[a.name] = a.port;
      return { items, ports };
    },
  );
};
