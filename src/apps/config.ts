/**
 * One typed configuration. Sources, later overriding earlier: defaults, config file (JSON or
 * YAML), CONTINUUM_* environment variables, command-line flags. The schema is compiled once;
 * an invalid config stops startup with every problem listed.
 */
import { Value, type ValueError } from '@sinclair/typebox/value';
import { parseAllowList } from '../domain/outbound/allow-list.js';
import { ConfigSchema, DEFAULTS, type Config } from './config-schema.js';
import { applyClusterMode, ClusterConfigError } from './cluster-config.js';
import { ConfigFileError, allowedValues, didYouMean, originOf, readConfigFile, recordLeaves, schemaPaths, unknownKeys, type ConfigFile, type SettingOrigin } from './config-file.js';

export type { SettingOrigin };
export { ConfigSchema, DEFAULTS, NODE_ID_PATTERN, type Config } from './config-schema.js';

/** Flags the CLI accepts for `start`, with the config path each one sets. */
export const FLAG_PATHS: Record<string, { path: string; type: 'string' | 'int' | 'boolean' }> = {
  'data-dir': { path: 'dataDir', type: 'string' },
  cluster: { path: 'cluster.enabled', type: 'boolean' },
  'cluster-name': { path: 'cluster.name', type: 'string' },
  host: { path: 'host', type: 'string' },
  'node-id': { path: 'node.id', type: 'string' },
  'http-port': { path: 'http.port', type: 'int' },
  'https-port': { path: 'https.port', type: 'int' },
  'mqtt-port': { path: 'mqtt.port', type: 'int' },
  'mqtts-port': { path: 'mqtt.tlsPort', type: 'int' },
  'mqtt-profile': { path: 'mqtt.profile', type: 'string' },
  'coap-port': { path: 'coap.port', type: 'int' },
  'tls-cert': { path: 'tls.cert', type: 'string' },
  'tls-key': { path: 'tls.key', type: 'string' },
  'tls-ca': { path: 'tls.ca', type: 'string' },
  'tls-crl': { path: 'tls.crl', type: 'string' },
  store: { path: 'store.kind', type: 'string' },
  postgres: { path: 'store.postgres.url', type: 'string' },
  bus: { path: 'bus.kind', type: 'string' },
  nats: { path: 'bus.nats.url', type: 'string' },
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
  // Lists from the environment are comma-separated (CONTINUUM_OUTBOUND_ALLOW=a:1,b).
  if (Array.isArray(sample)) return raw.split(',').map((item) => item.trim()).filter((item) => item !== '');
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

const OPTIONAL_ENV_PATHS = ['node.id', 'auth.adminEmail', 'auth.adminPassword', 'auth.credentialKey', 'auth.oidc.issuer', 'auth.oidc.clientId', 'auth.oidc.clientSecret', 'auth.oidc.redirectUri', 'tls.cert', 'tls.key', 'tls.ca', 'tls.crl', 'notify.smtp.host', 'notify.smtp.ca', 'notify.smtp.from', 'notify.smtp.username', 'notify.smtp.password', 'web.tileUrl', 'web.tileAttribution', 'metrics.token'];

export interface LoadedConfig {
  readonly config: Config;
  /** By dotted path of every leaf set by a source; a path absent here has no value. */
  readonly origins: ReadonlyMap<string, SettingOrigin>;
}

const KNOWN_PATHS = schemaPaths(ConfigSchema);

/** One schema error as a line naming the setting, where its value came from and what is allowed. */
function describeError(e: ValueError, tree: Tree, origins: ReadonlyMap<string, SettingOrigin>): string {
  const path = e.path.replace(/^\//, '').replace(/\//g, '.');
  const origin = originOf(origins, path);
  const allowed = allowedValues(e.schema);
  const got = path.split('.').reduce<unknown>((n, p) => (n as Tree | undefined)?.[p], tree);
  let message = typeof got === 'object' && got !== null ? e.message : `${e.message}; got ${JSON.stringify(got)}`;
  if (allowed) {
    const near = typeof got === 'string' ? didYouMean(got, allowed) : undefined;
    message = `must be one of ${allowed.join(', ')}; got ${JSON.stringify(got)}${near ? ` (did you mean ${near}?)` : ''}`;
  }
  const flag = flagFor(path);
  const from =
    origin?.source === 'file'
      ? ''
      : origin?.source === 'env' ? ` (from environment variable ${origin.where ?? ''})` : origin?.source === 'flag' ? ` (from flag ${origin.where ?? ''})` : flag ? ` (flag ${flag}, env ${envNameFor(path)})` : '';
  const prefix = origin?.source === 'file' && origin.where ? `${origin.where}: ` : '';
  return `  ${prefix}${path || '(root)'}: ${message}${from}`;
}

function readFile(file: string): ConfigFile {
  try {
    return readConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigFileError) throw new ConfigError(`invalid configuration:\n  ${err.message}`);
    throw err;
  }
}

export function loadConfig(sources: ConfigSources = {}): Config {
  return loadConfigWithOrigins(sources).config;
}

/** The config with the source of every setting; unknown keys in the file are errors, with a did-you-mean. */
export function loadConfigWithOrigins(sources: ConfigSources = {}): LoadedConfig {
  let tree: Tree = structuredClone(DEFAULTS) as unknown as Tree;
  const origins = new Map<string, SettingOrigin>();
  recordLeaves(origins, tree, () => ({ source: 'default' }));
  const problems: string[] = [];
  if (sources.file) {
    const file = readFile(sources.file);
    const unknown = unknownKeys(file.tree, ConfigSchema);
    for (const path of unknown) {
      const line = file.line(path);
      const near = didYouMean(path, KNOWN_PATHS);
      problems.push(`  ${sources.file}${line !== undefined ? `:${line}` : ''}: unknown setting "${path}"${near ? ` (did you mean "${near}"?)` : ''}`);
    }
    tree = deepMerge(tree, file.tree);
    recordLeaves(origins, file.tree, (path) => {
      const line = file.line(path);
      return { source: 'file', where: `${file.file}${line !== undefined ? `:${line}` : ''}` };
    });
  }
  const env = sources.env ?? {};
  const defaultsTree = DEFAULTS as unknown as Tree;
  for (const path of [...leafPaths(defaultsTree), ...OPTIONAL_ENV_PATHS]) {
    const name = envNameFor(path);
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const sample = path.split('.').reduce<unknown>((n, p) => (n as Tree | undefined)?.[p], defaultsTree);
    setPath(tree, path, coerce(raw, sample));
    origins.set(path, { source: 'env', where: name });
  }
  // The short name the cluster docs use for the PostgreSQL URL (CONTINUUM_STORE_POSTGRES_URL works too).
  if (env.CONTINUUM_POSTGRES_URL && !env.CONTINUUM_STORE_POSTGRES_URL) {
    setPath(tree, 'store.postgres.url', env.CONTINUUM_POSTGRES_URL);
    origins.set('store.postgres.url', { source: 'env', where: 'CONTINUUM_POSTGRES_URL' });
  }
  // The cluster's short names (docs/OPERATIONS.md, "Cluster"): CONTINUUM_CLUSTER=1, CONTINUUM_NATS_URL.
  if (env.CONTINUUM_CLUSTER && !env.CONTINUUM_CLUSTER_ENABLED) {
    setPath(tree, 'cluster.enabled', coerce(env.CONTINUUM_CLUSTER, false));
    origins.set('cluster.enabled', { source: 'env', where: 'CONTINUUM_CLUSTER' });
  }
  if (env.CONTINUUM_NATS_URL && !env.CONTINUUM_BUS_NATS_URL) {
    setPath(tree, 'bus.nats.url', env.CONTINUUM_NATS_URL);
    origins.set('bus.nats.url', { source: 'env', where: 'CONTINUUM_NATS_URL' });
  }
  // ThingsBoard-style short names for the first admin, as documented in the README.
  if (env.CONTINUUM_ADMIN_EMAIL) {
    setPath(tree, 'auth.adminEmail', env.CONTINUUM_ADMIN_EMAIL);
    origins.set('auth.adminEmail', { source: 'env', where: 'CONTINUUM_ADMIN_EMAIL' });
  }
  if (env.CONTINUUM_ADMIN_PASSWORD) {
    setPath(tree, 'auth.adminPassword', env.CONTINUUM_ADMIN_PASSWORD);
    origins.set('auth.adminPassword', { source: 'env', where: 'CONTINUUM_ADMIN_PASSWORD' });
  }
  for (const [flag, raw] of Object.entries(sources.flags ?? {})) {
    const spec = FLAG_PATHS[flag];
    if (!spec || raw === undefined) continue;
    setPath(tree, spec.path, spec.type === 'int' ? Number(raw) : spec.type === 'boolean' ? raw === 'true' : raw);
    origins.set(spec.path, { source: 'flag', where: `--${flag}` });
  }
  if (sources.overrides) {
    tree = deepMerge(tree, sources.overrides as Tree);
    recordLeaves(origins, sources.overrides as Tree, () => ({ source: 'override' }));
  }
  problems.push(...[...Value.Errors(ConfigSchema, tree)].map((e) => describeError(e, tree, origins)));
  if (problems.length > 0) {
    const more = problems.length > 20 ? `\n  … and ${problems.length - 20} more` : '';
    throw new ConfigError(`invalid configuration:\n${problems.slice(0, 20).join('\n')}${more}`);
  }
  let config = tree as unknown as Config;
  try {
    config = applyClusterMode(config, origins);
  } catch (err) {
    if (err instanceof ClusterConfigError) throw new ConfigError(err.message);
    throw err;
  }
  try {
    parseAllowList(config.outbound.allow);
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  ${err instanceof Error ? err.message : String(err)}`);
  }
  // A CRL or CA authentication without a CA to verify against would silently check nothing.
  if (config.tls.crl && !config.tls.ca) throw new ConfigError('invalid configuration:\n  tls.crl: needs tls.ca (flag --tls-ca)');
  if (config.tls.authByCa && !config.tls.ca) throw new ConfigError('invalid configuration:\n  tls.authByCa: needs tls.ca (flag --tls-ca)');
  return { config, origins };
}
