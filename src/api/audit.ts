/** GET /api/audit: the tenant's audit log, newest first, filterable and paged (admins only, see roles.ts). */
import { Type } from '@sinclair/typebox';
import type { AuditService } from '../services/audit.js';
import { principalOf } from './principal.js';
import { errorResponses, nullable } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['audit'];

const AuditView = Type.Object({
  id: Type.String(),
  ts: Type.Integer(),
  actor: Type.String({ description: 'user id, device:<id>, system or anonymous' }),
  actorName: nullable(Type.String()),
  action: Type.String({ description: 'e.g. auth.login, auth.login_failed, credentials.read, or "<METHOD> <route>" for changes made through the API' }),
  outcome: Type.String({ description: 'success, failure or denied' }),
  targetType: nullable(Type.String()),
  targetId: nullable(Type.String()),
  address: nullable(Type.String()),
  details: Type.Optional(Type.Unknown()),
});

export const auditRoutes: ApiPlugin<{ audit: Pick<AuditService, 'list'> }> = async (app, { audit }) => {
  app.get(
    '/audit',
    {
      schema: {
        tags,
        operationId: 'listAuditEntries', summary: 'Audit log of the tenant, newest first (admin only)',
        querystring: Type.Object({
          action: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'exact action, or a prefix ending in "." or " " (auth., POST )' })),
          actor: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          targetId: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')])),
          from: Type.Optional(Type.Integer({ description: 'at or after (ms)' })),
          to: Type.Optional(Type.Integer({ description: 'at or before (ms)' })),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          offset: Type.Integer({ minimum: 0, default: 0 }),
        }),
        response: { 200: Type.Object({ items: Type.Array(AuditView), total: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await audit.list({
        tenantId: principalOf(request).tenantId,
        ...(q.action !== undefined ? { action: q.action } : {}),
        ...(q.actor !== undefined ? { actor: q.actor } : {}),
        ...(q.targetId !== undefined ? { targetId: q.targetId } : {}),
        ...(q.outcome !== undefined ? { outcome: q.outcome } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
        limit: q.limit,
        offset: q.offset,
      });
      return {
        items: page.items.map((e) => ({
          id: e.id,
          ts: e.ts,
          actor: e.actor,
          actorName: e.actorName ?? null,
          action: e.action,
          outcome: e.outcome,
          targetType: e.targetType ?? null,
          targetId: e.targetId ?? null,
          address: e.address ?? null,
          ...(e.details !== undefined ? { details: e.details } : {}),
        })),
        total: page.total,
      };
    },
  );
};
