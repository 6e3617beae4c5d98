/**
 * Configuration pushes to an edge gateway (docs/EDGE.md): the only writer of the shared
 * attributes the edge runs as its configuration (`edgeConnectors`, `edgeRules`). Admin only (the
 * role hook refuses every other role, as for any route not listed for operators), and recorded in
 * the audit log as `edge.config_push` with a digest of what was pushed.
 *
 * Pushes are numbered (1, 2, …) per gateway; each goes to the edge with its number
 * (`edgeConfigPush`) and is kept, with the sections in force after it, in the server attribute
 * `edgeConfigHistory` (last 20). The edge reports what it did with each as `edgeConfigResult`
 * (applied / refused with the reason). A rollback re-pushes an earlier push's sections under a new
 * number. Pushes of one gateway are made one at a time on this node, so numbers do not collide.
 */
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { appendEdgePush, EDGE_CONFIG_HISTORY_KEY, parseEdgePushHistory, sectionsAfter, type EdgeSections } from '../domain/edge-config.js';
import type { Device } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses, nullable } from './schemas.js';
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

const PushRecordView = Type.Object({
  version: Type.Integer(),
  digest: Type.String(),
  at: Type.Integer({ description: 'ms since epoch' }),
  actor: Type.String(),
  rollbackOf: nullable(Type.Integer()),
});

const EdgeConfigView = Type.Object({
  version: Type.Integer({ description: 'number of the newest push; 0 before the first' }),
  history: Type.Array(PushRecordView, { description: 'the last 20 pushes, oldest first' }),
  result: Type.Unknown({ description: "the edge's report on the last push it received (edgeConfigResult): push, status applied|refused, reason, devices added/removed; null before any" }),
  running: nullable(Type.String({ description: "the edge's running configuration fingerprint (edgeConfigVersion)" })),
});

export const edgeConfigRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  /** Pushes per gateway, one at a time: each reads the history the previous one wrote. */
  const chains = new Map<string, Promise<unknown>>();
  const serially = <T>(deviceId: string, work: () => Promise<T>): Promise<T> => {
    const next = (chains.get(deviceId) ?? Promise.resolve()).then(work, work);
    const tail = next.catch(() => undefined);
    chains.set(deviceId, tail);
    void tail.then(() => {
      if (chains.get(deviceId) === tail) chains.delete(deviceId);
    });
    return next;
  };

  const gatewayOf = async (id: string, tenantId: string): Promise<Device> => {
    const device = await deps.registry.requireDevice(id, tenantId);
    if (!device.isGateway) throw new PlatformError('BAD_REQUEST', `${device.name} is not a gateway`);
    return device;
  };

  const history = async (deviceId: string) => parseEdgePushHistory((await deps.attributes.get(deviceId, 'server', [EDGE_CONFIG_HISTORY_KEY]))[0]?.value);

  /** Numbers the push, records it and writes the sections the edge runs. */
  const push = async (tenantId: string, deviceId: string, actor: string, change: { connectors?: JsonValue | null; rules?: JsonValue | null }, rollbackOf?: number) => {
    const before = await history(deviceId);
    const shared = await deps.attributes.get(deviceId, 'shared', ['edgeConnectors', 'edgeRules']);
    const current: EdgeSections = Object.fromEntries(shared.map((a) => [a.key, a.value]));
    const state = sectionsAfter(current, change);
    const digest = createHash('sha256').update(JSON.stringify({ connectors: change.connectors ?? null, rules: change.rules ?? null })).digest('hex');
    const { record, history: after } = appendEdgePush(before, { digest, at: Date.now(), actor, ...(rollbackOf !== undefined ? { rollbackOf } : {}), state });
    await deps.attributes.pushEdgeConfig(
      tenantId,
      deviceId,
      {
        ...(change.connectors !== undefined ? { edgeConnectors: change.connectors } : {}),
        ...(change.rules !== undefined ? { edgeRules: change.rules } : {}),
        edgeConfigPush: { version: record.version, digest },
      },
      after as unknown as JsonValue,
    );
    return record;
  };

  app.put(
    '/devices/:id/edge-config',
    {
      schema: {
        tags: ['attributes'],
        operationId: 'pushEdgeConfig', summary: 'Push connectors and rules to an edge gateway (admin); the edge checks them against its own allow-lists',
        params: IdParams,
        body: PushBody,
        response: { 200: Type.Object({ digest: Type.String(), version: Type.Integer({ description: 'the number of this push' }) }), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const device = await gatewayOf(request.params.id, principal.tenantId);
      const connectors = section(request.body.connectors, 'connectors');
      const rules = section(request.body.rules, 'rules');
      const record = await serially(device.id, () => push(principal.tenantId, device.id, principal.userId, { ...(connectors !== undefined ? { connectors } : {}), ...(rules !== undefined ? { rules } : {}) }));
      deps.audit?.record({
        tenantId: principal.tenantId,
        actor: principal.userId,
        action: 'edge.config_push',
        targetType: 'devices',
        targetId: device.id,
        address: request.ip,
        details: { digest: record.digest, version: record.version, sections: Object.keys(request.body), cleared: [...(connectors === null ? ['connectors'] : []), ...(rules === null ? ['rules'] : [])] },
      });
      return { digest: record.digest, version: record.version };
    },
  );

  app.get(
    '/devices/:id/edge-config',
    {
      schema: {
        tags: ['attributes'],
        operationId: 'getEdgeConfig', summary: "An edge gateway's configuration pushes and the edge's report on the last one (admin)",
        params: IdParams,
        response: { 200: EdgeConfigView, ...errorResponses },
      },
    },
    async (request) => {
      const device = await gatewayOf(request.params.id, principalOf(request).tenantId);
      const pushes = await history(device.id);
      const reported = new Map((await deps.attributes.get(device.id, 'client', ['edgeConfigResult', 'edgeConfigVersion'])).map((a) => [a.key, a.value]));
      const running = reported.get('edgeConfigVersion');
      return {
        version: pushes.reduce((n, p) => Math.max(n, p.version), 0),
        history: pushes.map((p) => ({ version: p.version, digest: p.digest, at: p.at, actor: p.actor, rollbackOf: p.rollbackOf ?? null })),
        result: reported.get('edgeConfigResult') ?? null,
        running: typeof running === 'string' ? running : null,
      };
    },
  );

  app.post(
    '/devices/:id/edge-config/rollback',
    {
      schema: {
        tags: ['attributes'],
        operationId: 'rollbackEdgeConfig', summary: 'Push an earlier push of an edge gateway again, under a new number (admin)',
        params: IdParams,
        body: Type.Object({ version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ digest: Type.String(), version: Type.Integer(), rollbackOf: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const device = await gatewayOf(request.params.id, principal.tenantId);
      const target = request.body.version;
      const record = await serially(device.id, async () => {
        const earlier = (await history(device.id)).find((p) => p.version === target);
        if (!earlier) throw new PlatformError('NOT_FOUND', `no push ${target} in the history of ${device.name}`);
        // Every section as it was after that push: absent then means the file's section applies again.
        return push(principal.tenantId, device.id, principal.userId, { connectors: earlier.state.edgeConnectors ?? null, rules: earlier.state.edgeRules ?? null }, target);
      });
      deps.audit?.record({
        tenantId: principal.tenantId,
        actor: principal.userId,
        action: 'edge.config_rollback',
        targetType: 'devices',
        targetId: device.id,
        address: request.ip,
        details: { digest: record.digest, version: record.version, rollbackOf: target },
      });
      return { digest: record.digest, version: record.version, rollbackOf: target };
    },
  );
};
