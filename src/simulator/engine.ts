/**
 * The simulation engine: plays many devices from one process. Each device has its model state,
 * its own credentials and a connection over its protocol; it steps on its interval (start
 * phases spread at random so 10,000 devices do not fire in the same millisecond) and sends
 * what the model returns as ThingsBoard telemetry `{"ts", "values"}` with the wall-clock time.
 */
import type { JsonValue } from '../domain/telemetry.js';
import { CoapLink, AgentPool, type CoapEndpoint } from './clients/coap/index.js';
import { HttpLink } from './clients/http/index.js';
import { ConnectGate, MqttLink, type MqttEndpoint } from './clients/mqtt/index.js';
import { MAX_IN_FLIGHT, type Counters, type DeviceLink, type LinkContext, type LinkHandlers, type LinkLog } from './clients/types.js';
import { CommandRejected, type DeviceModel, type SimContext, type Values } from './model.js';
import { seededRandom } from './signals.js';
import { OtaDevice, type OtaDeviceOptions, type OtaTally } from './ota-device.js';

export type Protocol = 'mqtt' | 'coap' | 'http';

export interface SimDevice {
  readonly name: string;
  readonly token: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each model has its own state type
  readonly model: DeviceModel<any>;
  readonly protocol: Protocol;
  /** Simulated seconds between readings (default 1); the wall interval is intervalS / speed. */
  readonly intervalS?: number;
  /** Position in its group (SimContext.index); defaults to the position in `devices`. */
  readonly index?: number;
  /** Readings per message (default 1): a meter that collects several readings and sends them as one `[{ts, values}, …]` array. */
  readonly batch?: number;
}

export interface SimOptions {
  readonly devices: readonly SimDevice[];
  readonly endpoints: { readonly mqtt?: MqttEndpoint; readonly coap?: CoapEndpoint; readonly http?: string };
  /** Messages per second per device: overrides every device's interval. */
  readonly rate?: number;
  /** Simulated clock speed (default 1). */
  readonly speed?: number;
  readonly log: LinkLog;
  /** Handshakes in progress at once (MQTT), default 100. */
  readonly connectConcurrency?: number;
  /** MQTT devices also play the OTA device side (ota-device.ts), starting from this title and version. */
  readonly ota?: Omit<OtaDeviceOptions, 'random'>;
}

export interface SimStats {
  readonly devices: number;
  readonly connected: number;
  readonly sent: number;
  readonly acked: number;
  readonly errors: number;
  readonly commands: number;
  /** Readings not sent because the device's window of unacknowledged messages was full. */
  readonly skipped: number;
  /** Acknowledged messages per second over the last few seconds. */
  readonly msgPerS: number;
  /** With `ota`: update attempts started, devices updated, attempts failed on purpose. */
  readonly ota?: Readonly<OtaTally>;
}

export interface Simulation {
  stats(): SimStats;
  /** The device whose telemetry was acknowledged first, once one was. */
  firstAcked(): string | undefined;
  stop(): Promise<void>;
}

/** Shortest wall interval between two readings of one device. */
const MIN_INTERVAL_MS = 10;

class Device {
  state: unknown;
  private lastSim = -1;
  private pending: { ts: number; values: Values }[] = [];
  timer: NodeJS.Timeout | undefined;
  link!: DeviceLink;
  ota: OtaDevice | undefined;

  constructor(
    readonly spec: SimDevice,
    readonly ctx: SimContext,
    private readonly clock: SimClock,
    private readonly log: LinkLog,
    private readonly counters: Counters,
  ) {
    this.state = spec.model.init(ctx, clock.simNow(Date.now()));
  }

  handlers(): LinkHandlers {
    return {
      command: (method, params) => this.command(method, params),
      shared: (values) => {
        this.shared(values);
        this.ota?.shared(values);
      },
      connected: () => {
        this.sendAttributes();
        this.ota?.connected();
      },
      ...(this.ota ? { firmwareChunk: (requestId: string, n: number, data: Buffer) => this.ota?.firmwareChunk(requestId, n, data) } : {}),
    };
  }

  step(): void {
    const now = Date.now();
    const simNow = this.clock.simNow(now);
    const dtSimMs = this.lastSim < 0 ? 0 : simNow - this.lastSim;
    this.lastSim = simNow;
    let values: Values;
    try {
      values = this.spec.model.step(this.state, { now, simNow, dtSimMs }, this.ctx);
    } catch (err) {
      this.log.warn({ device: this.spec.name, err: (err as Error).message }, 'model step failed');
      return;
    }
    if (Object.keys(values).length === 0) return;
    const batch = this.spec.batch ?? 1;
    if (batch <= 1) {
      if (this.link.up && this.canSend()) this.link.telemetry(JSON.stringify({ ts: now, values }));
      return;
    }
    // A batching device keeps its last `batch` readings while offline, like a meter's memory.
    this.pending.push({ ts: now, values });
    if (this.pending.length > batch) this.pending.shift();
    if (this.pending.length === batch && this.link.up && this.canSend()) {
      this.link.telemetry(JSON.stringify(this.pending));
      this.pending = [];
    }
  }

