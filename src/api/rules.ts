/**
 * Rules over REST: CRUD, validation with the position of an expression error, the action
 * catalogue, and backtests over stored history. A malformed rule answers 400
 * `{error: "INVALID_RULE", message, path, position?: {line, column, offset}}`.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { MAX_EXPRESSION_LENGTH } from '../domain/expression/index.js';
import { PlatformError } from '../domain/errors.js';
import { RULE_TRIGGERS, type Rule, type RuleInput } from '../domain/rules/model.js';
import { RuleValidationError, type RuleService } from '../services/rules/index.js';
import { principalOf } from './principal.js';
import { IdParams, errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['rules'];

const Action = Type.Object(
  { type: Type.String({ minLength: 1, maxLength: 64, description: 'see GET /api/rules/actions' }) },
  { additionalProperties: true, description: 'an action: its type and its parameters' },
);

const ruleFields = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  description: Type.Optional(Type.String({ maxLength: 4096 })),
  enabled: Type.Optional(Type.Boolean({ description: 'default true' })),
  deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the one device the rule applies to' })),
  profileId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'or every device of this profile (neither: every device of the tenant)' })),
  groupId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'only members of this device group (with profileId: members of that profile)' })),
  trigger: Type.Optional(Type.Union(RULE_TRIGGERS.map((t) => Type.Literal(t)), { description: 'default telemetry' })),
  // The parser reports over-long expressions itself, with a position; this only bounds the body.
  condition: Type.Optional(Type.String({ maxLength: 2 * MAX_EXPRESSION_LENGTH, description: 'expression, e.g. batteryLevel < 10 (default true); see docs/RULES.md' })),
  for: Type.Optional(Type.String({ maxLength: 32, description: 'the condition must hold this long (message time) before acting, e.g. "10m"' })),
  schedule: Type.Optional(
    Type.Object(
      { cron: Type.String({ minLength: 1, maxLength: 128 }), timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone, default UTC' })) },
      { additionalProperties: false },
    ),
  ),
  connectivity: Type.Optional(Type.Object({ inactiveMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 1440 })) }, { additionalProperties: false })),
  actions: Type.Array(Action, { maxItems: 20 }),
  clearActions: Type.Optional(Type.Array(Action, { maxItems: 20, description: 'run when the condition stops holding after the rule fired' })),
  autoClear: Type.Optional(Type.Boolean({ description: 'clear the alarms the rule raised when the condition stops holding (default true)' })),
};

const RuleBody = Type.Object(ruleFields, { additionalProperties: false });
type RuleBody = Static<typeof RuleBody>;

const RuleView = Type.Object({
  ...ruleFields,
  id: Type.String(),
  tenantId: Type.String(),
  enabled: Type.Boolean(),
  trigger: Type.Union(RULE_TRIGGERS.map((t) => Type.Literal(t))),
  condition: Type.String(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});

const Position = Type.Object({ line: Type.Integer(), column: Type.Integer(), offset: Type.Integer() });
const RuleErrorBody = Type.Object({
  error: Type.String(),
  message: Type.String(),
  path: Type.Optional(Type.String({ description: 'the field at fault, e.g. condition or actions[1].severity' })),
  position: Type.Optional(Position),
});

const Time = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1, maxLength: 64 })], { description: 'epoch ms or ISO-8601' });
const BacktestBody = Type.Object(
  { from: Time, to: Time, maxDevices: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })), maxFired: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })) },
  { additionalProperties: false },
);
const BacktestView = Type.Object({
  fired: Type.Array(
    Type.Object({ ts: Type.Integer(), deviceId: Type.String(), deviceName: Type.String(), edge: Type.Union([Type.Literal('raise'), Type.Literal('clear')]), actions: Type.Array(Action) }),
  ),
  evaluated: Type.Integer(),
  devices: Type.Integer(),
  messages: Type.Integer(),
  errors: Type.Array(Type.Object({ ts: Type.Integer(), deviceId: Type.String(), message: Type.String() })),
  errorCount: Type.Integer(),
  truncated: Type.Boolean(),
  tookMs: Type.Integer(),
});

function toInput(body: RuleBody): RuleInput {
  return { ...body, trigger: body.trigger ?? 'telemetry', actions: body.actions as RuleInput['actions'], ...(body.clearActions ? { clearActions: body.clearActions as RuleInput['actions'] } : {}) };
}

function toTime(value: number | string, field: string): number {
  if (typeof value === 'number') return value;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(ms)) throw new PlatformError('BAD_REQUEST', `${field}: "${value}" is neither epoch milliseconds nor an ISO date`);
  return ms;
}

/** Validation failures carry the field and the expression position; everything else goes to the shared handler. */
async function answer<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof RuleValidationError)) throw err;
    return reply.code(400).send({ error: err.code, message: err.message, path: err.path, ...(err.position ? { position: err.position } : {}) });
  }
}

