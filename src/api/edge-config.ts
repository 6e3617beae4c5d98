/**
 * Configuration pushes to an edge gateway (docs/EDGE.md): the only writer of the shared
 * attributes the edge runs as its configuration (`edgeConnectors`, `edgeRules`). Admin only (the
 * role hook refuses every other role, as for any route not listed for operators), and recorded in
 * the audit log as `edge.config_push` with a digest of what was pushed.
 */
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../domain/errors.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

// Checked in the handler, not by a union: Fastify's validator coerces types through unions
// (null becomes [null], an array becomes null).
const Section = (what: string) => Type.Optional(Type.Unknown({ description: `${what} (an array, as in the edge's file); null: the file's own section applies again` }));

function section(value: unknown, name: string): JsonValue | null | undefined {
  if (value === undefined || value === null || Array.isArray(value)) return value as JsonValue[] | null | undefined;
  throw new PlatformError('BAD_REQUEST', `${name} must be an array or null`);
}

const PushBody = Type.Object(
  {
    connectors: Section('the connectors'),
    rules: Section('the local rules'),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const edgeConfigRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.put(
    '/devices/:id/edge-config',
    {
      schema: {
        tags: ['attributes'],
        summary: 'Push connectors and rules to an edge gateway (admin); the edge checks them against its own allow-lists',
        params: IdParams,
        body: PushBody,
        response: { 200: Type.Object({ digest: Type.String() }), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const device = await deps.registry.requireDevice(request.params.id, principal.tenantId);
      if (!device.isGateway) throw new PlatformError('BAD_REQUEST', `${device.name} is not a gateway`);
      const connectors = section(request.body.connectors, 'connectors');
      const rules = section(request.body.rules, 'rules');
      const digest = createHash('sha256').update(JSON.stringify({ connectors: connectors ?? null, rules: rules ?? null })).digest('hex');
      await deps.attributes.pushEdgeConfig(principal.tenantId, device.id, {
        ...(connectors !== undefined ? { edgeConnectors: connectors } : {}),
        ...(rules !== undefined ? { edgeRules: rules } : {}),
      });
      deps.audit?.record({
        tenantId: principal.tenantId,
        actor: principal.userId,
        action: 'edge.config_push',
        targetType: 'devices',
        targetId: device.id,
        address: request.ip,
        details: { digest, sections: Object.keys(request.body), cleared: [...(connectors === null ? ['connectors'] : []), ...(rules === null ? ['rules'] : [])] },
      });
      return { digest };
    },
  );
};
