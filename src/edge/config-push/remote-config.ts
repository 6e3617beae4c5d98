/**
 * Rules and connectors pushed from the platform as shared attributes of the gateway device:
 * `edgeRules` replaces the file's `rules`, `edgeConnectors` its `connectors` (a key that is not
 * set leaves the file's section in force). A push is checked by the very parser that checks
 * the file (schema, defaults, connector checks, rule compile, cross references), as if the
 * pushed sections had been written in the file; a refused push changes nothing and is
 * reported back as the client attribute `edgeConfigError`, an accepted one is written to the
 * data dir (atomically) before it is applied, so the next start, with or without a platform,
 * runs the last accepted push. The running version is reported as `edgeConfigVersion`.
 *
 * The platform's attribute response (asked for at every connect) is the whole truth: a key
 * missing from it was deleted while the edge was away, and the file's section applies again.
 *
 * Pushes are numbered by the platform (`edgeConfigPush.version`); the outcome of each is reported
 * as the client attribute `edgeConfigResult`: applied (with the devices added and removed and the
 * connectors kept, stopped and started) or refused with the reason. A push that passes the checks
 * but fails to run (apply throws) is rolled back here: the previous configuration runs again
 * and is kept, and the push is reported refused. Rolling back to an earlier push is the
 * platform's (POST /api/devices/{id}/edge-config/rollback re-pushes it under a new number).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JsonValue } from '../../domain/telemetry.js';
import { EdgeConfigError, parseEdgeConfig, type EdgeConfig } from '../config.js';
import type { EdgeLogger } from '../ports.js';
import { canonicalJson, keyedFingerprint } from '../rules/fingerprint.js';
import { EDGE_CONFIG_KEYS } from '../../domain/edge-config.js';
import { HostAllowList, connectorTargets, envReferences, pushPolicyOf, redact } from './push-policy.js';

/** The platform writes these only through its admin edge-config endpoint (domain/edge-config.ts). */
export const PUSH_KEYS = EDGE_CONFIG_KEYS;
export type PushKey = (typeof PUSH_KEYS)[number];
export type PushedSections = Partial<Record<PushKey, JsonValue>>;

export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

export const PUSHED_CONFIG_FILE = 'edge-pushed-config.json';

/** Key of the reported versions, kept beside the pushed configuration. */
export const VERSION_KEY_FILE = 'edge-version.key';

/**
 * The running sections' identity, reported as `edgeConfigVersion`. Keyed with this edge's own
 * key: the sections hold values substituted from the environment (passwords), and an unkeyed hash
 * readable on the platform would let anyone who knows the rest of the config test guesses.
 */
export function configVersion(config: Pick<EdgeConfig, 'connectors' | 'rules'>, key: Buffer): string {
  return keyedFingerprint({ connectors: config.connectors, rules: config.rules }, key);
}

/** This edge's version key: created once (0600) in the data dir; per process when none is kept. */
function loadVersionKey(dataDir: string): Buffer {
  if (dataDir === '') return randomBytes(32);
  const file = join(dataDir, VERSION_KEY_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
}

/** `$${` keeps a literal `${` through a second environment substitution. */
function escapeEnv(tree: unknown): unknown {
  if (typeof tree === 'string') return tree.replace(/\$\{/g, '$${');
  if (Array.isArray(tree)) return tree.map(escapeEnv);
  if (tree !== null && typeof tree === 'object') return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, escapeEnv(v)]));
  return tree;
}

