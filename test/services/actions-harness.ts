/**
 * Real services over the memory store and bus for the alarm, command, twin and live-update tests:
 * registry, statuses, RPC, the session hub (devices are simulated by opening sessions on it, as
 * transports do), attributes, and the services under test.
 */
import assert from 'node:assert/strict';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { MemoryBus } from '../../src/adapters/bus/memory/index.js';
import { DEFAULT_TENANT_ID, type DeviceIdentity } from '../../src/domain/device.js';
import { isPlatformError, type ErrorCode } from '../../src/domain/errors.js';
import { subjectFor } from '../../src/domain/subjects.js';
import type { JsonValue } from '../../src/domain/telemetry.js';
import type { BusEvents, Logger, Presence, Store } from '../../src/ports.js';
import { MemoryPresence } from '../../src/adapters/presence/memory/presence.js';
import { IdAllocator, RPC_ID_SEQUENCE } from '../../src/services/ids.js';
import { Reachability } from '../../src/services/reachability.js';
import { AlarmService } from '../../src/services/alarms.js';
import { AttributeService } from '../../src/services/attributes.js';
import { CommandService, type CommandServiceDeps } from '../../src/services/commands.js';
import type { DeviceSession, RpcRequestToDevice } from '../../src/ports/device-api.js';
import { LiveService } from '../../src/services/live.js';
import { RegistryService, TokenHasher } from '../../src/services/registry.js';
import { RpcService } from '../../src/services/rpc.js';
import { SessionHub } from '../../src/services/sessions.js';
import { StatusService } from '../../src/services/status.js';
import { TwinService } from '../../src/services/twin.js';

export const logger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => logger };
export const T = DEFAULT_TENANT_ID;
export const OTHER_TENANT = '00000000-0000-4000-8000-0000000000ff';

export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isPlatformError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

