/**
 * One running integration. Out: a work-queue member on the bus for each exported event of its
 * tenant (group `integration-<id>-<event>`: in a cluster one node takes each event; a delivery is
 * acknowledged only once its records are in the integration's durable buffer), and a drain loop
 * that hands the buffer's oldest records to the link and acknowledges them in the buffer once
 * the remote acknowledged them (the persisted cursor). While the remote is away the buffer
 * grows (bounded: past `maxBuffer` the oldest are dropped and counted); when the link reports
 * it is connected again the loop sends what waited, in order. In: the link hands remote
 * messages to `inbound`, which commits them before the link acknowledges the remote.
 */
import type { BusEvents } from '../../domain/bus-event-map.js';
import { passesFilter, type ExportEvent, type Integration, type NewExportRecord } from '../../domain/integrations.js';
import { isPlatformError, PlatformError } from '../../domain/errors.js';
import { normalHostname } from '../../domain/outbound/allow-list.js';
import type { LorawanEvent } from '../../domain/lorawan.js';
import type { Bus, Clock, IntegrationConnector, IntegrationLink, IntegrationMetrics, IntegrationStore, Logger } from '../../ports.js';
import type { OutboundTargets } from '../outbound.js';
import { LorawanDevices, type LorawanDeps } from './lorawan.js';
import { alarmRecords, attributeRecords, commandRecords, statusRecords, telemetryRecords } from './records.js';

export interface RunnerDeps {
  readonly store: IntegrationStore;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: IntegrationMetrics;
  readonly connector: IntegrationConnector;
  /** The outbound policy: every host the link would reach is resolved and checked before it connects. */
  readonly outbound: OutboundTargets;
  /** Name and profile of a device (cached by the service). */
  readonly device: (id: string) => Promise<{ name: string; profileId: string } | undefined>;
  /** Commits a device's telemetry that came in from the remote (MQTT bridge, direction in). */
  readonly inbound: (tenantId: string, deviceName: string, payload: Buffer) => Promise<void>;
  /** What LoRaWAN integrations (connectors with `lorawan`) act through; without it they refuse their events. */
  readonly lorawan?: LorawanDeps;
  readonly maxBuffer: number;
  /** Records handed to the link at once. */
  readonly batchSize: number;
}

export interface RunnerStatus {
  /** `refused`: a host of its config is refused by the outbound policy (lastError says which); it does not connect. */
  readonly state: 'connecting' | 'connected' | 'disconnected' | 'refused' | 'stopped';
  readonly lastError?: string;
  readonly lastErrorAt?: number;
  readonly sent: number;
  readonly dropped: number;
  readonly received: number;
  readonly rejected: number;
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 10_000;

export class IntegrationRunner {
  private link: IntegrationLink | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly groups: string[] = [];
  private state: RunnerStatus['state'] = 'stopped';
  private lastError: string | undefined;
  private lastErrorAt: number | undefined;
  private sent = 0;
  private dropped = 0;
  private received = 0;
  private rejected = 0;
  private pending: NewExportRecord[] = [];
  private flushing: Promise<void> | undefined;
  private draining = false;
  private drainAgain = false;
  private retryMs = RETRY_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private connected = false;
  private connecting: Promise<void> | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private lorawan: LorawanDevices | undefined;

  constructor(
    readonly integration: Integration,
    private readonly deps: RunnerDeps,
  ) {}

  start(): void {
    const i = this.integration;
    const directions = this.deps.connector.directions(i.config);
    this.state = 'connecting';
    const settings = this.deps.connector.lorawan?.(i.config);
    if (settings && this.deps.lorawan) this.lorawan = new LorawanDevices(i, settings, this.deps.lorawan, () => this.link);
    if (directions.out) this.subscribeAll();
    this.connecting = this.connect(directions.in);
  }

