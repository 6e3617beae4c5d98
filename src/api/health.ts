/** Liveness and readiness (unauthenticated) and Prometheus metrics (token, admin, or public by config): outside /api. */
import { Type } from '@sinclair/typebox';
import type { ApiDeps } from './deps.js';
import { authorizeScrape } from './metrics-access.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['operations'];

export const healthRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get(
    '/healthz',
    { schema: { tags, operationId: 'getHealth', summary: 'Liveness', security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags,
        operationId: 'getReadiness', summary: 'Readiness: 503 while starting or shutting down',
        security: [],
        response: { 200: Type.Object({ status: Type.String() }), 503: Type.Object({ status: Type.String() }) },
      },
    },
    async (_request, reply) => (deps.ready() ? { status: 'ready' } : reply.code(503).send({ status: 'not ready' })),
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags,
        operationId: 'getMetrics', summary: 'Prometheus metrics (text exposition format): Bearer metrics.token, an admin JWT or API key, or anyone when metrics.public',
        produces: ['text/plain'],
      },
    },
    async (request, reply) => {
      await authorizeScrape(request, reply, deps.metricsAccess ?? { public: false }, deps.auth);
      const text = await deps.metrics.render();
      return reply.header('content-type', deps.metrics.contentType).send(text);
    },
  );
};