/** A clock that follows real time plus a settable offset (timers in RpcService are real). */
export function testClock(): { now(): number; advance(ms: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

export interface Harness {
  readonly store: Store;
  readonly bus: MemoryBus;
  readonly presence: Presence;
  readonly nodeId: string;
  readonly clock: ReturnType<typeof testClock>;
  readonly registry: RegistryService;
  readonly status: StatusService;
  readonly rpc: RpcService;
  readonly sessions: SessionHub;
  readonly attributes: AttributeService;
  readonly alarms: AlarmService;
  readonly commands: CommandService;
  readonly twin: TwinService;
  readonly live: LiveService;
  device(name: string, extra?: { tenantId?: string; gatewayId?: string; profileId?: string }): Promise<DeviceIdentity>;
  /** Every bus event of one kind, recorded from now on. */
  record<E extends keyof BusEvents>(event: E): BusEvents[E][];
  /** Stops every service but leaves the store open (a node of several sharing it going away). */
  stopNode(): Promise<void>;
  close(): Promise<void>;
}

/** A fixed credential key (tests only). */
const HARNESS_TOKENS = new TokenHasher(Buffer.alloc(32, 7));

/**
 * Options: a shared `store`, `bus` and `presence` with distinct `nodeId`s make two harnesses two
 * nodes of one cluster.
 */
export async function harness(
  options: { store?: Store; bus?: MemoryBus; presence?: Presence; nodeId?: string; commands?: Partial<CommandServiceDeps>; start?: boolean } = {},
): Promise<Harness> {
  const store = options.store ?? createMemoryStore();
  const bus = options.bus ?? new MemoryBus(logger);
  const clock = testClock();
  const presence = options.presence ?? new MemoryPresence(clock);
  const nodeId = options.nodeId ?? 'node-a';
  // One key for every harness: a test that reopens a SQLite store must find its tokens' key.
  const registry = new RegistryService({ store, clock, logger, codecNames: ['json'], tokens: HARNESS_TOKENS });
  await registry.init();
  await store.ensureTenant({ id: OTHER_TENANT, name: 'other' });
  const status = new StatusService({ store, bus, clock, logger, inactivityTimeoutMs: 600_000, flushIntervalMs: 60_000, presence });
  const reachability = new Reachability({ presence, isLocallyOnline: (id) => status.isDeviceOnline(id) });
  const rpc = new RpcService({
    bus,
    clock,
    logger,
    defaultTimeoutMs: 1000,
    nodeId,
    ids: new IdAllocator(store, RPC_ID_SEQUENCE),
    isOnline: (id) => reachability.isOnline(id),
    holder: (id) => reachability.holder(id),
  });
  const attributes = new AttributeService({ store, bus, clock });
  const twin = new TwinService({ attributes, lastDisconnect: (id) => status.lastDisconnect(id) });
  const sessions = new SessionHub({
    bus,
    clock,
    logger,
    status,
    locateChild: (id) => registry.locateChild(id),
    catchUpShared: (identity) => twin.catchUp(identity),
    presence,
    nodeId,
  });
  const requireDevice = (id: string, tenantId: string) => registry.requireDevice(id, tenantId);
  const alarms = new AlarmService({ store, bus, clock, logger, requireDevice });
  const commands = new CommandService({
    store,
    bus,
    clock,
    logger,
    rpc,
    isOnline: (id) => reachability.isOnline(id),
    requireDevice,
    nodeId,
    defaultTimeoutMs: 1000,
    sweepIntervalMs: 20,
    ...options.commands,
  });
  const live = new LiveService({ bus, clock, logger, requireDevice, getDevice: (id) => registry.getDevice(id), getProfile: (id) => registry.getProfile(id) });
  if (options.start !== false) await commands.start();
  const stopNode = async (): Promise<void> => {
    await commands.stop();
    sessions.close();
    rpc.close();
    await status.stop();
  };
  return {
    store,
    bus,
    presence,
    nodeId,
    clock,
    registry,
    status,
    rpc,
    sessions,
    attributes,
    alarms,
    commands,
    twin,
    live,
    async device(name, extra = {}) {
      const tenantId = extra.tenantId ?? T;
      const { device } = await registry.createDevice({ tenantId, name, ...(extra.gatewayId ? { gatewayId: extra.gatewayId } : {}), ...(extra.profileId ? { profileId: extra.profileId } : {}) });
      return registry.identityFor(device);
    },
    record(event) {
      const seen: BusEvents[typeof event][] = [];
      bus.subscribe(event, `${event}.>`, (m) => void seen.push(m));
      return seen;
    },
    stopNode,
    async close() {
      await stopNode();
      await store.close();
    },
  };
}

/** A simulated MQTT device: a persistent session that records RPC requests and can answer them. */
export class FakeDevice {
  readonly requests: RpcRequestToDevice[] = [];
  session: DeviceSession | undefined;

  constructor(
    private readonly h: Harness,
    readonly identity: DeviceIdentity,
  ) {}

  /** Connects (online) without listening for RPC yet, like an MQTT CONNECT before SUBSCRIBE. */
  connect(): this {
    this.session = this.h.sessions.open(this.identity, 'mqtt', {}, true);
    return this;
  }

  /** Subscribes to RPC; `answer` returns the reply (undefined: stay silent). */
  listen(answer: (r: RpcRequestToDevice) => JsonValue | undefined = () => undefined): this {
    this.session?.setHandlers({
      onRpcRequest: (r) => {
        this.requests.push(r);
        const reply = answer(r);
        if (reply !== undefined) queueMicrotask(() => this.reply(r.id, reply));
      },
    });
    return this;
  }

  reply(requestId: number, response: JsonValue): void {
    void this.h.bus.publish('rpcResponse', subjectFor('rpcResponse', this.identity.tenantId, this.identity.deviceId), {
      deviceId: this.identity.deviceId,
      requestId,
      response,
    });
  }

  disconnect(): void {
    this.session?.close();
    this.session = undefined;
  }
}

/** Polls until `check` holds (service work is asynchronous), or fails after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}