  /**
   * Resolves every host of the config and asks the outbound policy (at each start, so a policy
   * changed since the integration was saved, or a name that now resolves to a refused address,
   * is caught), then opens the link pinned to the allowed addresses. A refusal leaves it
   * `refused` (events still wait in the buffer); a name that does not resolve is tried again.
   */
  private async connect(inbound: boolean): Promise<void> {
    const i = this.integration;
    try {
      const pinned = new Map<string, string>();
      for (const url of this.deps.connector.targets(i.config)) {
        const [address] = await this.deps.outbound.resolveTarget(url, { integration: i.id, tenant: i.tenantId, type: i.type });
        if (address !== undefined) pinned.set(normalHostname(url.hostname), address);
      }
      if (this.state === 'stopped') return;
      this.link = this.open(i, inbound, pinned);
    } catch (err) {
      if (this.state === 'stopped') return;
      if (isPlatformError(err, 'OUTBOUND_REFUSED')) {
        this.state = 'refused';
        this.noteError(`refused by outbound policy: ${err.detail ?? err.message}`);
        this.deps.logger.warn({ integration: i.id, tenant: i.tenantId, type: i.type, reason: err.detail ?? err.message }, 'integration refused by outbound policy: not connecting');
        return;
      }
      // A link that cannot even be built (a name that does not resolve, TLS material that stopped
      // being readable) leaves the integration visible with its error; events wait in the buffer.
      this.state = 'disconnected';
      this.noteError(err);
      this.connectTimer = setTimeout(() => {
        this.connectTimer = undefined;
        if (this.state !== 'stopped') this.connecting = this.connect(inbound);
      }, this.retryMs);
      this.connectTimer.unref();
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    }
  }

  private open(i: Integration, inbound: boolean, pinned: ReadonlyMap<string, string>): IntegrationLink {
    return this.deps.connector.open(i, {
      onConnected: () => {
        this.connected = true;
        this.state = 'connected';
        this.retryMs = RETRY_MIN_MS;
        this.kick();
      },
      onDisconnected: (error) => {
        this.connected = false;
        if (this.state !== 'stopped') this.state = 'disconnected';
        if (error !== undefined) this.noteError(error);
      },
      ...(inbound ? { onInbound: (deviceName: string, payload: Buffer) => this.onInbound(deviceName, payload) } : {}),
      ...(this.lorawan ? { onLorawan: (event: LorawanEvent) => this.lorawanEvent(event) } : {}),
      onMalformed: (reason, detail) => this.malformed(reason, detail),
    }, pinned);
  }

  async stop(options: { deleted?: boolean } = {}): Promise<void> {
    this.state = 'stopped';
    for (const u of this.unsubscribe.splice(0)) u();
    // Deleted: its groups would otherwise keep queueing every event for a member that never comes.
    if (options.deleted) for (const event of this.groups) await this.deps.bus.removeGroup?.(event);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.lorawan?.close();
    await this.connecting;
    await this.flushing;
    await this.link?.close().catch((err: unknown) => this.deps.logger.warn({ err, integration: this.integration.id }, 'closing an integration failed'));
    this.link = undefined;
  }

  status(): RunnerStatus {
    return {
      state: this.state,
      ...(this.lastError !== undefined ? { lastError: this.lastError, lastErrorAt: this.lastErrorAt } : {}),
      sent: this.sent,
      dropped: this.dropped,
      received: this.received,
      rejected: this.rejected,
    };
  }

  private subscribeAll(): void {
    const i = this.integration;
    const sub = <E extends ExportEvent>(event: E, toRecords: (m: BusEvents[E], who: { tenantId: string; deviceId: string; deviceName: string; now: number }) => NewExportRecord[]) => {
      if (i.filter.events && !i.filter.events.includes(event)) return;
      if (this.deps.connector.events && !this.deps.connector.events.includes(event)) return;
      const group = `integration-${i.id}-${event}`;
      this.groups.push(group);
      this.unsubscribe.push(
        this.deps.bus.subscribe(
          event,
          `${event}.${i.tenantId}.*`,
          async (message) => {
            const m = message as BusEvents[E] & { tenantId: string; deviceId: string };
            if (m.tenantId !== i.tenantId) return;
            const device = await this.deps.device(m.deviceId);
            if (!device || !passesFilter(i.filter, event, m.deviceId, device.profileId)) return;
            await this.enqueue(toRecords(message, { tenantId: m.tenantId, deviceId: m.deviceId, deviceName: device.name, now: this.deps.clock.now() }));
          },
          { group },
        ),
      );
    };
    sub('telemetry', telemetryRecords);
    sub('attributes', attributeRecords);
    sub('alarm', alarmRecords);
    sub('status', statusRecords);
    sub('command', commandRecords);
  }

