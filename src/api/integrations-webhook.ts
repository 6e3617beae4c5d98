/**
 * Webhooks of network servers into their integration (issue 18 item 3): The Things Stack posts
 * its application messages (uplink, join accept, downlink ack/nack/sent/failed: one path for all,
 * the body says which) to `POST /api/integrations/{id}/tts/uplink`. No user signs these: the
 * request carries the integration's own secret in `X-Continuum-Secret` (set as an additional
 * header of the TTS webhook), checked in constant time; anything else is 401 alike.
 */
import { Type } from '@sinclair/typebox';
import type { IntegrationService } from '../services/integrations/service.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

export const WEBHOOK_SECRET_HEADER = 'x-continuum-secret';
/** TTS messages are a few KB; a bound keeps an unauthenticated caller from making us parse megabytes. */
const MAX_BODY_BYTES = 64 * 1024;

export const integrationWebhookRoutes: ApiPlugin<{ integrations: Pick<IntegrationService, 'webhook'> }> = async (app, opts) => {
  app.post(
    '/integrations/:id/tts/uplink',
    {
      bodyLimit: MAX_BODY_BYTES,
      schema: {
        tags: ['integrations'],
        operationId: 'ttsWebhook',
        summary: "The Things Stack webhook (uplink, join, downlink events) of a tts integration; authenticated by the integration's X-Continuum-Secret header, not a user",
        security: [],
        params: IdParams,
        headers: Type.Object({ [WEBHOOK_SECRET_HEADER]: Type.Optional(Type.String({ maxLength: 256 })) }),
        body: Type.Unknown({ description: 'a TTS application message (end_device_ids and uplink_message, join_accept or downlink_*)' }),
        response: {
          200: Type.Object({
            stored: Type.Integer({ description: 'events handled' }),
            rejected: Type.Array(Type.Object({ code: Type.String(), message: Type.String() }), { description: 'events refused (unknown device, decoder failure): counted and logged, not retried' }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const secret = request.headers[WEBHOOK_SECRET_HEADER];
      return opts.integrations.webhook(request.params.id, typeof secret === 'string' ? secret : undefined, request.body);
    },
  );
};