  /** A device whose window is full skips the reading instead of piling more onto a server that is behind. */
  private canSend(): boolean {
    if (this.link.pending < MAX_IN_FLIGHT) return true;
    this.counters.skipped++;
    return false;
  }

  private command(method: string, params: JsonValue): JsonValue {
    const run = this.spec.model.command;
    if (!run) return { error: `device does not take commands (${method})` };
    try {
      return run.call(this.spec.model, this.state, method, params, this.ctx) ?? null;
    } catch (err) {
      if (!(err instanceof CommandRejected)) this.log.warn({ device: this.spec.name, method, err: (err as Error).message }, 'model command failed');
      // The platform marks a command FAILED when the reply is an object with `error`.
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }

  private shared(values: Record<string, JsonValue>): void {
    const { deleted: _deleted, ...rest } = values;
    try {
      this.spec.model.sharedAttributes?.(this.state, rest, this.ctx);
    } catch (err) {
      this.log.warn({ device: this.spec.name, err: (err as Error).message }, 'model rejected shared attributes');
    }
  }

  private sendAttributes(): void {
    const attrs = this.spec.model.attributes?.(this.state, this.ctx);
    if (attrs && Object.keys(attrs).length > 0) this.link.attributes(JSON.stringify(attrs));
  }
}

class SimClock {
  private readonly start = Date.now();
  constructor(readonly speed: number) {}
  simNow(now: number): number {
    return this.start + (now - this.start) * this.speed;
  }
}

/** Acked-message rate over a sliding window of one-second samples. */
class RateMeter {
  private readonly samples: { t: number; acked: number }[] = [];
  constructor(private readonly windowMs = 5000) {}
  rate(acked: number): number {
    const t = performance.now();
    this.samples.push({ t, acked });
    while (this.samples.length > 2 && t - this.samples[0]!.t > this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const dt = t - first.t;
    return dt > 0 ? Math.round(((acked - first.acked) * 1000) / dt) : 0;
  }
}

function checkEndpoints(opts: SimOptions): void {
  for (const d of opts.devices) {
    const ok = d.protocol === 'mqtt' ? opts.endpoints.mqtt : d.protocol === 'coap' ? opts.endpoints.coap : opts.endpoints.http;
    if (!ok) throw new Error(`device ${d.name} uses ${d.protocol} but no ${d.protocol} endpoint was given`);
  }
}

export function startSimulation(opts: SimOptions): Simulation {
  checkEndpoints(opts);
  const speed = opts.speed ?? 1;
  const clock = new SimClock(speed);
  const counters: Counters = { connected: 0, sent: 0, acked: 0, errors: 0, commands: 0, skipped: 0 };
  const gate = new ConnectGate(opts.connectConcurrency ?? 100);
  const agents = new AgentPool();
  const meter = new RateMeter();
  const otaTally: OtaTally = { started: 0, updated: 0, failedOnPurpose: 0 };
  const devices = opts.devices.map((spec, i) => {
    const ctx: SimContext = { index: spec.index ?? i, name: spec.name, random: seededRandom(spec.name), speed };
    const device = new Device(spec, ctx, clock, opts.log, counters);
    if (opts.ota && spec.protocol === 'mqtt') device.ota = new OtaDevice(() => device.link, { ...opts.ota, random: ctx.random }, otaTally);
    const linkCtx: LinkContext = { name: spec.name, token: spec.token, counters, handlers: device.handlers(), log: opts.log };
    device.link =
      spec.protocol === 'mqtt'
        ? new MqttLink(linkCtx, { endpoint: opts.endpoints.mqtt!, gate })
        : spec.protocol === 'coap'
          ? new CoapLink(linkCtx, opts.endpoints.coap!, agents)
          : new HttpLink(linkCtx, opts.endpoints.http!.replace(/\/+$/, ''));
    return device;
  });
  const jitter = Math.random;
  for (const d of devices) {
    d.link.start();
    const intervalMs = Math.max(MIN_INTERVAL_MS, opts.rate ? 1000 / opts.rate : ((d.spec.intervalS ?? 1) * 1000) / speed);
    // A random phase per device; then one interval timer each. Timers of equal duration share
    // one list in Node, so 10,000 of them cost little.
    d.timer = setTimeout(() => {
      d.step();
      d.timer = setInterval(() => d.step(), intervalMs);
    }, jitter() * intervalMs);
  }
  let stopped = false;
  return {
    stats: () => {
      const { firstAcked: _first, ...counts } = counters;
      return { devices: devices.length, ...counts, msgPerS: meter.rate(counters.acked), ...(opts.ota ? { ota: { ...otaTally } } : {}) };
    },
    firstAcked: () => counters.firstAcked,
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const d of devices) {
        clearTimeout(d.timer);
        clearInterval(d.timer);
        d.ota?.stop();
      }
      await Promise.all(devices.map((d) => d.link.stop()));
      agents.close();
    },
  };
}