  /** Records of the deliveries of one event-loop turn go to the buffer in one transaction. */
  private enqueue(records: NewExportRecord[]): Promise<void> {
    for (const r of records) this.pending.push(r);
    this.flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      const batch = this.pending;
      this.pending = [];
      this.flushing = undefined;
      const dropped = await this.deps.store.enqueueExports(this.integration.id, batch, this.deps.maxBuffer);
      if (dropped > 0) {
        this.dropped += dropped;
        this.deps.metrics.dropped(this.integration.id, dropped);
        this.deps.logger.warn({ integration: this.integration.id, dropped }, 'integration buffer full: oldest records dropped');
      }
      this.kick();
    });
    return this.flushing;
  }

  private kick(): void {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    if (!this.connected || !this.link || this.state === 'stopped') return;
    this.draining = true;
    this.drainAgain = false;
    this.drain()
      .catch((err: unknown) => {
        this.noteError(err);
        this.deps.metrics.failed(this.integration.id);
        this.scheduleRetry();
      })
      .finally(() => {
        this.draining = false;
        if (this.drainAgain) this.kick();
      });
  }

  private async drain(): Promise<void> {
    const id = this.integration.id;
    for (;;) {
      const link = this.link;
      if (!link || !this.connected || this.state === 'stopped') return;
      const batch = await this.deps.store.readExports(id, this.deps.batchSize);
      const last = batch[batch.length - 1];
      if (!last) return;
      await link.send(batch);
      await this.deps.store.ackExports(id, last.seq);
      this.sent += batch.length;
      this.deps.metrics.sent(id, batch.length);
      this.retryMs = RETRY_MIN_MS;
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.state === 'stopped') return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  private async onInbound(deviceName: string, payload: Buffer): Promise<void> {
    try {
      await this.deps.inbound(this.integration.tenantId, deviceName, payload);
      this.received++;
      this.deps.metrics.received(this.integration.id, 'stored');
    } catch (err) {
      this.rejected++;
      this.deps.metrics.received(this.integration.id, 'rejected');
      this.noteError(err);
      throw err;
    }
  }

  /** A LoRaWAN event (from the link or a webhook): counted stored or rejected; a refusal is logged and rethrown. */
  async lorawanEvent(event: LorawanEvent): Promise<void> {
    if (!this.lorawan || this.state === 'stopped') throw new PlatformError('UNAVAILABLE', 'integration not running');
    try {
      await this.lorawan.handle(event);
      this.received++;
      this.deps.metrics.received(this.integration.id, 'stored');
    } catch (err) {
      this.rejected++;
      this.deps.metrics.received(this.integration.id, 'rejected');
      this.noteError(err);
      const i = this.integration;
      this.deps.logger.warn({ integration: i.id, tenant: i.tenantId, type: i.type, event: event.kind, devEui: event.devEui, nsDevice: event.nsDeviceId, reason: err instanceof Error ? err.message : String(err) }, 'lorawan event refused');
      throw err;
    }
  }

  /** A remote message that could not be read at all: counted as rejected and logged; the link goes on. */
  malformed(reason: string, detail: { topic?: string } = {}): void {
    this.rejected++;
    this.deps.metrics.received(this.integration.id, 'rejected');
    this.noteError(`malformed message: ${reason}`);
    this.deps.logger.warn({ integration: this.integration.id, tenant: this.integration.tenantId, type: this.integration.type, ...detail, reason }, 'integration message malformed');
  }

  private noteError(err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err);
    this.lastErrorAt = this.deps.clock.now();
  }
}
