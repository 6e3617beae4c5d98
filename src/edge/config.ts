/**
 * The edge gateway's configuration: one YAML (or JSON) file, `${NAME}` in any string value
 * replaced from the environment, then checked against the TypeBox schema below. Every problem
 * is reported at start with its path, so a typo never surfaces as a silent missing reading.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { compileRule, RuleError } from '../domain/rules/compile.js';
import type { ActionConfig } from '../domain/rules/model.js';
import { bacnetProblems, BacnetSchema } from './connectors/bacnet/schema.js';
import { modbusProblems, ModbusRtuSchema, ModbusTcpSchema } from './connectors/modbus/schema.js';
import { smsProblems, smsTargetProblems, SmsConnectorSchema } from './connectors/sms/config.js';
import { framesProblems, FramesSchema } from './connectors/frames/schema.js';
import { sparkplugProblems, SparkplugSchema } from './connectors/sparkplug/schema.js';
import { opcuaProblems, OpcuaSchema } from './connectors/opcua/schema.js';
import { allowHostsProblems } from './config-push/allow-hosts.js';
import { edgeActionProblems, scheduleProblems } from './rules/rule-checks.js';

// The Modbus schemas live with their connector; these names stay importable from here.
export { ModbusCommandSchema, ModbusDeviceSchema, ModbusRegisterSchema, ModbusRtuSchema, ModbusTcpSchema } from './connectors/modbus/schema.js';
export type { ModbusCommandConfig, ModbusDeviceConfig, ModbusRegisterConfig, ModbusRtuConfig, ModbusTcpConfig } from './connectors/modbus/schema.js';
export type { BacnetConfig } from './connectors/bacnet/schema.js';
export type { OpcuaConfig } from './connectors/opcua/schema.js';

const ActionSchema = Type.Record(Type.String(), Type.Unknown());

export const LocalRuleSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** Child device name; omitted = every device of the edge. */
    device: Type.Optional(Type.String()),
    /** telemetry (each reading), attributes (a cached shared attribute changed), connectivity (a field device stopped/started answering), schedule. */
    trigger: Type.Union([Type.Literal('telemetry'), Type.Literal('attributes'), Type.Literal('connectivity'), Type.Literal('schedule')], { default: 'telemetry' }),
    /** For `trigger: schedule`: `cron` (five fields, optional `timeZone`) or `every` ("30s", "5m"). */
    schedule: Type.Optional(
      Type.Object({ cron: Type.Optional(Type.String({ minLength: 1 })), timeZone: Type.Optional(Type.String()), every: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
    ),
    condition: Type.String({ default: 'true' }),
    /** Clear the alarms the rule raised when its condition stops holding (as on the platform). */
    autoClear: Type.Boolean({ default: true }),
    for: Type.Optional(Type.String()),
    enabled: Type.Boolean({ default: true }),
    actions: Type.Array(ActionSchema, { minItems: 1 }),
    clearActions: Type.Array(ActionSchema, { default: [] }),
  },
  { additionalProperties: false },
);

