/**
 * Dashboards over REST: `GET/POST /dashboards`, `GET/PUT/DELETE /dashboards/:id`, scoped to the
 * caller's tenant. Widgets may come without ids (the server assigns them); grid bounds, device
 * ownership and control specs are checked by the DashboardService.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Dashboard } from '../domain/dashboard.js';
import { GRID_COLUMNS, WIDGET_TYPES } from '../domain/dashboard.js';
import { DashboardService, MAX_WIDGETS, type DashboardBody } from '../services/dashboards.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { scopeOf } from './access.js';
import { canSeeAssigned } from '../domain/customers.js';
import { ControlSpecSchema, IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['dashboards'];

const widgetFields = {
  type: Type.Union(WIDGET_TYPES.map((t) => Type.Literal(t))),
  title: Type.String({ maxLength: 255 }),
  deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'device the widget reads or drives (a device of your tenant)' })),
  keys: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 20 })),
  min: Type.Optional(Type.Number()),
  max: Type.Optional(Type.Number()),
  unit: Type.Optional(Type.String({ maxLength: 32 })),
  range: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}[mhd]$', description: 'chart range, e.g. 1h, 24h, 7d' })),
  control: Type.Optional(ControlSpecSchema),
  x: Type.Integer({ minimum: 0, maximum: GRID_COLUMNS - 1, description: `column, 0..${GRID_COLUMNS - 1}` }),
  y: Type.Integer({ minimum: 0, description: 'row' }),
  w: Type.Integer({ minimum: 1, maximum: GRID_COLUMNS, description: 'width in columns (x + w ≤ 12)' }),
  h: Type.Integer({ minimum: 1, maximum: 100, description: 'height in rows' }),
};

const WidgetInput = Type.Object({ id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })), ...widgetFields }, { additionalProperties: false });
const WidgetView = Type.Object({ id: Type.String(), ...widgetFields });

const DashboardBodySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    widgets: Type.Array(WidgetInput, { maxItems: MAX_WIDGETS }),
  },
  { additionalProperties: false },
);

const DashboardView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.Optional(Type.String()),
    widgets: Type.Array(WidgetView),
    createdAt: Type.Integer(),
    updatedAt: Type.Integer(),
    customerId: Type.Optional(Type.String({ description: 'the customer it is assigned to (set through /api/customers/{id}/dashboards)' })),
  },
  { title: 'Dashboard' },
);

function view(d: Dashboard): Static<typeof DashboardView> {
  const { tenantId: _tenant, ...rest } = d;
  return rest as Static<typeof DashboardView>;
}

// The TypeBox static type of `params` is unknown where the domain says JsonValue; the JSON body is JSON.
const toBody = (b: Static<typeof DashboardBodySchema>): DashboardBody => b as DashboardBody;

export const dashboardRoutes: ApiPlugin<{ deps: ApiDeps; dashboards?: DashboardService }> = async (app, opts) => {
  const dashboards = opts.dashboards ?? new DashboardService({ store: opts.deps.registry.store, clock: { now: () => Date.now() } });

  app.get('/dashboards', { schema: { tags, operationId: 'listDashboards', summary: "The tenant's dashboards, by name", response: { 200: Type.Object({ items: Type.Array(DashboardView) }), ...errorResponses } } }, async (request) => ({
    items: (await dashboards.list(principalOf(request).tenantId)).filter((d) => canSeeAssigned(scopeOf(request), d)).map(view),
  }));

  app.post(
    '/dashboards',
    { schema: { tags, operationId: 'createDashboard', summary: 'Create a dashboard (widget ids are assigned when absent)', body: DashboardBodySchema, response: { 201: DashboardView, ...errorResponses } } },
    async (request, reply) => reply.code(201).send(view(await dashboards.create(principalOf(request).tenantId, toBody(request.body)))),
  );

  app.get('/dashboards/:id', { schema: { tags, operationId: 'getDashboard', summary: 'One dashboard', params: IdParams, response: { 200: DashboardView, ...errorResponses } } }, async (request) =>
    view(await dashboards.get(principalOf(request).tenantId, request.params.id)),
  );

  app.put(
    '/dashboards/:id',
    { schema: { tags, operationId: 'replaceDashboard', summary: 'Replace a dashboard', params: IdParams, body: DashboardBodySchema, response: { 200: DashboardView, ...errorResponses } } },
    async (request) => view(await dashboards.update(principalOf(request).tenantId, request.params.id, toBody(request.body))),
  );

  app.delete('/dashboards/:id', { schema: { tags, operationId: 'deleteDashboard', summary: 'Delete a dashboard', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } }, async (request, reply) => {
    await dashboards.remove(principalOf(request).tenantId, request.params.id);
    return reply.code(204).send(null);
  });
};
