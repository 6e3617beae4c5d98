/**
 * The edge gateway's configuration: one YAML (or JSON) file, `${NAME}` in any string value
 * replaced from the environment, then checked against the TypeBox schema below. Every problem
 * is reported at start with its path, so a typo never surfaces as a silent missing reading.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { compileRule, RuleError } from '../domain/rules/compile.js';
import type { ActionConfig } from '../domain/rules/model.js';
import { MODBUS_TYPES, registerCount } from './connectors/modbus/codec.js';

const Order = Type.Union([Type.Literal('big'), Type.Literal('little')]);

export const ModbusRegisterSchema = Type.Object(
  {
    key: Type.String({ minLength: 1 }),
    /** 1 coils, 2 discrete inputs, 3 holding registers, 4 input registers (Modbus spec 6.1–6.4). */
    fc: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3), Type.Literal(4)], { default: 3 }),
    /** PDU address, 0-based (mbpoll -r 1 is address 0). */
    address: Type.Integer({ minimum: 0, maximum: 65535 }),
    type: Type.Union(MODBUS_TYPES.map((t) => Type.Literal(t)), { default: 'uint16' }),
    /** Registers of a string (2 characters each); other types have a fixed size. */
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 125 })),
    /** Byte order inside each 16-bit register; Modbus itself is big-endian (spec 4.2). */
    byteOrder: Type.Optional(Order),
    /** Register order of 32/64-bit values: big = most significant register first. */
    wordOrder: Type.Optional(Order),
    /** value = raw × scale + offset (numbers only). */
    scale: Type.Optional(Type.Number()),
    offset: Type.Optional(Type.Number()),
    unit: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const ModbusCommandSchema = Type.Object(
  {
    method: Type.String({ minLength: 1 }),
    /** 5 write single coil, 6 write single register, 16 write multiple registers (spec 6.5, 6.6, 6.12). */
    fc: Type.Union([Type.Literal(5), Type.Literal(6), Type.Literal(16)]),
    address: Type.Integer({ minimum: 0, maximum: 65535 }),
    type: Type.Union(MODBUS_TYPES.map((t) => Type.Literal(t)), { default: 'uint16' }),
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 123 })),
    byteOrder: Type.Optional(Order),
    wordOrder: Type.Optional(Order),
    /** The engineering value is turned back into raw: raw = (value − offset) / scale. */
    scale: Type.Optional(Type.Number()),
    offset: Type.Optional(Type.Number()),
    /** A fixed value to write; otherwise params.value, or params itself when it is a scalar. */
    value: Type.Optional(Type.Union([Type.Number(), Type.Boolean(), Type.String()])),
  },
  { additionalProperties: false },
);

export const ModbusDeviceSchema = Type.Object(
  {
    /** The child device's name on the platform. */
    name: Type.String({ minLength: 1 }),
    /** Modbus unit identifier (MBAP header, Modbus/TCP guide 3.1.3). */
    unitId: Type.Integer({ minimum: 0, maximum: 255, default: 1 }),
    pollMs: Type.Integer({ minimum: 10, default: 1000 }),
    /** Device type sent with v1/gateway/connect. */
    type: Type.Optional(Type.String()),
    registers: Type.Array(ModbusRegisterSchema, { minItems: 1 }),
    commands: Type.Array(ModbusCommandSchema, { default: [] }),
  },
  { additionalProperties: false },
);

export const ModbusTcpSchema = Type.Object(
  {
    type: Type.Literal('modbus-tcp'),
    name: Type.String({ minLength: 1, default: 'modbus' }),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 502 }),
    timeoutMs: Type.Integer({ minimum: 10, default: 1000 }),
    reconnect: Type.Object(
      { minMs: Type.Integer({ minimum: 10, default: 500 }), maxMs: Type.Integer({ minimum: 10, default: 30_000 }) },
      { default: {}, additionalProperties: false },
    ),
    devices: Type.Array(ModbusDeviceSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

const ActionSchema = Type.Record(Type.String(), Type.Unknown());

export const LocalRuleSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    /** Child device name; omitted = every device of the edge. */
    device: Type.Optional(Type.String()),
    trigger: Type.Literal('telemetry', { default: 'telemetry' }),
    condition: Type.String({ default: 'true' }),
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
    connectors: Type.Array(ModbusTcpSchema, { minItems: 1 }),
    rules: Type.Array(LocalRuleSchema, { default: [] }),
    log: Type.Object({ level: Type.String({ default: 'info' }) }, { default: {}, additionalProperties: false }),
  },
  { additionalProperties: false },
);

