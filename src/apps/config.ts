/**
 * One typed configuration. Sources, later overriding earlier: defaults, config file (JSON or
 * YAML), CONTINUUM_* environment variables, command-line flags. The schema is compiled once;
 * an invalid config stops startup with every problem listed.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

export const ConfigSchema = Type.Object({
  dataDir: Type.String({ default: './data' }),
  host: Type.String({ default: '0.0.0.0', description: 'address every listener binds' }),
  http: Type.Object({ port: Port }, { default: {} }),
  https: Type.Object({ port: Port }, { default: {} }),
  mqtt: Type.Object(
    {
      port: Port,
      tlsPort: Port,
      /** default: production rules; conformance: anonymous clients for conformance suites only. */
      profile: Type.Union([Type.Literal('default'), Type.Literal('conformance')]),
      /** Server keep-alive cap in seconds (MQTT 5 Server Keep Alive). 0 = no cap. */
      maxKeepAlive: Type.Integer({ minimum: 0, maximum: 65535 }),
      /** Messages queued per offline persistent session before the oldest are dropped. */
      maxQueuedMessages: Type.Integer({ minimum: 0 }),
      /** Retained messages one device (or client) may hold: topics and bytes (topic + payload). */
      maxRetainedPerClient: Type.Integer({ minimum: 0 }),
      maxRetainedBytesPerClient: Type.Integer({ minimum: 0 }),
      /** Retained messages the broker holds in all. */
      maxRetainedTotal: Type.Integer({ minimum: 0 }),
      maxRetainedBytesTotal: Type.Integer({ minimum: 0 }),
    },
    { default: {} },
  ),
  coap: Type.Object({ port: Port }, { default: {} }),
  tls: Type.Object(
    { cert: Type.Optional(Type.String()), key: Type.Optional(Type.String()), ca: Type.Optional(Type.String()) },
    { default: {} },
  ),
  store: Type.Object(
    {
      kind: Type.Union([Type.Literal('sqlite'), Type.Literal('memory')]),
      /** SQLite synchronous mode: NORMAL survives a process kill; FULL also survives power loss. */
      synchronous: Type.Union([Type.Literal('NORMAL'), Type.Literal('FULL')]),
    },
    { default: {} },
  ),
  bus: Type.Object({ kind: Type.Union([Type.Literal('memory')]) }, { default: {} }),
  limits: Type.Object(
    {
      maxPayloadBytes: Type.Integer({ minimum: 64 }),
      maxKeyLength: Type.Integer({ minimum: 1, maximum: 255 }),
      maxFutureSkewMs: Type.Integer({ minimum: 0 }),
      /** Levels of objects/arrays in one device JSON document. */
      maxDepth: Type.Integer({ minimum: 2, maximum: 1000 }),
      /** Characters in one string value (telemetry, attribute, nested JSON). */
      maxStringLength: Type.Integer({ minimum: 1 }),
      /** Points in one telemetry message, keys in one attribute message. */
      maxValuesPerMessage: Type.Integer({ minimum: 1 }),
    },
    { default: {} },
  ),
  ingest: Type.Object(
    {
      /** Rows per group commit at most; a batch also closes when the event loop turns. */
      maxBatchRows: Type.Integer({ minimum: 1 }),
    },
    { default: {} },
  ),
  auth: Type.Object(
    {
      adminEmail: Type.Optional(Type.String()),
      adminPassword: Type.Optional(Type.String()),
      jwtTtlSeconds: Type.Integer({ minimum: 60 }),
    },
    { default: {} },
  ),
  rpc: Type.Object({ defaultTimeoutMs: Type.Integer({ minimum: 100 }) }, { default: {} }),
  /** Outgoing notifications of rule actions. E-mail is off until notify.smtp.host is set, SMS until notify.smpp.enabled. */
  notify: Type.Object(
    {
      smtp: Type.Object(
        {
          host: Type.Optional(Type.String()),
          port: Port,
          /** Implicit TLS (port 465); otherwise STARTTLS is used when the server offers it. */
          secure: Type.Boolean(),
          requireTls: Type.Boolean(),
          from: Type.Optional(Type.String()),
          username: Type.Optional(Type.String()),
          password: Type.Optional(Type.String()),
        },
        { default: {} },
      ),
      /** SMS over SMPP 3.4 (an ESME bound to this SMSC); off until enabled. Lengths are SMPP's field sizes. */
      smpp: Type.Object(
        {
          enabled: Type.Boolean(),
          host: Type.String(),
          port: Port,
          systemId: Type.String({ maxLength: 15 }),
          password: Type.String({ maxLength: 8 }),
          /** Default sender: a number or a name of up to 11 characters; empty lets the SMSC choose. */
          sourceAddr: Type.String({ maxLength: 20 }),
          bindMode: Type.Union([Type.Literal('transmitter'), Type.Literal('transceiver')]),
          enquireLinkMs: Type.Integer({ minimum: 1000 }),
        },
        { default: {} },
      ),
    },
    { default: {} },
  ),
  /** Dashboard settings the browser reads from GET /api/ui-config (no tile server by default: works offline). */
  web: Type.Object(
    { tileUrl: Type.Optional(Type.String({ description: 'map tiles, e.g. https://tile.example.org/{z}/{x}/{y}.png' })), tileAttribution: Type.Optional(Type.String()) },
    { default: {} },
  ),
  log: Type.Object(
    { level: Type.Union(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].map((l) => Type.Literal(l))) },
    { default: {} },
  ),
});

