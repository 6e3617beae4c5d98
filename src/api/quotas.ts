/**
 * Tenant quotas over REST (issue 15): `GET /quotas` (the caller's tenant), `GET/PUT
 * /tenants/:id/quotas`. A system administrator reads and sets any tenant's; a tenant admin reads
 * its own (roles.ts: ADMIN_READS), and sets none. Another tenant's id answers 404 to anyone who
 * may not see it (never 403: its existence is not revealed).
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { PlatformError } from '../domain/errors.js';
import { allows } from '../domain/permissions.js';
import type { QuotaService, QuotaView } from '../services/quotas.js';
import { principalOf } from './principal.js';
import { permissionsOf } from './roles.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['quotas'];

// One type list, not a union: the API's validator coerces types, and in a union it would turn a
// null into 0 (integer branch) or a 0 into null (null branch); with a list it coerces neither.
const Limit = (description: string) =>
  Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: `${description}; null = unlimited` });

const LimitsSchema = Type.Object(
  {
    maxDevices: Limit('devices the tenant may have'),
    maxMessagesPerSecond: Limit('device messages a second (telemetry, every transport)'),
    maxPointsPerDay: Limit('telemetry points stored a UTC day'),
    maxRules: Limit('rules the tenant may have'),
  },
  { additionalProperties: false },
);

const PatchSchema = Type.Partial(LimitsSchema, { additionalProperties: false, description: 'limits to change; absent ones keep their value' });

const QuotaViewSchema = Type.Object(
  {
    tenantId: Type.String(),
    limits: LimitsSchema,
    custom: Type.Boolean({ description: "false: the tenant has no limits of its own, the configured defaults (tenants.defaultQuotas) apply" }),
    usage: Type.Object({
      devices: Type.Integer(),
      rules: Type.Integer(),
      messagesPerSecond: Type.Integer({ description: 'device messages admitted in the last whole second (this node)' }),
      pointsToday: Type.Integer({ description: 'points stored today (UTC)' }),
      day: Type.String({ description: 'today, UTC: YYYY-MM-DD' }),
    }),
  },
  { title: 'TenantQuotas' },
);

type View = Static<typeof QuotaViewSchema>;
const view = (v: QuotaView): View => ({ tenantId: v.tenantId, limits: { ...v.limits }, custom: v.custom, usage: { ...v.usage } });

/** 404 for a tenant the caller may not see: any but its own, unless it administers tenants. */
function visibleTenant(request: FastifyRequest, id: string): string {
  if (id !== principalOf(request).tenantId && !allows(permissionsOf(request), 'tenants:read')) throw new PlatformError('NOT_FOUND', `tenant ${id}`);
  return id;
}

export const quotaRoutes: ApiPlugin<{ quotas: Pick<QuotaService, 'view' | 'set'> }> = async (app, opts) => {
  const quotas = opts.quotas;

  app.get('/quotas', { schema: { tags, operationId: 'getQuotas', summary: "The caller's tenant: its quota limits and current usage", response: { 200: QuotaViewSchema, ...errorResponses } } }, async (request) =>
    view(await quotas.view(principalOf(request).tenantId)),
  );

  app.get(
    '/tenants/:id/quotas',
    { schema: { tags, operationId: 'getTenantQuotas', summary: "A tenant's quota limits and current usage (system admin: any tenant; tenant admin: its own)", params: IdParams, response: { 200: QuotaViewSchema, ...errorResponses } } },
    async (request) => view(await quotas.view(visibleTenant(request, request.params.id))),
  );

  app.put(
    '/tenants/:id/quotas',
    { schema: { tags, operationId: 'setTenantQuotas', summary: "Set a tenant's quota limits (system admin); absent limits keep their value, null is unlimited", params: IdParams, body: PatchSchema, response: { 200: QuotaViewSchema, ...errorResponses } } },
    // Only the system administrator reaches this (tenants:write in the route table).
    async (request) => view(await quotas.set(visibleTenant(request, request.params.id), request.body)),
  );
};
