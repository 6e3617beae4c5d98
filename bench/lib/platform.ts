/**
 * The platform under test, as users run it: `continuum start` in a child process with its own
 * data dir, ports chosen by the OS and read from ports.json; plus the few REST calls the bench
 * needs (login, bulk import of devices with known tokens, create one device, telemetry reads).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTracked, type Spawned } from './proc.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
/**
 * The checkout whose platform is started: this one, or CONTINUUM_BENCH_CHECKOUT (bench/ab.ts runs
 * one scenario against two checkouts in the same window, so a refactor is measured before/after).
 */
export const PLATFORM_DIR = process.env.CONTINUUM_BENCH_CHECKOUT ? resolve(process.env.CONTINUUM_BENCH_CHECKOUT) : REPO;
export const ADMIN = { email: 'bench@bench.local', password: 'bench-password-1' };
const IMPORT_CHUNK = 5000;

export interface PlatformProcess {
  readonly proc: Spawned;
  readonly dataDir: string;
  readonly ports: { http: number; mqtt: number; coap: number };
  readonly api: Api;
  /** SIGTERM: the platform drains its last group commit and closes the store. */
  stop(): Promise<number | null>;
}

export interface PlatformOptions {
  readonly dataDir: string;
  /** Writes a V8 CPU profile of the server into this directory when it exits. */
  readonly cpuProfDir?: string;
  /** More `continuum start` flags (a cluster node: --store postgres --bus nats --node-id …). */
  readonly args?: readonly string[];
  /** More environment for the server. */
  readonly env?: Readonly<Record<string, string>>;
}

export async function startPlatform(opts: PlatformOptions): Promise<PlatformProcess> {
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [];
  const portsFile = join(opts.dataDir, 'ports.json');
  rmSync(portsFile, { force: true }); // a restart must not read the previous run's ports
  const args = [...nodeArgs, '--import', 'tsx', 'src/apps/cli.ts', 'start', '--data-dir', opts.dataDir, '--host', '127.0.0.1'];
  args.push('--http-port', '0', '--mqtt-port', '0', '--coap-port', '0', '--log-level', 'warn', ...(opts.args ?? []));
  const proc = spawnTracked('platform', process.execPath, args, {
    cwd: PLATFORM_DIR,
    env: { ...process.env, CONTINUUM_ADMIN_EMAIL: ADMIN.email, CONTINUUM_ADMIN_PASSWORD: ADMIN.password, CONTINUUM_METRICS_TOKEN: METRICS_TOKEN, ...opts.env },
  });
  const deadline = Date.now() + 60_000;
  while (!existsSync(portsFile)) {
    if (proc.child.exitCode !== null) throw new Error(`platform exited ${proc.child.exitCode}: ${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`platform did not write ports.json in 60 s: ${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as PlatformProcess['ports'];
  const api = await Api.login(`http://127.0.0.1:${ports.http}`);
  return { proc, dataDir: opts.dataDir, ports, api, stop: () => proc.stop() };
}

export class Api {
  private constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** The admin's bearer token, for requests this class has no helper for (binary bodies). */
  get bearer(): string {
    return this.token;
  }

  static async login(baseUrl: string): Promise<Api> {
    const res = await fetch(`${baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    return new Api(baseUrl, ((await res.json()) as { token: string }).token);
  }

  async request<T>(method: string, path: string, body?: string, contentType = 'application/json'): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
      body,
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Creates one device per token (name = "<prefix>-<index>") through the CSV import. */
  async importDevices(prefix: string, tokens: readonly string[]): Promise<void> {
    for (let start = 0; start < tokens.length; start += IMPORT_CHUNK) {
      const rows = tokens.slice(start, start + IMPORT_CHUNK).map((t, i) => `${prefix}-${start + i},${t}`);
      const result = await this.request<{ created: number; errors: unknown[] }>('POST', '/api/devices/import', `name,accessToken\n${rows.join('\n')}\n`, 'text/csv');
      if (result.errors.length > 0) throw new Error(`device import: ${JSON.stringify(result.errors.slice(0, 3))}`);
    }
  }

  createDevice(name: string): Promise<{ id: string; accessToken: string }> {
    return this.request('POST', '/api/devices', JSON.stringify({ name }));
  }
}

/** Access tokens that are unique per run and cheap to regenerate. */
export function makeTokens(count: number, tag: string): string[] {
  return Array.from({ length: count }, (_, i) => `bm${tag}${i.toString(36).padStart(4, '0')}`);
}

/** The scraper's token given to the benchmarked platform (/metrics refuses anonymous reads). */
export const METRICS_TOKEN = randomBytes(24).toString('hex');

/** GET /metrics with the scraper's token. */
export async function metricsText(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  return res.text();
}

/** The platform's Prometheus metrics, summed over label sets: name → value. */
export async function scrapeMetrics(baseUrl: string): Promise<Map<string, number>> {
  const text = await metricsText(baseUrl);
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? ([-+0-9.eE]+|NaN)$/.exec(line);
    if (m) values.set(m[1]!, (values.get(m[1]!) ?? 0) + Number(m[2]));
  }
  return values;
}

export interface CommitStats {
  readonly commits: number;
  readonly rowsPerCommit: number;
  /** Share of wall time spent inside group commits (the event loop is blocked meanwhile). */
  readonly commitSharePct: number;
  readonly meanCommitMs: number;
}

/** Group-commit figures between two scrapes taken `seconds` apart. */
export function commitStats(before: Map<string, number>, after: Map<string, number>, seconds: number): CommitStats {
  const d = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const commits = d('continuum_store_commit_seconds_count');
  const busy = d('continuum_store_commit_seconds_sum');
  return {
    commits,
    rowsPerCommit: commits > 0 ? Math.round(d('continuum_store_rows_total') / commits) : 0,
    commitSharePct: Math.round((busy / seconds) * 1000) / 10,
    meanCommitMs: commits > 0 ? Math.round((busy / commits) * 10_000) / 10 : 0,
  };
}
