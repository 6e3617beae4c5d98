/**
 * Integrations of a tenant: create, list, show (with status, backlog and lag), delete; runs
 * every enabled one from start to stop (services/integrations/runner.ts). Connectors are
 * adapters handed in by the composition root, one per type; configs are checked by theirs.
 * Secrets (passwords, private keys) are kept but never answered: views drop them and list
 * which are set.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { isPlatformError, PlatformError } from '../../domain/errors.js';
import { EXPORT_EVENTS, INTEGRATION_TYPES, type ExportFilter, type Integration, type IntegrationType, type JsonObject } from '../../domain/integrations.js';
import type { Bus, Clock, IntegrationConnector, IntegrationMetrics, IntegrationStore, Logger } from '../../ports.js';
import type { OutboundTargets } from '../outbound.js';
import type { LorawanDeps } from './lorawan.js';
import { IntegrationRunner, type RunnerStatus } from './runner.js';

export interface IntegrationServiceDeps {
  readonly store: IntegrationStore;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: IntegrationMetrics;
  readonly connectors: readonly IntegrationConnector[];
  /** The outbound policy every host an integration connects to must pass (webhooks pass the same). */
  readonly outbound: OutboundTargets;
  readonly getDevice: (id: string) => Promise<{ name: string; profileId: string; tenantId: string } | undefined>;
  readonly inbound: (tenantId: string, deviceName: string, payload: Buffer) => Promise<void>;
  /** What LoRaWAN integrations (chirpstack, tts) act through: device lookup and creation, decoders, the device API. */
  readonly lorawan?: LorawanDeps;
  /** Whether a profile id is one of the tenant's (a LoRaWAN integration's provisionProfileId is checked at create). */
  readonly profileOfTenant?: (tenantId: string, profileId: string) => Promise<boolean>;
  /** Records an integration keeps while its remote is away (default 100,000). */
  readonly maxBuffer?: number;
}

export interface IntegrationBody {
  readonly type: string;
  readonly name: string;
  readonly enabled?: boolean;
  readonly config: unknown;
  readonly filter?: ExportFilter;
}

/** What the API answers: no secret, but which secrets are set. */
export interface IntegrationView extends Omit<Integration, 'config'> {
  readonly config: JsonObject;
  readonly secretsSet: string[];
  readonly status: RunnerStatus & { readonly backlog: number; readonly lagMs: number };
}

const DEVICE_CACHE_MAX = 10_000;

function withoutSecrets(config: JsonObject, paths: readonly string[]): { config: JsonObject; set: string[] } {
  const copy = structuredClone(config);
  const set: string[] = [];
  for (const path of paths) {
    const parts = path.split('.');
    let node: JsonObject | undefined = copy;
    for (const p of parts.slice(0, -1)) {
      const next: unknown = node?.[p];
      node = typeof next === 'object' && next !== null && !Array.isArray(next) ? (next as JsonObject) : undefined;
    }
    const leaf = parts[parts.length - 1] as string;
    if (node && node[leaf] !== undefined) {
      set.push(path);
      delete node[leaf];
    }
  }
  return { config: copy, set };
}

