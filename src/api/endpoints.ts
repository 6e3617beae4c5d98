/**
 * Where devices connect: the listening addresses as bound (a configured port 0 shows the real
 * port), so the dashboard's "Add device" wizard prints commands that reach this platform and not
 * a default port another broker may hold. Host names are left to the client: the one the browser
 * used to reach the dashboard is the best guess of what a device can reach.
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

export const endpointRoutes: ApiPlugin<{ endpoints: () => readonly ListeningAddress[] }> = async (app, { endpoints }) => {
  app.get(
    '/endpoints',
    {
      schema: {
        tags: ['platform'],
        summary: "The platform's listening ports for devices (MQTT, CoAP, HTTP), as bound",
        response: { 200: Type.Object({ items: Type.Array(EndpointView) }), ...errorResponses },
      },
    },
    async () => ({ items: endpoints().map((a) => ({ name: a.name, protocol: a.protocol, port: a.port })) }),
  );
};
