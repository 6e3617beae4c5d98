/** Starts the management API over the memory store with real services, for tests over real HTTP. */
import type { FastifyInstance } from 'fastify';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { createPrometheusMetrics } from '../../src/adapters/metrics/prometheus.js';
import { buildHttpApp } from '../../src/api/index.js';
import type { ApiDeps, AttributeApi, RpcApi, StatusApi } from '../../src/api/deps.js';
import type { MetricsAccess } from '../../src/api/metrics-access.js';
import type { AttributeScope, DeviceStatus } from '../../src/domain/device.js';
import type { JsonValue } from '../../src/domain/telemetry.js';
import type { Clock, Logger, Store } from '../../src/ports.js';
import { AuthService } from '../../src/services/auth.js';
import { RegistryService } from '../../src/services/registry.js';
import { TelemetryQueryService } from '../../src/services/telemetry-query.js';

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};

export const ADMIN = { email: 'admin@example.com', password: 'correct horse battery' };

/** Attribute calls recorded in memory: the test checks what the API asked for. */
export class RecordingAttributes implements AttributeApi {
  readonly calls: { op: 'set' | 'remove'; tenantId: string; deviceId: string; scope: AttributeScope; arg: unknown }[] = [];
  private readonly data = new Map<string, Map<string, { value: JsonValue; lastUpdateTs: number }>>();

  constructor(private readonly clock: Clock) {}

  async get(deviceId: string, scope: AttributeScope, keys?: string[]) {
    const entries = [...(this.data.get(`${deviceId}/${scope}`) ?? new Map()).entries()];
    return entries.filter(([k]) => !keys || keys.includes(k)).map(([key, e]) => ({ key, ...e }));
  }

  async set(tenantId: string, deviceId: string, scope: AttributeScope, values: Record<string, JsonValue>) {
    this.calls.push({ op: 'set', tenantId, deviceId, scope, arg: values });
    const map = this.data.get(`${deviceId}/${scope}`) ?? new Map();
    for (const [k, v] of Object.entries(values)) map.set(k, { value: v, lastUpdateTs: this.clock.now() });
    this.data.set(`${deviceId}/${scope}`, map);
  }

  async remove(tenantId: string, deviceId: string, scope: AttributeScope, keys: string[]) {
    this.calls.push({ op: 'remove', tenantId, deviceId, scope, arg: keys });
    for (const k of keys) this.data.get(`${deviceId}/${scope}`)?.delete(k);
  }

  async pushEdgeConfig(tenantId: string, deviceId: string, sections: Record<string, JsonValue | null>) {
    const set = Object.fromEntries(Object.entries(sections).filter(([, v]) => v !== null)) as Record<string, JsonValue>;
    if (Object.keys(set).length > 0) await this.set(tenantId, deviceId, 'shared', set);
    const removed = Object.keys(sections).filter((k) => sections[k] === null);
    if (removed.length > 0) await this.remove(tenantId, deviceId, 'shared', removed);
  }
}

export class FixedStatuses implements StatusApi {
  readonly statuses = new Map<string, DeviceStatus>();
  async getStatuses(ids: readonly string[]) {
    return ids.flatMap((id) => {
      const s = this.statuses.get(id);
      return s ? [s] : [];
    });
  }
}

export interface TestApi {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly registry: RegistryService;
  readonly auth: AuthService;
  readonly attributes: RecordingAttributes;
  readonly statuses: FixedStatuses;
  readonly metrics: ReturnType<typeof createPrometheusMetrics>;
  readonly clock: { now(): number; set(ms: number): void };
  /** JWT of the admin. */
  readonly token: string;
  ready: boolean;
  /** fetch with the admin's token; JSON in and out (the body is loosely typed for terse assertions). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-only: response bodies are asserted field by field
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** The scraper's token in API tests (config metrics.token). */
export const METRICS_TOKEN = 'test-metrics-token-0123456789';

export async function startTestApi(options: { rpc?: RpcApi; maxBodyBytes?: number; metricsAccess?: MetricsAccess; store?: Store; deps?: Partial<Pick<ApiDeps, 'cluster' | 'dependencies'>> } = {}): Promise<TestApi> {
  let now = Date.UTC(2024, 0, 1);
  const clock = { now: () => now, set: (ms: number) => (now = ms) };
  const store = options.store ?? createMemoryStore();
  const registry = new RegistryService({ store, clock, logger: silentLogger, codecNames: ['json', 'senml'] });
  await registry.init();
  const auth = new AuthService({ store, clock, logger: silentLogger, passwords: { cost: 1024 } });
  await auth.ensureAdmin(ADMIN);
  const attributes = new RecordingAttributes(clock);
  const statuses = new FixedStatuses();
  const metrics = createPrometheusMetrics();
  const telemetry = new TelemetryQueryService({ store, registry, clock });
  const state = { ready: true };
  const app = await buildHttpApp(
    { registry, auth, telemetry, attributes, status: statuses, ...(options.rpc ? { rpc: options.rpc } : {}), metrics, metricsAccess: options.metricsAccess ?? { token: METRICS_TOKEN, public: false }, ready: () => state.ready, ...options.deps },
    { logger: false, maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024 },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const { token } = await auth.login(ADMIN.email, ADMIN.password);
  const api: TestApi = {
    url,
    app,
    store,
    registry,
    auth,
    attributes,
    statuses,
    metrics,
    clock,
    token,
    get ready() {
      return state.ready;
    },
    set ready(v: boolean) {
      state.ready = v;
    },
    async call(method, path, body, headers = {}) {
      const res = await fetch(url + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, body: parsed };
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
  return api;
}

/** 10,000 rows; rows at data index 17, 4242 and 9999 are bad (lines 19, 4244, 10001). */
export function csvWithThreeBadRows(): { csv: string; badLines: number[] } {
  const lines = ['name,label,type,accessToken'];
  for (let i = 0; i < 10_000; i++) {
    if (i === 17) lines.push(',missing name,false,');
    else if (i === 4242) lines.push(`dev-${i},bad type,perhaps,`);
    else if (i === 9999) lines.push(`dev-0,duplicate of the first row,false,`);
    else lines.push(`dev-${i},label ${i},${i % 100 === 0 ? 'true' : 'false'},${i % 10 === 0 ? `token-${i}` : ''}`);
  }
  return { csv: lines.join('\n') + '\n', badLines: [19, 4244, 10001] };
}