/** Compares secrets in constant time (hashes first, so lengths do not leak either). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export class IntegrationService {
  private readonly runners = new Map<string, IntegrationRunner>();
  private readonly connectors: Map<string, IntegrationConnector>;
  private readonly devices = new Map<string, { name: string; profileId: string; tenantId: string }>();
  private started = false;

  constructor(private readonly deps: IntegrationServiceDeps) {
    this.connectors = new Map(deps.connectors.map((c) => [c.type, c]));
  }

  /** Starts every enabled integration (before the outbox republishes an earlier run's events). */
  async start(): Promise<void> {
    this.started = true;
    for (const i of await this.deps.store.listIntegrations()) if (i.enabled) this.run(i);
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    this.runners.clear();
  }

  async list(tenantId: string): Promise<IntegrationView[]> {
    return Promise.all((await this.deps.store.listIntegrations(tenantId)).map((i) => this.view(i)));
  }

  async get(tenantId: string, id: string): Promise<IntegrationView> {
    return this.view(await this.require(tenantId, id));
  }

  async create(tenantId: string, body: IntegrationBody): Promise<IntegrationView> {
    if (!(INTEGRATION_TYPES as readonly string[]).includes(body.type)) {
      throw new PlatformError('BAD_REQUEST', body.type === 'kafka' ? 'kafka is not built yet (docs/INTEGRATIONS.md says what it needs)' : `unknown integration type ${body.type}`);
    }
    const connector = this.connector(body.type as IntegrationType);
    const config = connector.validate(body.config);
    this.checkTargets(connector, config);
    const provisionProfileId = connector.lorawan?.(config).provisionProfileId;
    if (provisionProfileId !== undefined && this.deps.profileOfTenant && !(await this.deps.profileOfTenant(tenantId, provisionProfileId))) {
      throw new PlatformError('BAD_REQUEST', `${connector.type} config: provisionProfileId ${provisionProfileId} is not a profile of this tenant`);
    }
    const filter = body.filter ?? {};
    for (const e of filter.events ?? []) if (!(EXPORT_EVENTS as readonly string[]).includes(e)) throw new PlatformError('BAD_REQUEST', `unknown event ${e}`);
    const now = this.deps.clock.now();
    const integration: Integration = { id: randomUUID(), tenantId, type: connector.type, name: body.name, enabled: body.enabled ?? true, config, filter, createdAt: now, updatedAt: now };
    await this.deps.store.insertIntegration(integration);
    this.deps.logger.info({ integration: integration.id, type: integration.type, name: integration.name }, 'integration created');
    if (integration.enabled && this.started) this.run(integration);
    return this.view(integration);
  }

  async remove(tenantId: string, id: string): Promise<void> {
    await this.require(tenantId, id);
    const runner = this.runners.get(id);
    this.runners.delete(id);
    await runner?.stop({ deleted: true });
    await this.deps.store.deleteIntegration(id);
    this.deps.logger.info({ integration: id }, 'integration deleted');
  }

  /**
   * A webhook request (TTS): authenticated by the integration's own secret, not by a user. Every
   * failure to authenticate (no such integration, no webhook, wrong or missing secret) is the same
   * 401, so the answer tells nothing about which integrations exist. An event the integration
   * refuses (unknown device, decoder failure) is counted, logged and reported in the answer; only
   * UNAVAILABLE is an error the server should retry.
   */
  async webhook(id: string, secret: string | undefined, body: unknown): Promise<{ stored: number; rejected: { code: string; message: string }[] }> {
    const i = await this.deps.store.getIntegration(id);
    const connector = i ? this.connectors.get(i.type) : undefined;
    const expected = i && connector?.webhook ? connector.webhook.secret(i.config) : undefined;
    if (!i || !connector?.webhook || expected === undefined || secret === undefined || !sameSecret(secret, expected)) {
      throw new PlatformError('UNAUTHORIZED', 'webhook secret missing or wrong');
    }
    const runner = this.runners.get(i.id);
    if (!runner) throw new PlatformError('UNAVAILABLE', 'integration is not running (disabled?)');
    let events;
    try {
      events = connector.webhook.parse(i.config, body);
    } catch (err) {
      runner.malformed(err instanceof Error ? err.message : String(err), { topic: 'webhook' });
      throw err;
    }
    let stored = 0;
    const rejected: { code: string; message: string }[] = [];
    for (const event of events) {
      try {
        await runner.lorawanEvent(event);
        stored++;
      } catch (err) {
        if (isPlatformError(err, 'UNAVAILABLE')) throw err;
        rejected.push({ code: isPlatformError(err) ? err.code : 'INTERNAL', message: err instanceof Error ? err.message : String(err) });
      }
    }
    return { stored, rejected };
  }

  /** Backlog and lag of every running integration, for the metrics gauges. */
  async gauges(): Promise<{ id: string; type: string; backlog: number; lagSeconds: number }[]> {
    return Promise.all(
      [...this.runners.values()].map(async (r) => {
        const b = await this.deps.store.exportBacklog(r.integration.id);
        return { id: r.integration.id, type: r.integration.type, backlog: b.count, lagSeconds: b.oldestEnqueuedAt === undefined ? 0 : Math.max(0, this.deps.clock.now() - b.oldestEnqueuedAt) / 1000 };
      }),
    );
  }

  private async require(tenantId: string, id: string): Promise<Integration> {
    const i = await this.deps.store.getIntegration(id);
    // Another tenant's integration is answered as absent, never as forbidden.
    if (!i || i.tenantId !== tenantId) throw new PlatformError('NOT_FOUND', `integration ${id}`);
    return i;
  }

  /**
   * Save-time: a literal address or localhost name the outbound policy refuses is a bad config
   * (400 naming the host and the outbound.allow entry that would allow it). Names are judged by
   * what they resolve to when the integration connects (runner.ts).
   */
  private checkTargets(connector: IntegrationConnector, config: JsonObject): void {
    for (const url of connector.targets(config)) {
      try {
        this.deps.outbound.checkUrl(url);
      } catch (err) {
        if (!isPlatformError(err, 'OUTBOUND_REFUSED')) throw err;
        throw new PlatformError('BAD_REQUEST', `${connector.type} config: ${url.protocol}//${url.host} is refused by the outbound policy: ${err.detail ?? err.message}`);
      }
    }
  }

  private connector(type: IntegrationType): IntegrationConnector {
    const c = this.connectors.get(type);
    if (!c) throw new PlatformError('BAD_REQUEST', `integration type ${type} is not available on this server`);
    return c;
  }

  private run(i: Integration): void {
    const connector = this.connectors.get(i.type);
    if (!connector) {
      this.deps.logger.warn({ integration: i.id, type: i.type }, 'integration type not available: not started');
      return;
    }
    const runner = new IntegrationRunner(i, {
      store: this.deps.store,
      bus: this.deps.bus,
      clock: this.deps.clock,
      logger: this.deps.logger,
      metrics: this.deps.metrics,
      connector,
      outbound: this.deps.outbound,
      device: (id) => this.device(id),
      inbound: this.deps.inbound,
      ...(this.deps.lorawan ? { lorawan: this.deps.lorawan } : {}),
      maxBuffer: this.deps.maxBuffer ?? 100_000,
      batchSize: 500,
    });
    this.runners.set(i.id, runner);
    runner.start();
  }

  /** Device names and profiles change rarely; a bounded cache spares a store read per event. */
  private async device(id: string): Promise<{ name: string; profileId: string } | undefined> {
    const cached = this.devices.get(id);
    if (cached) return cached;
    const d = await this.deps.getDevice(id);
    if (!d) return undefined;
    if (this.devices.size >= DEVICE_CACHE_MAX) this.devices.clear();
    this.devices.set(id, d);
    return d;
  }

  private async view(i: Integration): Promise<IntegrationView> {
    const connector = this.connectors.get(i.type);
    const { config, set } = withoutSecrets(i.config, connector?.secretFields ?? []);
    const backlog = await this.deps.store.exportBacklog(i.id);
    const running = this.runners.get(i.id)?.status() ?? { state: 'stopped' as const, sent: 0, dropped: 0, received: 0, rejected: 0 };
    return {
      ...i,
      config,
      secretsSet: set,
      status: { ...running, backlog: backlog.count, lagMs: backlog.oldestEnqueuedAt === undefined ? 0 : Math.max(0, this.deps.clock.now() - backlog.oldestEnqueuedAt) },
    };
  }
}
