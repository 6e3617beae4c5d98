/** Alarms: list and filter, read one with its history, acknowledge, clear. */
import { Type } from '@sinclair/typebox';
import type { Alarm, AlarmSeverity, AlarmStatus } from '../domain/action-apis.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { scopeOf, visibleDeviceIds } from './access.js';
import { IdParams, PageOffset, errorResponses, nullable, splitList } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['alarms'];

const STATUS = '(active|acknowledged|cleared)';
const SEVERITY = '(critical|major|minor|warning|indeterminate)';
const listOf = (item: string): string => `^${item}(,${item})*$`;

const AlarmView = Type.Object({
  id: Type.String(),
  type: Type.String(),
  severity: Type.String({ description: 'critical, major, minor, warning or indeterminate' }),
  status: Type.String({ description: 'active, acknowledged or cleared' }),
  deviceId: Type.String(),
  count: Type.Integer({ description: 'times raised while open (1 = once)' }),
  details: Type.Unknown(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  acknowledgedAt: nullable(Type.Integer()),
  clearedAt: nullable(Type.Integer()),
});

function alarmView(a: Alarm) {
  return {
    id: a.id,
    type: a.type,
    severity: a.severity,
    status: a.status,
    deviceId: a.deviceId,
    count: a.count,
    details: a.details,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    acknowledgedAt: a.acknowledgedAt ?? null,
    clearedAt: a.clearedAt ?? null,
  };
}

const HistoryEntry = Type.Object({
  ts: Type.Integer(),
  action: Type.String({ description: 'raised, repeated, acknowledged or cleared' }),
  severity: Type.String(),
  by: nullable(Type.String()),
  details: Type.Optional(Type.Unknown()),
});

export const alarmRoutes: ApiPlugin<{ deps: ApiDeps; alarms: NonNullable<ApiDeps['alarms']> }> = async (app, { deps, alarms }) => {
  const by = (userId: string): string => `user:${userId}`;

  app.get(
    '/alarms',
    {
      schema: {
        tags,
        operationId: 'listAlarms', summary: 'Alarms of the tenant, newest first',
        querystring: Type.Object({
          deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          status: Type.Optional(Type.String({ pattern: listOf(STATUS), description: 'comma-separated: active, acknowledged, cleared' })),
          severity: Type.Optional(Type.String({ pattern: listOf(SEVERITY), description: 'comma-separated severities' })),
          type: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          from: Type.Optional(Type.Integer({ description: 'created at or after (ms)' })),
          to: Type.Optional(Type.Integer({ description: 'created at or before (ms)' })),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          offset: PageOffset,
        }),
        response: { 200: Type.Object({ items: Type.Array(AlarmView), total: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const statuses = splitList(q.status) as AlarmStatus[] | undefined;
      const severities = splitList(q.severity) as AlarmSeverity[] | undefined;
      const scope = scopeOf(request);
      const deviceIds = await visibleDeviceIds(deps, scope);
      const page = await alarms.list(scope.tenantId, {
        ...(q.deviceId !== undefined ? { deviceId: q.deviceId } : {}),
        ...(deviceIds !== undefined ? { deviceIds } : {}),
        ...(statuses ? { statuses } : {}),
        ...(severities ? { severities } : {}),
        ...(q.type !== undefined ? { type: q.type } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
        limit: q.limit,
        offset: q.offset,
      });
      return { items: page.items.map(alarmView), total: page.total };
    },
  );

  app.get(
    '/alarms/:id',
    { schema: { tags, operationId: 'getAlarm', summary: 'One alarm', params: IdParams, response: { 200: AlarmView, ...errorResponses } } },
    async (request) => alarmView(await alarms.get(principalOf(request).tenantId, request.params.id)),
  );

  app.get(
    '/alarms/:id/history',
    {
      schema: {
        tags,
        operationId: 'getAlarmHistory', summary: 'Every change of the alarm, oldest first',
        params: IdParams,
        response: { 200: Type.Object({ items: Type.Array(HistoryEntry) }), ...errorResponses },
      },
    },
    async (request) => {
      const events = await alarms.history(principalOf(request).tenantId, request.params.id);
      return { items: events.map((e) => ({ ts: e.ts, action: e.action, severity: e.severity, by: e.by ?? null, ...(e.details !== undefined ? { details: e.details } : {}) })) };
    },
  );

  app.post(
    '/alarms/:id/ack',
    {
      schema: {
        tags,
        operationId: 'acknowledgeAlarm', summary: 'Acknowledge an active alarm (409 if it is cleared; acknowledging twice is fine)',
        params: IdParams,
        response: { 200: AlarmView, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return alarmView(await alarms.acknowledge(principal.tenantId, request.params.id, by(principal.userId)));
    },
  );

  app.post(
    '/alarms/:id/clear',
    { schema: { tags, operationId: 'clearAlarm', summary: 'Clear an alarm (clearing twice is fine)', params: IdParams, response: { 200: AlarmView, ...errorResponses } } },
    async (request) => {
      const principal = principalOf(request);
      return alarmView(await alarms.clearById(principal.tenantId, request.params.id, by(principal.userId)));
    },
  );
};
