/**
 * OTA deployments (rollouts; issue 16 step 2, docs/OTA.md):
 *
 *   POST /api/ota/deployments {packageId, target:{deviceIds?|profileId?}, waves?, rate?, canaries?, abort?, timeouts?, retries?, jitterMs?, window?} → 201 {id}
 *   GET  /api/ota/deployments                     newest first, with counts
 *   GET  /api/ota/deployments/{id}                {status, wave, counts:{queued,inProgress,updated,failed,…}, perWave, failures}
 *   GET  /api/ota/deployments/{id}/devices        each device's rollout state
 *   POST /api/ota/deployments/{id}/pause|resume|cancel
 *
 * Writes are admin only (roles.ts: not in OPERATOR_WRITES); reads are open to operators. The
 * audit hook records every write; the scheduler's own decisions are audited by the service.
 */
import { Type, type Static } from '@sinclair/typebox';
import { DEPLOYMENT_STATUSES, ROLLOUT_STATES, type DeploymentDevice } from '../domain/ota-deployment.js';
import type { DeploymentView, OtaRolloutService } from '../services/ota-rollouts.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['ota'];
const HOUR = Type.Integer({ minimum: 0, maximum: 23 });
const Id = Type.String({ minLength: 1, maxLength: 64 });

const CreateBody = Type.Object(
  {
    packageId: Id,
    target: Type.Object(
      {
        deviceIds: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 100_000 })),
        profileId: Type.Optional(Id),
        attributes: Type.Optional(
          Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()]), {
            maxProperties: 10,
            description: 'only devices whose server (else client) attributes have these values',
          }),
        ),
      },
      { additionalProperties: false, description: 'deviceIds or profileId (one of them), optionally narrowed by attributes' },
    ),
    waves: Type.Optional(Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 100 }), { minItems: 1, maxItems: 100, description: 'cumulative percentages, ascending; 100 is added when missing' })),
    rate: Type.Optional(Type.Object({ base: Type.Integer({ minimum: 1, maximum: 100_000 }), factor: Type.Number({ minimum: 1, maximum: 10 }) }, { additionalProperties: false, description: 'exponential waves instead of percentages (AWS IoT Jobs style)' })),
    canaries: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, description: 'devices updated alone first' })),
    abort: Type.Optional(Type.Object({ percent: Type.Number({ minimum: 0, maximum: 100 }), after: Type.Integer({ minimum: 1 }) }, { additionalProperties: false, description: 'abort when more than percent % of the finished devices failed, once after devices finished' })),
    timeouts: Type.Optional(
      Type.Object(
        { notifiedMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 7 * 86_400_000 })), progressMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 7 * 86_400_000 })) },
        { additionalProperties: false, description: 'a device told but silent, or stuck in one fw_state, longer than this failed' },
      ),
    ),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
    jitterMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
    window: Type.Optional(Type.Object({ startHour: HOUR, endHour: HOUR }, { additionalProperties: false, description: 'devices are told only between these UTC hours' })),
  },
  { additionalProperties: false },
);

const Counts = Type.Object({
  ...Object.fromEntries(ROLLOUT_STATES.map((s) => [s, Type.Integer()])),
  total: Type.Integer(),
  inProgress: Type.Integer({ description: 'notified + in_progress' }),
});

const DeploymentViewSchema = Type.Object({
  id: Type.String(),
  packageId: Type.String(),
  type: Type.String(),
  version: Type.String(),
  target: Type.Object({ deviceIds: Type.Optional(Type.Array(Type.String())), profileId: Type.Optional(Type.String()), attributes: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))) }),
  plan: Type.Unknown(),
  status: Type.Union(DEPLOYMENT_STATUSES.map((s) => Type.Literal(s))),
  reason: Type.Optional(Type.String()),
  wave: Type.Integer(),
  waves: Type.Integer(),
  counts: Counts,
  perWave: Type.Array(Counts),
  failures: Type.Record(Type.String(), Type.Integer()),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});

const DeviceRowSchema = Type.Object({
  deviceId: Type.String(),
  wave: Type.Integer(),
  state: Type.Union(ROLLOUT_STATES.map((s) => Type.Literal(s))),
  attempts: Type.Integer(),
  fwState: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
  stateSince: Type.Integer(),
});

const view = (d: DeploymentView): Static<typeof DeploymentViewSchema> => {
  const { tenantId: _t, target, ...rest } = d;
  const base = target.profileId !== undefined ? { profileId: target.profileId } : { deviceIds: [...(target.deviceIds ?? [])] };
  return { ...rest, target: { ...base, ...(target.attributes !== undefined ? { attributes: { ...target.attributes } } : {}) } };
};
const deviceRow = (r: DeploymentDevice): Static<typeof DeviceRowSchema> => ({
  deviceId: r.deviceId,
  wave: r.wave,
  state: r.state,
  attempts: r.attempts,
  ...(r.fwState !== undefined ? { fwState: r.fwState } : {}),
  ...(r.error !== undefined ? { error: r.error } : {}),
  stateSince: r.stateSince,
});

export type RolloutApi = Pick<OtaRolloutService, 'create' | 'get' | 'list' | 'devices' | 'act'>;

export const otaDeploymentRoutes: ApiPlugin<{ rollouts: RolloutApi }> = async (app, { rollouts }) => {
  app.post(
    '/ota/deployments',
    { schema: { tags, operationId: 'createDeployment', summary: 'Start a deployment (rollout in waves, with automatic abort); admin', body: CreateBody, response: { 201: Type.Object({ id: Type.String() }), ...errorResponses } } },
    async (request, reply) => {
      const d = await rollouts.create(principalOf(request).tenantId, request.body);
      return reply.code(201).send({ id: d.id });
    },
  );

  app.get(
    '/ota/deployments',
    { schema: { tags, operationId: 'listDeployments', summary: "The tenant's deployments, newest first", response: { 200: Type.Array(DeploymentViewSchema), ...errorResponses } } },
    async (request) => (await rollouts.list(principalOf(request).tenantId)).map(view),
  );

  app.get(
    '/ota/deployments/:id',
    { schema: { tags, operationId: 'getDeployment', summary: 'One deployment: status, current wave, counts (in all and per wave), failure reasons', params: IdParams, response: { 200: DeploymentViewSchema, ...errorResponses } } },
    async (request) => view(await rollouts.get(principalOf(request).tenantId, request.params.id)),
  );

  app.get(
    '/ota/deployments/:id/devices',
    { schema: { tags, operationId: 'listDeploymentDevices', summary: "Each targeted device's rollout state", params: IdParams, response: { 200: Type.Array(DeviceRowSchema), ...errorResponses } } },
    async (request) => (await rollouts.devices(principalOf(request).tenantId, request.params.id)).map(deviceRow),
  );

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(
      `/ota/deployments/:id/${action}`,
      { schema: { tags, operationId: `${action}Deployment`, summary: `${action[0]?.toUpperCase()}${action.slice(1)} the deployment; admin (409 DEPLOYMENT_STATE when its status does not allow it)`, params: IdParams, response: { 200: DeploymentViewSchema, ...errorResponses } } },
      async (request) => view(await rollouts.act(principalOf(request).tenantId, request.params.id, action)),
    );
  }
};
