/**
 * Every change made through the management API lands in the audit log, whatever the route: one
 * hook on the authenticated scope records each non-read request once answered (who, which route,
 * which target, the outcome, the client's address and the request body with secrets redacted).
 * A route added later is covered without doing anything. Reads that hand out secrets are listed
 * in AUDITED_READS and recorded too.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { JsonValue } from '../domain/telemetry.js';
import type { AuditService } from '../services/audit.js';
import { principalIfAny } from './principal.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Reads worth an entry, by route, with the action name they are recorded under. */
const AUDITED_READS = new Map([['GET /api/devices/:id/credentials', 'credentials.read']]);

/**
 * Routes whose body is not kept: the route records its own entry with a digest instead (an edge
 * configuration may name hosts and variables the audit reader need not see in full; an OTA
 * upload's body is the package, streamed and never parsed).
 */
const BODY_NOT_KEPT = new Set(['PUT /api/devices/:id/edge-config', 'POST /api/ota/packages']);

function outcomeOf(statusCode: number): 'success' | 'failure' | 'denied' {
  if (statusCode < 400) return 'success';
  return statusCode === 401 || statusCode === 403 ? 'denied' : 'failure';
}

/** `/api/devices/:id/attributes/:scope` → `devices`. */
function targetTypeOf(route: string): string | undefined {
  return route.split('/')[2] || undefined;
}

function csvOf(body: JsonValue | undefined): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  return typeof body.csv === 'string' ? body.csv : undefined;
}

function detailsOf(request: FastifyRequest, keepBody: boolean): JsonValue | undefined {
  const params = request.params as Record<string, JsonValue> | undefined;
  const body = keepBody ? (request.body as JsonValue | undefined) : undefined;
  const hasParams = params !== undefined && Object.keys(params).length > 0;
  if (!hasParams && body === undefined) return undefined;
  // Bulk imports carry whole CSV files (a text body or JSON {csv}): their size is what is worth
  // keeping, not their content, which holds access tokens and passwords in clear columns.
  const csv = typeof body === 'string' ? body : csvOf(body);
  const kept = csv !== undefined ? { bytes: csv.length } : body;
  return { ...(hasParams ? { params } : {}), ...(kept !== undefined ? { body: kept } : {}) };
}

export function auditChanges(scope: FastifyInstance, audit: Pick<AuditService, 'record'>): void {
  scope.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? request.url;
    const key = `${request.method} ${route}`;
    const namedRead = AUDITED_READS.get(key);
    const principal = principalIfAny(request);
    // Requests that never authenticated are not entries: they changed nothing, and logging them
    // would let anyone fill the log (failed sign-ins are recorded by the login route).
    if ((READS.has(request.method) && !namedRead) || !principal) return done();
    const params = request.params as Record<string, unknown> | undefined;
    const details = detailsOf(request, !BODY_NOT_KEPT.has(key));
    const targetType = targetTypeOf(route);
    audit.record({
      tenantId: principal.tenantId,
      actor: principal.userId,
      ...(principal.email !== undefined ? { actorName: principal.email } : {}),
      action: namedRead ?? key,
      outcome: outcomeOf(reply.statusCode),
      ...(targetType ? { targetType } : {}),
      ...(typeof params?.id === 'string' ? { targetId: params.id } : {}),
      address: request.ip,
      ...(details !== undefined ? { details } : {}),
    });
    done();
  });
}
