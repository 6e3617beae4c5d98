/**
 * Route optimisation (`POST /routes/optimize`): the order to visit a set of stops in and the
 * route's length, by the tour heuristic of domain/routes/ (nearest neighbour + 2-opt + Or-opt;
 * its gap to the optimum on TSPLIB berlin52 is in docs/BENCHMARKS.md). Pure computation on the
 * request: no tenant data is read.
 */
import { Type } from '@sinclair/typebox';
import { MAX_ROUTE_STOPS, planRoute } from '../domain/routes/optimize.js';
import { errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const LatLon = Type.Object({ lat: Type.Number({ minimum: -90, maximum: 90 }), lon: Type.Number({ minimum: -180, maximum: 180 }) }, { additionalProperties: false });

export const routePlanRoutes: ApiPlugin = async (app) => {
  app.post(
    '/routes/optimize',
    {
      schema: {
        tags: ['routes'],
        operationId: 'optimizeRoute',
        summary: 'Order a set of stops into a short route (great-circle distances), from an optional start, as a round trip or an open path',
        body: Type.Object(
          {
            stops: Type.Array(LatLon, { minItems: 1, maxItems: MAX_ROUTE_STOPS }),
            start: Type.Optional(LatLon),
            roundTrip: Type.Optional(Type.Boolean({ description: 'back to the start (or the first stop) at the end; default true' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            order: Type.Array(Type.Integer(), { description: 'indices into stops, in visiting order' }),
            distanceM: Type.Number({ description: 'length of the route in metres, including the legs from (and back to) start' }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => planRoute(request.body),
  );
};