const view = (rule: Rule): Static<typeof RuleView> => rule as Static<typeof RuleView>;

export const ruleRoutes: ApiPlugin<{ rules: RuleService }> = async (app, { rules }) => {
  const invalid = { 400: RuleErrorBody, ...errorResponses };

  app.get('/rules/actions', { schema: { tags, operationId: 'listRuleActions', summary: 'Action types a rule can use, with their parameter schemas and defaults', response: { 200: Type.Object({ items: Type.Array(Type.Object({ type: Type.String(), title: Type.String(), description: Type.String(), configSchema: Type.Unknown(), defaults: Type.Unknown() })) }), ...errorResponses } } }, async () => ({
    items: rules.catalog.list().map((d) => ({ type: d.type, title: d.title, description: d.description, configSchema: d.configSchema, defaults: d.defaults })),
  }));

  app.get('/rules', { schema: { tags, operationId: 'listRules', summary: "The tenant's rules", response: { 200: Type.Object({ items: Type.Array(RuleView), total: Type.Integer() }), ...errorResponses } } }, async (request) => {
    const items = await rules.list(principalOf(request).tenantId);
    return { items: items.map(view), total: items.length };
  });

  app.post('/rules', { schema: { tags, operationId: 'createRule', summary: 'Create a rule (validated: expression errors answer 400 with a position)', body: RuleBody, response: { 201: RuleView, ...invalid } } }, async (request, reply) =>
    answer(reply, async () => reply.code(201).send(view(await rules.create(principalOf(request).tenantId, toInput(request.body))))),
  );

  app.post(
    '/rules/validate',
    { schema: { tags, operationId: 'validateRule', summary: 'Check a rule without saving it', body: RuleBody, response: { 200: Type.Object({ valid: Type.Boolean(), reads: Type.Unknown({ description: 'keys, windows and attributes the rule reads' }) }), ...invalid } } },
    async (request, reply) =>
      answer(reply, async () => {
        const compiled = await rules.validate(principalOf(request).tenantId, toInput(request.body));
        return { valid: true, reads: compiled.analysis };
      }),
  );

  app.get('/rules/:id', { schema: { tags, operationId: 'getRule', summary: 'One rule', params: IdParams, response: { 200: RuleView, ...errorResponses } } }, async (request) =>
    view(await rules.get(principalOf(request).tenantId, request.params.id)),
  );

  app.put('/rules/:id', { schema: { tags, operationId: 'replaceRule', summary: 'Replace a rule; its per-device state starts over', params: IdParams, body: RuleBody, response: { 200: RuleView, ...invalid } } }, async (request, reply) =>
    answer(reply, async () => view(await rules.update(principalOf(request).tenantId, request.params.id, toInput(request.body)))),
  );

  app.delete('/rules/:id', { schema: { tags, operationId: 'deleteRule', summary: 'Delete a rule and its state', params: IdParams, response: { 204: Type.Null(), ...errorResponses } } }, async (request, reply) => {
    await rules.remove(principalOf(request).tenantId, request.params.id);
    return reply.code(204).send(null);
  });

  app.post(
    '/rules/:id/backtest',
    { schema: { tags, operationId: 'backtestRule', summary: 'Replay stored telemetry through the rule without side effects', params: IdParams, body: BacktestBody, response: { 200: BacktestView, ...invalid } } },
    async (request, reply) =>
      answer(reply, async () => {
        const b = request.body;
        return rules.backtest(principalOf(request).tenantId, request.params.id, {
          from: toTime(b.from, 'from'),
          to: toTime(b.to, 'to'),
          ...(b.maxDevices !== undefined ? { maxDevices: b.maxDevices } : {}),
          ...(b.maxFired !== undefined ? { maxFired: b.maxFired } : {}),
        });
      }),
  );
};
