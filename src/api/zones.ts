/**
 * Zones (geofences) over REST: `GET/POST /zones`, `GET/PUT/DELETE /zones/:id`, scoped to the
 * caller's tenant (another tenant's zone answers 404). Zones configure rules (entered, left,
 * dwell), so they take the rules permissions. Geometry is GeoJSON: a Polygon, or a Point with a
 * `radius` in metres (docs/RULES.md "Zones").
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Zone } from '../domain/zones/zone.js';
import { MAX_MARGIN_M, MAX_ZONE_NAME } from '../domain/zones/zone.js';
import type { ZoneService } from '../services/zones.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['zones'];
const OwnerType = Type.Union([Type.Literal('tenant'), Type.Literal('profile'), Type.Literal('device')]);
const Position = Type.Array(Type.Number(), { minItems: 2, maxItems: 3, description: '[lon, lat] (GeoJSON order)' });

const GeometrySchema = Type.Union(
  [
    Type.Object({ type: Type.Literal('Polygon'), coordinates: Type.Array(Type.Array(Position), { description: 'rings: the outer boundary, then holes; each closed (last position = first), at least 4 positions' }) }),
    Type.Object({ type: Type.Literal('Point'), coordinates: Position, radius: Type.Number({ description: 'metres' }) }),
  ],
  { description: 'a GeoJSON Polygon (RFC 7946 §3.1.6), or a circle as a Point with a radius; at most 2000 positions' },
);

const ZoneSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    ownerType: OwnerType,
    ownerId: Type.Optional(Type.String()),
    geometry: GeometrySchema,
    marginM: Type.Number({ description: 'hysteresis band outside the boundary, metres' }),
    createdAt: Type.Integer(),
    updatedAt: Type.Integer(),
  },
  { title: 'Zone' },
);

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: MAX_ZONE_NAME }),
    ownerType: Type.Optional(OwnerType),
    ownerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "the profile's or device's id" })),
    geometry: GeometrySchema,
    marginM: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_MARGIN_M, description: 'default 20' })),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_ZONE_NAME })),
    geometry: Type.Optional(GeometrySchema),
    marginM: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_MARGIN_M })),
  },
  { additionalProperties: false },
);

function view(z: Zone): Static<typeof ZoneSchema> {
  return { id: z.id, name: z.name, ownerType: z.ownerType, ...(z.ownerId !== undefined ? { ownerId: z.ownerId } : {}), geometry: structuredClone(z.geometry) as unknown as Static<typeof GeometrySchema>, marginM: z.marginM, createdAt: z.createdAt, updatedAt: z.updatedAt };
}

export const zoneRoutes: ApiPlugin<{ zones: ZoneService }> = async (app, { zones }) => {
  app.get(
    '/zones',
    {
      schema: {
        tags,
        operationId: 'listZones',
        summary: "The tenant's zones (geofences), by name; filter by owner",
        querystring: Type.Object({ ownerType: Type.Optional(OwnerType), ownerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }),
        response: { 200: Type.Object({ items: Type.Array(ZoneSchema) }), ...errorResponses },
      },
    },
    async (request) => {
      const { ownerType, ownerId } = request.query;
      return { items: (await zones.list(principalOf(request).tenantId, { ...(ownerType ? { ownerType } : {}), ...(ownerId ? { ownerId } : {}) })).map(view) };
    },
  );

  app.post(
    '/zones',
    { schema: { tags, operationId: 'createZone', summary: 'Create a zone of the tenant, a profile or a device (a circle or a polygon)', body: CreateBody, response: { 201: ZoneSchema, ...errorResponses } } },
    async (request, reply) => {
      const b = request.body;
      const zone = await zones.create(principalOf(request).tenantId, { name: b.name, ownerType: b.ownerType ?? 'tenant', ...(b.ownerId !== undefined ? { ownerId: b.ownerId } : {}), geometry: b.geometry, ...(b.marginM !== undefined ? { marginM: b.marginM } : {}) });
      return reply.code(201).send(view(zone));
    },
  );

  app.get('/zones/:id', { schema: { tags, operationId: 'getZone', summary: 'One zone', params: IdParams, response: { 200: ZoneSchema, ...errorResponses } } }, async (request) =>
    view(await zones.get(principalOf(request).tenantId, request.params.id)),
  );

  app.put(
    '/zones/:id',
    { schema: { tags, operationId: 'updateZone', summary: "Change a zone's name, geometry or margin (rules see it within seconds)", params: IdParams, body: UpdateBody, response: { 200: ZoneSchema, ...errorResponses } } },
    async (request) => view(await zones.update(principalOf(request).tenantId, request.params.id, request.body)),
  );

  app.delete('/zones/:id', { schema: { tags, operationId: 'deleteZone', summary: 'Delete a zone (rule calls naming it answer null)', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } }, async (request, reply) => {
    await zones.remove(principalOf(request).tenantId, request.params.id);
    return reply.code(204).send(null);
  });
};