/** "rules[0].condition: …" lines of an EdgeConfigError, named after the attribute they came from. */
export function problemsOf(err: EdgeConfigError, pushed: PushedSections): ConfigProblem[] {
  const lines = err.message.split('\n').slice(1).map((l) => l.trim()).filter(Boolean);
  const rename = (path: string): string => {
    if (pushed.edgeRules !== undefined) path = path.replace(/^rules(?=[[.]|$)/, 'edgeRules');
    if (pushed.edgeConnectors !== undefined) path = path.replace(/^connectors(?=[[.]|$)/, 'edgeConnectors');
    return path;
  };
  if (lines.length === 0) return [{ path: '(root)', message: err.message }];
  return lines.map((line) => {
    const at = line.indexOf(': ');
    return at < 0 ? { path: '(root)', message: line } : { path: rename(line.slice(0, at)), message: line.slice(at + 2) };
  });
}

/**
 * The file's configuration with the pushed sections in place of its own, checked as a whole.
 * `${NAME}` in pushed connectors comes from the edge's environment (secrets stay on the edge),
 * but only for names the file lists in `configPush.allowEnv`; pushed connectors may only reach
 * the hosts of `configPush.allowHosts` (push-policy.ts). Rules are left as written, as in the
 * file. Throws EdgeConfigError whose lines never hold a value read from the environment.
 */
export function mergePushed(file: EdgeConfig, pushed: PushedSections, env: Readonly<Record<string, string | undefined>>): EdgeConfig {
  const policy = pushPolicyOf(file);
  const fail = (lines: readonly string[]): never => {
    throw new EdgeConfigError(`pushed config: invalid configuration:\n  ${lines.join('\n  ')}`);
  };
  // Only the allowed names are visible to the substitution; any other reference is refused by name.
  const refs = pushed.edgeConnectors !== undefined ? envReferences(pushed.edgeConnectors, 'connectors') : [];
  const refused = refs.filter((r) => !policy.allowEnv.includes(r.name)).map((r) => `${r.path}: environment variable ${r.name} is not in configPush.allowEnv of the edge's file`);
  if (refused.length > 0) fail(refused);
  const visible: Record<string, string | undefined> = {};
  const substituted = new Map<string, string>();
  for (const name of policy.allowEnv) {
    visible[name] = env[name];
    const value = env[name];
    if (value !== undefined) substituted.set(name, value);
  }
  const tree = {
    // The file's connectors were substituted already; escaped so a second pass leaves them as they are.
    connectors: pushed.edgeConnectors !== undefined ? pushed.edgeConnectors : escapeEnv(file.connectors),
    rules: pushed.edgeRules !== undefined ? pushed.edgeRules : file.rules,
  };
  let checked: EdgeConfig;
  try {
    // JSON is YAML; offline: the platform section is the file's and is not part of a push.
    checked = parseEdgeConfig(JSON.stringify(tree), visible, { offline: true, source: 'pushed config' });
  } catch (err) {
    if (!(err instanceof EdgeConfigError)) throw err;
    // Messages may quote what they check (a host, a name): never a value from the environment.
    const [head = '', ...lines] = err.message.split('\n');
    throw new EdgeConfigError([head, ...redact(lines, substituted)].join('\n'));
  }
  if (pushed.edgeConnectors !== undefined) {
    const allowed = new HostAllowList(policy.allowHosts);
    const outside = checked.connectors
      .flatMap((c, i) => connectorTargets(c, `connectors[${i}]`))
      .filter((t) => !allowed.allows(t.target))
      .map((t) => `${t.path}: "${t.target}" is not in configPush.allowHosts of the edge's file`);
    if (outside.length > 0) fail(redact(outside, substituted));
  }
  return { ...file, connectors: checked.connectors, rules: checked.rules };
}

/** What applying a configuration changed (app.ts). */
export interface ApplyReport {
  readonly connectors: { readonly kept: string[]; readonly stopped: string[]; readonly started: string[] };
  readonly devices: { readonly added: string[]; readonly removed: string[] };
  readonly rules: number;
}

/** The platform's number of a push, when it sent one. */
function pushNumber(pushed: PushedSections): number | null {
  const marker = pushed.edgeConfigPush;
  if (marker === null || typeof marker !== 'object' || Array.isArray(marker)) return null;
  const version = marker.version;
  return typeof version === 'number' && Number.isSafeInteger(version) ? version : null;
}

export interface ConfigPushOptions {
  readonly file: EdgeConfig;
  /** '' keeps nothing on disk (tests). */
  readonly dataDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: EdgeLogger;
  /** Runs a new configuration (connectors and rules); resolves when it runs, with what changed. */
  apply(config: EdgeConfig): Promise<ApplyReport | undefined>;
  /** Sends client attributes of the gateway device to the platform (kept until connected). */
  report(values: Record<string, JsonValue>): void;
}

export class ConfigPush {
  private pushed: PushedSections = {};
  /**
   * The sections as the platform holds them, merged from every message in arrival order. Updates
   * merge onto this, not onto `pushed`: a push arrives as several messages (values, then deleted
   * keys), and merging the second onto a push not yet applied would undo the first.
   */
  private received: PushedSections = {};
  private current: EdgeConfig;
  private chain: Promise<void> = Promise.resolve();
  /**
   * An edgeConfigError may be standing on the platform; the next accepted push clears it.
   * True at start: one reported before a restart is cleared by the first consistent answer.
   */
  private errorStanding = true;

  private readonly versionKey: Buffer;

  constructor(private readonly options: ConfigPushOptions) {
    this.current = options.file;
    this.versionKey = loadVersionKey(options.dataDir);
    const saved = this.load();
    if (saved) {
      try {
        this.current = mergePushed(options.file, saved, options.env);
        this.pushed = saved;
        this.received = saved;
        options.logger.info({ keys: Object.keys(saved), version: configVersion(this.current, this.versionKey) }, 'running the configuration last pushed from the platform');
      } catch (err) {
        // E.g. an environment variable it names is no longer set: the file's sections run.
        options.logger.error({ err: (err as Error).message }, 'stored pushed configuration is no longer valid; running the file');
      }
    }
  }

  /** The configuration to start with: the file, with the last accepted push in place. */
  get config(): EdgeConfig {
    return this.current;
  }

  get version(): string {
    return configVersion(this.current, this.versionKey);
  }

  /**
   * Shared attributes from the platform. `complete`: the answer to our request, holding every
   * key that is set; otherwise an update holding the changed keys (and `deleted`).
   */
  onShared(values: Record<string, JsonValue>, complete: boolean, deleted: readonly string[] = []): void {
    const next: PushedSections = complete ? {} : { ...this.received };
    for (const key of PUSH_KEYS) {
      if (Object.hasOwn(values, key)) next[key] = values[key] as JsonValue;
      if (deleted.includes(key)) delete next[key];
    }
    if (!complete && !PUSH_KEYS.some((k) => Object.hasOwn(values, k) || deleted.includes(k))) return;
    this.received = next;
    this.chain = this.chain
      .then(() => this.consider(next))
      .catch((err: unknown) => this.options.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'pushed configuration not applied'));
  }

  /** Resolves when every push received so far has been applied or refused. */
  idle(): Promise<void> {
    return this.chain;
  }

  private async consider(next: PushedSections): Promise<void> {
    const { logger } = this.options;
    if (canonicalJson(next) === canonicalJson(this.pushed)) {
      this.options.report({ edgeConfigVersion: this.version, ...(this.errorStanding ? { edgeConfigError: null } : {}) });
      this.errorStanding = false;
      return;
    }
    let config: EdgeConfig;
    try {
      config = mergePushed(this.options.file, next, this.options.env);
    } catch (err) {
      if (!(err instanceof EdgeConfigError)) throw err;
      const problems = problemsOf(err, next);
      logger.warn({ problems, running: this.version }, 'pushed configuration refused; the previous one keeps running');
      const first = problems[0] as ConfigProblem;
      this.errorStanding = true;
      const at = Date.now();
      this.options.report({
        edgeConfigError: { path: first.path, message: first.message, problems: problems.map((p) => `${p.path}: ${p.message}`), refused: keyedFingerprint(next, this.versionKey), at },
        edgeConfigVersion: this.version,
        edgeConfigResult: { push: pushNumber(next), status: 'refused', reason: `${first.path}: ${first.message}`, running: this.version, at },
      });
      return;
    }
    const previous = { pushed: this.pushed, config: this.current };
    this.save(next);
    this.pushed = next;
    const changed = configVersion(config, this.versionKey) !== this.version;
    this.current = config;
    let report: ApplyReport | undefined;
    if (changed) {
      try {
        report = await this.options.apply(config);
      } catch (err) {
        await this.rollBack(next, previous, err);
        return;
      }
    }
    logger.info({ keys: Object.keys(next), version: this.version, changed }, 'pushed configuration applied');
    const result: Record<string, JsonValue> = { push: pushNumber(next), status: 'applied', running: this.version, changed, at: Date.now() };
    if (report) Object.assign(result, { devices: report.devices, connectors: report.connectors, rules: report.rules });
    this.options.report({ edgeConfigVersion: this.version, edgeConfigError: null, edgeConfigResult: result });
    this.errorStanding = false;
  }

  /** A push that passed the checks but did not run: the previous configuration runs (and is kept) again. */
  private async rollBack(refused: PushedSections, previous: { pushed: PushedSections; config: EdgeConfig }, err: unknown): Promise<void> {
    const reason = `applying failed: ${err instanceof Error ? err.message : String(err)}`;
    this.options.logger.error({ err: reason, push: pushNumber(refused) }, 'pushed configuration failed to run; rolling back');
    this.save(previous.pushed);
    this.pushed = previous.pushed;
    this.current = previous.config;
    try {
      await this.options.apply(previous.config);
    } catch (again) {
      this.options.logger.error({ err: again instanceof Error ? again.message : String(again) }, 'rolling back the configuration failed too');
    }
    this.errorStanding = true;
    const at = Date.now();
    this.options.report({
      edgeConfigError: { path: '(root)', message: reason, problems: [reason], refused: keyedFingerprint(refused, this.versionKey), at },
      edgeConfigVersion: this.version,
      edgeConfigResult: { push: pushNumber(refused), status: 'refused', reason, rolledBack: true, running: this.version, at },
    });
  }

  private get file(): string | undefined {
    return this.options.dataDir === '' ? undefined : join(this.options.dataDir, PUSHED_CONFIG_FILE);
  }

  private load(): PushedSections | undefined {
    const file = this.file;
    if (!file) return undefined;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined; // never pushed
    }
    try {
      const raw = JSON.parse(text) as { pushed?: unknown };
      if (raw.pushed === null || typeof raw.pushed !== 'object' || Array.isArray(raw.pushed)) throw new Error('no "pushed" object');
      const out: PushedSections = {};
      for (const key of PUSH_KEYS) if (Object.hasOwn(raw.pushed, key)) out[key] = (raw.pushed as Record<string, JsonValue>)[key] as JsonValue;
      return out;
    } catch (err) {
      this.options.logger.error({ file, err: (err as Error).message }, 'unreadable pushed configuration; running the file');
      return undefined;
    }
  }

  /** Write to a temporary file, fsync, rename over the old one, fsync the directory: a crash leaves the old or the new file, never half of one. */
  private save(pushed: PushedSections): void {
    const file = this.file;
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify({ savedAt: new Date().toISOString(), pushed }, null, 2) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}
