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

  const Checks = Type.Record(Type.String(), Type.Union([Type.Literal('ok'), Type.Literal('down')]), {
    description: 'each server this node depends on (postgres, nats); empty for an embedded store and bus',
  });
  const Readiness = Type.Object({ status: Type.String(), checks: Checks });
  app.get(
    '/readyz',
    {
      schema: {
        tags,
        operationId: 'getReadiness', summary: 'Readiness: 503 while starting or shutting down, or while PostgreSQL or NATS is unreachable (which one in checks)',
        security: [],
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_request, reply) => {
      const report = deps.dependencies ? await deps.dependencies() : { ready: true, checks: {} };
      const ready = deps.ready() && report.ready;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: report.checks });
    },
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