export const EdgeConfigSchema = Type.Object(
  {
    platform: Type.Optional(
      Type.Object(
        {
          /** mqtt://host:1883 or mqtts://host:8883 (TLS). */
          url: Type.String({ pattern: '^mqtts?://' }),
          /** The gateway device's access token (MQTT user name). */
          token: Type.String({ minLength: 1 }),
          clientId: Type.Optional(Type.String()),
          keepaliveS: Type.Integer({ minimum: 1, default: 30 }),
          /** First reconnect delay; doubles per failed attempt up to reconnectMaxMs. */
          reconnectMs: Type.Integer({ minimum: 50, default: 1000 }),
          reconnectMaxMs: Type.Integer({ minimum: 50, default: 5000 }),
          tls: Type.Optional(
            Type.Object(
              { ca: Type.Optional(Type.String()), cert: Type.Optional(Type.String()), key: Type.Optional(Type.String()), rejectUnauthorized: Type.Boolean({ default: true }) },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    buffer: Type.Object(
      {
        /** Readings kept while the platform is away; beyond it the oldest are dropped (counted, logged). */
        maxRows: Type.Integer({ minimum: 1, default: 1_000_000 }),
        /** Backlog readings uploaded per second after a reconnect (live data is not limited). */
        drainPerSecond: Type.Integer({ minimum: 1, default: 500 }),
        /** Readings per MQTT publish at most. */
        batchSize: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
        /** Publishes awaiting PUBACK at most. */
        maxInflight: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
      },
      { default: {}, additionalProperties: false },
    ),
    connectors: Type.Array(Type.Union([ModbusTcpSchema, ModbusRtuSchema, BacnetSchema, SmsConnectorSchema, FramesSchema, SparkplugSchema, OpcuaSchema]), { minItems: 1 }),
    rules: Type.Array(LocalRuleSchema, { default: [] }),
    /** What configuration pushed from the platform may use (config-push/push-policy.ts); only this file sets it. */
    configPush: Type.Object(
      {
        /** Environment variables a pushed `${NAME}` may read; any other name refuses the push. */
        allowEnv: Type.Array(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), { default: [] }),
        /** Hosts, addresses, CIDR blocks and serial paths pushed connectors may use; default: those of this file's connectors. */
        allowHosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
      },
      { default: {}, additionalProperties: false },
    ),
    /** Firmware through the edge (docs/EDGE.md): the relay for children and the edge's own updates. */
    firmware: Type.Object(
      {
        /** Bytes per chunk request; fixed per download once it started (a resumed one keeps its size). */
        chunkSize: Type.Integer({ minimum: 256, maximum: 1024 * 1024, default: 16384 }),
        /** Chunk requests per second at most (0: as fast as answers come), to spare a narrow uplink. */
        chunksPerSecond: Type.Number({ minimum: 0, default: 0 }),
        /** A chunk not answered by then is asked again. */
        requestTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
        /** While the platform is away, how long to wait before trying again when no reconnect came. */
        retryMs: Type.Integer({ minimum: 50, default: 5000 }),
        /** What this edge runs, reported as current_fw_title / current_fw_version. */
        title: Type.String({ minLength: 1, default: 'continuum-edge' }),
        version: Type.String({ minLength: 1, default: '0.0.0' }),
        /** Run (argv, no shell) after the edge staged its own update in DIR/updates. */
        installCommand: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
      },
      { default: {}, additionalProperties: false },
    ),
    log: Type.Object({ level: Type.String({ default: 'info' }) }, { default: {}, additionalProperties: false }),
  },
  { additionalProperties: false },
);

export type EdgeConfig = Static<typeof EdgeConfigSchema>;
export type LocalRuleConfig = Static<typeof LocalRuleSchema> & { actions: ActionConfig[]; clearActions: ActionConfig[] };

export class EdgeConfigError extends Error {
  override name = 'EdgeConfigError';
}

/** Replaces `${NAME}` in every string of the tree; `$${` keeps a literal `${`. Unset names are errors. */
export function substituteEnv(tree: unknown, env: Readonly<Record<string, string | undefined>>, path = '', missing: string[] = []): unknown {
  if (typeof tree === 'string') {
    return tree.replace(/\$?\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (match, name: string) => {
      if (match.startsWith('$$')) return match.slice(1);
      const value = env[name];
      if (value === undefined) {
        missing.push(`${path || '(root)'}: environment variable ${name} is not set`);
        return match;
      }
      return value;
    });
  }
  if (Array.isArray(tree)) return tree.map((v, i) => substituteEnv(v, env, `${path}[${i}]`, missing));
  if (tree !== null && typeof tree === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(tree)) out[k] = substituteEnv(v, env, path ? `${path}.${k}` : k, missing);
    return out;
  }
  return tree;
}

/** Each connector type checks its own section (the rules the schema cannot express). */
function connectorProblems(c: EdgeConfig['connectors'][number], at: string): string[] {
  switch (c.type) {
    case 'modbus-tcp':
    case 'modbus-rtu':
      return modbusProblems(c, at);
    case 'bacnet':
      return bacnetProblems(c, at);
    case 'sms':
      return smsProblems(c, at);
    case 'frames':
      return framesProblems(c, at);
    case 'sparkplug':
      return sparkplugProblems(c, at);
    case 'opcua':
      return opcuaProblems(c, at);
  }
}

function checkSemantics(config: EdgeConfig, offline: boolean): string[] {
  const problems: string[] = [];
  if (!offline && !config.platform) problems.push('platform: required unless --offline');
  problems.push(...allowHostsProblems(config.configPush.allowHosts ?? [], 'configPush.allowHosts'));
  const devices = new Set<string>();
  config.connectors.forEach((c, ci) => {
    c.devices.forEach((d, di) => {
      if (devices.has(d.name)) problems.push(`connectors[${ci}].devices[${di}].name: device "${d.name}" is defined twice`);
      devices.add(d.name);
    });
    problems.push(...connectorProblems(c, `connectors[${ci}]`));
  });
  const smsDevices = new Set(config.connectors.flatMap((c) => (c.type === 'sms' ? c.devices.map((d) => d.name) : [])));
  // SMS patterns may command any connector's device, so they are checked once all are known.
  config.connectors.forEach((c, ci) => c.type === 'sms' && problems.push(...smsTargetProblems(c, `connectors[${ci}]`, devices)));
  config.rules.forEach((r, i) => {
    if (r.device !== undefined && !devices.has(r.device)) problems.push(`rules[${i}].device: no device "${r.device}" in connectors`);
    problems.push(...scheduleProblems(r, `rules[${i}]`));
    r.actions.concat(r.clearActions).forEach((a, ai) => problems.push(...edgeActionProblems(a, `rules[${i}].actions[${ai}]`, devices, smsDevices)));
    try {
      compileRule(toDomainRule(r as LocalRuleConfig, i));
    } catch (err) {
      if (err instanceof RuleError) problems.push(`rules[${i}].${err.message}`);
      else throw err;
    }
  });
  return problems;
}

/** The platform's rule shape, so the pure domain compiler checks edge rules exactly as it checks platform ones. */
export function toDomainRule(r: LocalRuleConfig, index: number) {
  return {
    id: `edge-rule-${index}`,
    tenantId: 'edge',
    name: r.name,
    enabled: r.enabled,
    trigger: r.trigger,
    // An interval schedule is timed by the edge (rules/schedule.ts); the compiler only needs a valid cron.
    ...(r.trigger === 'schedule' ? { schedule: { cron: r.schedule?.cron ?? '* * * * *', ...(r.schedule?.timeZone !== undefined ? { timeZone: r.schedule.timeZone } : {}) } } : {}),
    condition: r.condition,
    ...(r.for !== undefined ? { for: r.for } : {}),
    actions: r.actions,
    clearActions: r.clearActions,
    autoClear: r.autoClear,
    createdAt: 0,
    updatedAt: 0,
  };
}

const errorLine = (path: string, message: string): string => `${path.replace(/\/(\d+)/g, '[$1]').replace(/^\//, '').replace(/\//g, '.') || '(root)'}: ${message}`;

/** The schema of each connector `type`. */
const CONNECTOR_SCHEMAS: Readonly<Record<EdgeConfig['connectors'][number]['type'], TSchema>> = { 'modbus-tcp': ModbusTcpSchema, 'modbus-rtu': ModbusRtuSchema, bacnet: BacnetSchema, sms: SmsConnectorSchema, frames: FramesSchema, sparkplug: SparkplugSchema, opcua: OpcuaSchema };

/**
 * TypeBox converts and fills defaults through a union only via a member that already matches,
 * and reports a bad member as "Expected union value"; so each connector is filled and checked
 * against the member its `type` names, with that member's paths in the errors.
 */
function fillConnectors(tree: Record<string, unknown>): string[] {
  const list = tree.connectors;
  if (!Array.isArray(list)) return [];
  const errors: string[] = [];
  list.forEach((item: unknown, i) => {
    const type = item !== null && typeof item === 'object' ? (item as { type?: unknown }).type : undefined;
    const schema = typeof type === 'string' && Object.hasOwn(CONNECTOR_SCHEMAS, type) ? CONNECTOR_SCHEMAS[type as keyof typeof CONNECTOR_SCHEMAS] : undefined;
    if (!schema) {
      errors.push(`connectors[${i}].type: expected one of ${Object.keys(CONNECTOR_SCHEMAS).join(', ')}`);
      return;
    }
    list[i] = Value.Default(schema, Value.Convert(schema, item));
    for (const e of Value.Errors(schema, list[i])) errors.push(errorLine(`/connectors/${i}${e.path}`, e.message));
  });
  return errors;
}

/** Parses, substitutes, fills defaults and validates; throws EdgeConfigError listing every problem. */
export function parseEdgeConfig(text: string, env: Readonly<Record<string, string | undefined>>, options: { offline?: boolean; source?: string } = {}): EdgeConfig {
  const source = options.source ?? 'config';
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new EdgeConfigError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new EdgeConfigError(`${source}: not a mapping`);
  // Offline runs need no platform: its ${…} references may legitimately be unset.
  if (options.offline) delete (raw as Record<string, unknown>).platform;
  const missing: string[] = [];
  // `${…}` inside rules is the rule template language (`${deviceName}`), rendered per firing;
  // environment substitution there would be ambiguous, so rules are left as written.
  const { rules, ...rest } = raw as Record<string, unknown>;
  // The old names of the edge's URL still fill CONTINUUM_EDGE_URL (runEdgeFromCli warns about them).
  const tree = { ...(substituteEnv(rest, edgeEnvironment(env, () => undefined), '', missing) as object), ...(rules !== undefined ? { rules } : {}) };
  if (missing.length > 0) throw new EdgeConfigError(`${source}: invalid configuration:\n  ${missing.join('\n  ')}`);
  // Environment values are strings; Convert turns "1502" into a port where the schema wants a number.
  const connectorErrors = fillConnectors(tree);
  const filled = Value.Default(EdgeConfigSchema, Value.Convert(EdgeConfigSchema, tree));
  const errors = [...connectorErrors, ...[...Value.Errors(EdgeConfigSchema, filled)].filter((e) => !/^\/connectors\/\d+/.test(e.path)).map((e) => errorLine(e.path, e.message))].slice(0, 20);
  if (errors.length > 0) throw new EdgeConfigError(`${source}: invalid configuration:\n  ${errors.join('\n  ')}`);
  const config = filled as EdgeConfig;
  const problems = checkSemantics(config, options.offline ?? false);
  if (problems.length > 0) throw new EdgeConfigError(`${source}: invalid configuration:\n  ${problems.join('\n  ')}`);
  return config;
}

/** The edge's own name for the platform's MQTT address; CONTINUUM_URL is the CLI's http:// API address. */
export const EDGE_URL_VAR = 'CONTINUUM_EDGE_URL';

/**
 * One meaning per variable name: the edge reads CONTINUUM_EDGE_URL. Before it had its own name
 * the edge took CONTINUUM_URL=mqtt://…, which the CLI reads as http://; that still works (both
 * names are filled), with a warning to move.
 */
export function edgeEnvironment(env: Readonly<Record<string, string | undefined>>, warn: (message: string) => void): Readonly<Record<string, string | undefined>> {
  if (env[EDGE_URL_VAR] !== undefined) return env;
  // CONTINUUM_MQTT_URL, used by two examples, sits among the platform's CONTINUUM_MQTT_* settings.
  for (const name of ['CONTINUUM_URL', 'CONTINUUM_MQTT_URL']) {
    const old = env[name];
    if (old === undefined || !/^(mqtts?|wss?|tcp|tls):\/\//i.test(old)) continue;
    warn(`${name}=${old.split('://')[0] ?? ''}://… for the edge is deprecated: set ${EDGE_URL_VAR} (CONTINUUM_URL is the CLI's http:// API address)`);
    return { ...env, [EDGE_URL_VAR]: old };
  }
  return env;
}

export function loadEdgeConfig(file: string, env: Readonly<Record<string, string | undefined>>, options: { offline?: boolean } = {}): EdgeConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new EdgeConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseEdgeConfig(text, env, { ...options, source: file });
}