export type Config = Static<typeof ConfigSchema>;

export const DEFAULTS: Config = {
  dataDir: './data',
  host: '0.0.0.0',
  http: { port: 8080 },
  https: { port: 8443 },
  mqtt: {
    port: 1883,
    tlsPort: 8883,
    profile: 'default',
    maxKeepAlive: 0,
    maxQueuedMessages: 1000,
    maxRetainedPerClient: 100,
    maxRetainedBytesPerClient: 1024 * 1024,
    maxRetainedTotal: 100_000,
    maxRetainedBytesTotal: 256 * 1024 * 1024,
  },
  coap: { port: 5683 },
  tls: {},
  store: { kind: 'sqlite', synchronous: 'NORMAL' },
  bus: { kind: 'memory' },
  limits: {
    maxPayloadBytes: 256 * 1024,
    maxKeyLength: 255,
    maxFutureSkewMs: 24 * 60 * 60 * 1000,
    maxDepth: 32,
    maxStringLength: 64 * 1024,
    maxValuesPerMessage: 10_000,
  },
  ingest: { maxBatchRows: 10_000 },
  auth: { jwtTtlSeconds: 24 * 60 * 60 },
  rpc: { defaultTimeoutMs: 10_000 },
  notify: {
    smtp: { port: 587, secure: false, requireTls: false },
    smpp: { enabled: false, host: 'localhost', port: 2775, systemId: '', password: '', sourceAddr: '', bindMode: 'transmitter', enquireLinkMs: 30_000 },
  },
  log: { level: 'info' },
  web: {},
};

/** Flags the CLI accepts for `start`, with the config path each one sets. */
export const FLAG_PATHS: Record<string, { path: string; type: 'string' | 'int' }> = {
  'data-dir': { path: 'dataDir', type: 'string' },
  host: { path: 'host', type: 'string' },
  'http-port': { path: 'http.port', type: 'int' },
  'https-port': { path: 'https.port', type: 'int' },
  'mqtt-port': { path: 'mqtt.port', type: 'int' },
  'mqtts-port': { path: 'mqtt.tlsPort', type: 'int' },
  'mqtt-profile': { path: 'mqtt.profile', type: 'string' },
  'coap-port': { path: 'coap.port', type: 'int' },
  'tls-cert': { path: 'tls.cert', type: 'string' },
  'tls-key': { path: 'tls.key', type: 'string' },
  'tls-ca': { path: 'tls.ca', type: 'string' },
  store: { path: 'store.kind', type: 'string' },
  'log-level': { path: 'log.level', type: 'string' },
  'max-payload-bytes': { path: 'limits.maxPayloadBytes', type: 'int' },
  'map-tile-url': { path: 'web.tileUrl', type: 'string' },
};