export type EdgeConfig = Static<typeof EdgeConfigSchema>;
export type ModbusTcpConfig = Static<typeof ModbusTcpSchema>;
export type ModbusDeviceConfig = Static<typeof ModbusDeviceSchema>;
export type ModbusRegisterConfig = Static<typeof ModbusRegisterSchema>;
export type ModbusCommandConfig = Static<typeof ModbusCommandSchema>;
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

function checkSemantics(config: EdgeConfig, offline: boolean): string[] {
  const problems: string[] = [];
  if (!offline && !config.platform) problems.push('platform: required unless --offline');
  const devices = new Set<string>();
  config.connectors.forEach((c, ci) => {
    if (c.reconnect.maxMs < c.reconnect.minMs) problems.push(`connectors[${ci}].reconnect: maxMs < minMs`);
    c.devices.forEach((d, di) => {
      const at = `connectors[${ci}].devices[${di}]`;
      if (devices.has(d.name)) problems.push(`${at}.name: device "${d.name}" is defined twice`);
      devices.add(d.name);
      const keys = new Set<string>();
      d.registers.forEach((r, ri) => {
        if (keys.has(r.key)) problems.push(`${at}.registers[${ri}].key: "${r.key}" is defined twice`);
        keys.add(r.key);
        if ((r.fc === 1 || r.fc === 2) && r.type !== 'bool') problems.push(`${at}.registers[${ri}].type: function code ${r.fc} reads bits; type must be bool`);
        if (r.type === 'string' && r.count === undefined) problems.push(`${at}.registers[${ri}].count: a string needs count (registers)`);
      });
      const methods = new Set<string>();
      d.commands.forEach((m, mi) => {
        if (methods.has(m.method)) problems.push(`${at}.commands[${mi}].method: "${m.method}" is defined twice`);
        methods.add(m.method);
        if (m.fc === 5 && m.type !== 'bool') problems.push(`${at}.commands[${mi}].type: function code 5 writes a coil; type must be bool`);
        if (m.fc === 6 && registerCount(m.type, m.count) !== 1) problems.push(`${at}.commands[${mi}].fc: ${m.type} spans several registers; use function code 16`);
        if (m.fc !== 5 && m.type === 'bool') problems.push(`${at}.commands[${mi}].type: bool is written to a coil (function code 5)`);
      });
    });
  });
  config.rules.forEach((r, i) => {
    if (r.device !== undefined && !devices.has(r.device)) problems.push(`rules[${i}].device: no device "${r.device}" in connectors`);
    r.actions.concat(r.clearActions).forEach((a, ai) => {
      if (a.type !== 'command' && a.type !== 'telemetry' && a.type !== 'log') problems.push(`rules[${i}].actions[${ai}].type: "${String(a.type)}" does not run on the edge (command, telemetry, log)`);
      if (a.type === 'command' && typeof a.device === 'string' && !devices.has(a.device)) problems.push(`rules[${i}].actions[${ai}].device: no device "${a.device}"`);
    });
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
    trigger: 'telemetry' as const,
    condition: r.condition,
    ...(r.for !== undefined ? { for: r.for } : {}),
    actions: r.actions,
    clearActions: r.clearActions,
    autoClear: false,
    createdAt: 0,
    updatedAt: 0,
  };
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
  const tree = { ...(substituteEnv(rest, env, '', missing) as object), ...(rules !== undefined ? { rules } : {}) };
  if (missing.length > 0) throw new EdgeConfigError(`${source}: invalid configuration:\n  ${missing.join('\n  ')}`);
  // Environment values are strings; Convert turns "1502" into a port where the schema wants a number.
  const filled = Value.Default(EdgeConfigSchema, Value.Convert(EdgeConfigSchema, tree));
  const errors = [...Value.Errors(EdgeConfigSchema, filled)].slice(0, 20).map((e) => `${e.path.replace(/\/(\d+)/g, '[$1]').replace(/^\//, '').replace(/\//g, '.') || '(root)'}: ${e.message}`);
  if (errors.length > 0) throw new EdgeConfigError(`${source}: invalid configuration:\n  ${errors.join('\n  ')}`);
  const config = filled as EdgeConfig;
  const problems = checkSemantics(config, options.offline ?? false);
  if (problems.length > 0) throw new EdgeConfigError(`${source}: invalid configuration:\n  ${problems.join('\n  ')}`);
  return config;
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
