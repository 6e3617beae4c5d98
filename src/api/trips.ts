/**
 * A device's trips (`GET /devices/:id/trips?from&to`, `GET /devices/:id/trips/:tripId` with its
 * track), computed from its positions after every commit by services/trips.ts.
 */
import { Type } from '@sinclair/typebox';
import type { TripService } from '../services/trips.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['telemetry'];
const Place = Type.Object({ lat: Type.Number(), lon: Type.Number() });
const Stop = Type.Object({ lat: Type.Number(), lon: Type.Number(), fromTs: Type.Integer(), toTs: Type.Integer() });
const summaryFields = {
  id: Type.String(),
  startTs: Type.Integer(),
  endTs: Type.Integer(),
  start: Place,
  end: Place,
  distanceM: Type.Number({ description: 'haversine sum over the accepted positions, metres' }),
  maxSpeedKmh: Type.Number(),
  idleMs: Type.Integer({ description: 'time standing still inside the trip (stops and shorter waits)' }),
  stops: Type.Array(Stop, { description: 'standstills of at least 2 minutes inside the trip' }),
  open: Type.Boolean({ description: 'still under way' }),
};
const TripSummarySchema = Type.Object(summaryFields, { title: 'TripSummary' });
const TripSchema = Type.Object({ ...summaryFields, track: Type.Array(Type.Array(Type.Number(), { minItems: 3, maxItems: 3 }), { description: '[ts, lat, lon] of the accepted positions (thinned to at most 2000)' }) }, { title: 'Trip' });

export const tripRoutes: ApiPlugin<{ trips: Pick<TripService, 'list' | 'get'> }> = async (app, { trips }) => {
  app.get(
    '/devices/:id/trips',
    {
      schema: {
        tags,
        operationId: 'listTrips',
        summary: "A device's trips that started in [from, to), newest first: places, distance, duration, stops, max speed, idle time",
        params: IdParams,
        querystring: Type.Object({
          from: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch; default 0' })),
          to: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch; default now + 1 day' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: { 200: Type.Object({ items: Type.Array(TripSummarySchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const { from = 0, to = Date.now() + 86_400_000, limit = 100 } = request.query;
      const items = await trips.list(principalOf(request).tenantId, request.params.id, from, to, limit);
      return { items: items.map((t) => ({ ...t, stops: [...t.stops] })) };
    },
  );

  app.get(
    '/devices/:id/trips/:tripId',
    {
      schema: {
        tags,
        operationId: 'getTrip',
        summary: 'One trip with its track',
        params: Type.Object({ id: IdParams.properties.id, tripId: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: TripSchema, ...errorResponses },
      },
    },
    async (request) => {
      const t = await trips.get(principalOf(request).tenantId, request.params.id, request.params.tripId);
      return { ...t, stops: [...t.stops], track: t.track.map((p) => [...p]) };
    },
  );
};