/** Env var for a config path: mqtt.port → CONTINUUM_MQTT_PORT, dataDir → CONTINUUM_DATA_DIR. */
export function envNameFor(path: string): string {
  return 'CONTINUUM_' + path.replace(/\./g, '_').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

/** Which flag changes a given config path (for error messages such as a taken port). */
export function flagFor(path: string): string | undefined {
  const entry = Object.entries(FLAG_PATHS).find(([, v]) => v.path === path);
  return entry ? `--${entry[0]}` : undefined;
}

type Tree = Record<string, unknown>;

function setPath(target: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1] as string] = value;
}

function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      typeof v === 'object' && v !== null && !Array.isArray(v) && typeof b === 'object' && b !== null
        ? deepMerge(b as Tree, v as Tree)
        : v;
  }
  return out;
}

function leafPaths(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? leafPaths(v as Tree, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

function coerce(raw: string, sample: unknown): unknown {
  if (typeof sample === 'number') return Number(raw);
  if (typeof sample === 'boolean') return raw === 'true' || raw === '1';
  return raw;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ConfigSources {
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Flag name (without --) → raw string value. */
  readonly flags?: Record<string, string | undefined>;
  /** Direct overrides, applied last (tests). */
  readonly overrides?: Partial<Record<keyof Config, unknown>>;
}

const OPTIONAL_ENV_PATHS = ['auth.adminEmail', 'auth.adminPassword', 'tls.cert', 'tls.key', 'tls.ca', 'notify.smtp.host', 'notify.smtp.from', 'notify.smtp.username', 'notify.smtp.password', 'web.tileUrl', 'web.tileAttribution'];

export function loadConfig(sources: ConfigSources = {}): Config {
  let tree: Tree = structuredClone(DEFAULTS) as unknown as Tree;
  if (sources.file) {
    const text = readFileSync(sources.file, 'utf8');
    const parsed: unknown = sources.file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (typeof parsed !== 'object' || parsed === null) throw new ConfigError(`${sources.file}: not a mapping`);
    tree = deepMerge(tree, parsed as Tree);
  }
  const env = sources.env ?? {};
  const defaultsTree = DEFAULTS as unknown as Tree;
  for (const path of [...leafPaths(defaultsTree), ...OPTIONAL_ENV_PATHS]) {
    const raw = env[envNameFor(path)];
    if (raw === undefined || raw === '') continue;
    const sample = path.split('.').reduce<unknown>((n, p) => (n as Tree | undefined)?.[p], defaultsTree);
    setPath(tree, path, coerce(raw, sample));
  }
  // ThingsBoard-style short names for the first admin, as documented in the README.
  if (env.CONTINUUM_ADMIN_EMAIL) setPath(tree, 'auth.adminEmail', env.CONTINUUM_ADMIN_EMAIL);
  if (env.CONTINUUM_ADMIN_PASSWORD) setPath(tree, 'auth.adminPassword', env.CONTINUUM_ADMIN_PASSWORD);
  for (const [flag, raw] of Object.entries(sources.flags ?? {})) {
    const spec = FLAG_PATHS[flag];
    if (!spec || raw === undefined) continue;
    setPath(tree, spec.path, spec.type === 'int' ? Number(raw) : raw);
  }
  if (sources.overrides) tree = deepMerge(tree, sources.overrides as Tree);
  const errors = [...Value.Errors(ConfigSchema, tree)];
  if (errors.length > 0) {
    const lines = errors.slice(0, 10).map((e) => {
      const path = e.path.replace(/^\//, '').replace(/\//g, '.');
      const flag = flagFor(path);
      return `  ${path || '(root)'}: ${e.message}${flag ? ` (flag ${flag}, env ${envNameFor(path)})` : ''}`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return tree as unknown as Config;
}
