/** An engine over the memory store and bus with a hand-driven clock and recording action ports. */
import { MemoryBus } from '../../../src/adapters/bus/memory/index.js';
import { createMemoryStore } from '../../../src/adapters/store/memory/index.js';
import { DEFAULT_TENANT_ID, type Device } from '../../../src/domain/device.js';
import type { RuleInput } from '../../../src/domain/rules/model.js';
import { subjectFor } from '../../../src/domain/subjects.js';
import type { JsonValue, Point } from '../../../src/domain/telemetry.js';
import type { BusEvents, Logger, Store } from '../../../src/ports.js';
import type { Alarm, AlarmApi, Command, CommandApi, RaiseAlarm, SendCommand } from '../../../src/domain/action-apis.js';
import { AttributeService } from '../../../src/services/attributes.js';
import { RegistryService } from '../../../src/services/registry.js';
import type { OutboundHttp } from '../../../src/services/outbound.js';
import { createRules, type Rules } from '../../../src/services/rules/index.js';

export const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
export const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);
export const MIN = 60_000;
export const TENANT = DEFAULT_TENANT_ID;

export class FakeAlarms implements AlarmApi {
  readonly log: string[] = [];
  fail = false;
  async raise(input: RaiseAlarm): Promise<Alarm> {
    if (this.fail) throw new Error('alarm store unavailable');
    this.log.push(`raise ${input.type} ${input.severity} ${input.deviceId}`);
    return { id: 'a1', tenantId: input.tenantId, deviceId: input.deviceId, type: input.type, severity: input.severity, status: 'active', count: 1, details: input.details ?? null, createdAt: 0, updatedAt: 0, version: 1 };
  }
  async clear(input: { tenantId: string; deviceId: string; type: string }): Promise<Alarm | undefined> {
    this.log.push(`clear ${input.type} ${input.deviceId}`);
    return undefined;
  }
}

export class FakeCommands implements CommandApi {
  readonly sent: SendCommand[] = [];
  async send(input: SendCommand): Promise<Command> {
    this.sent.push(input);
    return { id: `c${this.sent.length}`, tenantId: input.tenantId, deviceId: input.deviceId, method: input.method, params: input.params ?? null, oneway: false, persistent: true, status: 'QUEUED', retries: 0, createdAt: 0, updatedAt: 0, expiresAt: 0 };
  }
}

export interface Fixture {
  readonly store: Store;
  readonly bus: MemoryBus;
  readonly registry: RegistryService;
  readonly attributes: AttributeService;
  readonly alarms: FakeAlarms;
  readonly commands: FakeCommands;
  readonly published: { tenantId: string; topic: string; payload: string }[];
  readonly written: { deviceId: string; points: readonly Point[] }[];
  readonly errors: BusEvents['ruleError'][];
  readonly clock: { now(): number; set(ms: number): void };
  rules: Rules;
  device(name: string, profileId?: string, tenantId?: string): Promise<Device>;
  rule(input: Partial<RuleInput> & Pick<RuleInput, 'actions'>): Promise<string>;
  /** Publishes committed telemetry as ingest does, and waits until the engine is idle. */
  telemetry(device: Device, points: Point[] | Record<string, JsonValue>, ts?: number): Promise<void>;
  /** A new engine on the same store (a platform restart). */
  restart(): Promise<void>;
  /** Another engine on the same store and bus, started (a second node of a cluster); the caller stops it. */
  node(): Promise<Rules>;
  stop(): Promise<void>;
}

export async function fixture(options: { outbound?: OutboundHttp; store?: Store } = {}): Promise<Fixture> {
  let now = T0;
  const clock = { now: () => now, set: (ms: number) => (now = ms) };
  const store = options.store ?? createMemoryStore();
  const bus = new MemoryBus(silent);
  const registry = new RegistryService({ store, clock, logger: silent, codecNames: ['json'] });
  await registry.init();
  const attributes = new AttributeService({ store, bus, clock });
  const alarms = new FakeAlarms();
  const commands = new FakeCommands();
  const published: Fixture['published'] = [];
  const written: Fixture['written'] = [];
  const errors: BusEvents['ruleError'][] = [];
  bus.subscribe('ruleError', 'ruleError.>', (e) => void errors.push(e));
  const build = (): Rules =>
    createRules({
      store,
      registry,
      bus,
      clock,
      logger: silent,
      timers: false,
      actionDeps: {
        alarms,
        commands,
        attributes,
        telemetry: { write: async (_t, deviceId, points) => void written.push({ deviceId, points }) },
        topics: { publish: (tenantId, topic, payload) => void published.push({ tenantId, topic, payload: String(payload) }) },
        ...(options.outbound ? { outbound: options.outbound } : {}),
      },
    });
  const f: Fixture = {
    store,
    bus,
    registry,
    attributes,
    alarms,
    commands,
    published,
    written,
    errors,
    clock,
    rules: build(),
    async device(name, profileId, tenantId = TENANT) {
      const { device } = await registry.createDevice({ tenantId, name, ...(profileId ? { profileId } : {}) });
      return device;
    },
    async rule(input) {
      const rule = await f.rules.service.create(TENANT, { name: 'rule', trigger: 'telemetry', ...input });
      return rule.id;
    },
    async telemetry(device, points, ts = now) {
      const list = Array.isArray(points) ? points : Object.entries(points).map(([key, value]) => ({ key, ts, value: value as Point['value'] }));
      await store.appendTelemetry(list.map((p) => ({ deviceId: device.id, ...p })));
      await bus.publish('telemetry', subjectFor('telemetry', device.tenantId, device.id), { tenantId: device.tenantId, deviceId: device.id, points: list });
      await bus.idle();
      await f.rules.engine.idle();
    },
    async restart() {
      await f.rules.stop();
      f.rules = build();
      await f.rules.start();
    },
    async node() {
      const rules = build();
      await rules.start();
      return rules;
    },
    stop: () => f.rules.stop(),
  };
  await f.rules.start();
  return f;
}
