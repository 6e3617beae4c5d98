/**
 * What rules read about a device besides the message: the device itself (name, profile), its
 * latest telemetry values and its attributes. Loaded from the store once per device and then kept
 * current from the bus, so evaluating a rule costs no store query in the steady state.
 */
import type { AttributeScope, Device } from '../../domain/device.js';
import type { CompiledRule } from '../../domain/rules/compile.js';
import type { Lookups } from '../../domain/rules/runtime.js';
import type { JsonValue } from '../../domain/telemetry.js';
import type { KeyModel } from '../../domain/forecast/key-model.js';
import type { AttributeStore, BusEvents, Clock, TelemetryStore } from '../../ports.js';
import type { ModelCache } from './models.js';
import type { ZoneCache } from './zones.js';
import type { Zone } from '../../domain/zones/zone.js';

/** A renamed or re-profiled device is picked up within this time. */
const DEVICE_TTL_MS = 30_000;
const ATTRIBUTE_ORDER: readonly AttributeScope[] = ['server', 'shared', 'client'];

export interface DeviceLookup {
  getDevice(id: string): Promise<Device | undefined>;
}

interface Latest {
  /** Entries are updated in place (no allocation per message). */
  readonly values: Map<string, { ts: number; value: JsonValue }>;
  /** Keys read from the store (or learned from messages) at least once. */
  readonly known: Set<string>;
}

const latestKeysMemo = new WeakMap<CompiledRule, readonly string[]>();

/** Keys a rule may look up as latest values: bare identifiers (and the root of dotted ones) and latest("…"). */
export function latestKeysOf(rule: CompiledRule): readonly string[] {
  const memo = latestKeysMemo.get(rule);
  if (memo) return memo;
  const keys = new Set<string>(rule.analysis.latestKeys);
  for (const id of rule.analysis.identifiers) {
    keys.add(id);
    const dot = id.indexOf('.');
    if (dot > 0) keys.add(id.slice(0, dot));
  }
  const out = Object.freeze([...keys]);
  latestKeysMemo.set(rule, out);
  return out;
}

interface RuleSetNeeds {
  readonly keys: readonly string[];
  readonly attributes: boolean;
  /** Some rule calls expected/deviation/forecastMin/forecastMax (roll-up models). */
  readonly models: boolean;
  /** Some rule calls entered/left/dwell (the tenant's zones). */
  readonly zones: boolean;
}

/** What a set of rules (an array from RuleIndex.forDevice, shared per device) reads: computed once per array. */
const needsMemo = new WeakMap<readonly CompiledRule[], RuleSetNeeds>();

function needsOf(rules: readonly CompiledRule[]): RuleSetNeeds {
  let needs = needsMemo.get(rules);
  if (!needs) {
    const keys = new Set<string>();
    for (const r of rules) for (const k of latestKeysOf(r)) keys.add(k);
    needs = { keys: [...keys], attributes: rules.some((r) => r.analysis.attributes.length > 0), models: rules.some((r) => r.analysis.models.length > 0), zones: rules.some((r) => r.analysis.geofences.length > 0) };
    needsMemo.set(rules, needs);
  }
  return needs;
}

/** The lookups of one device, created once per device: they read the caches on every call. */
class DeviceLookups implements Lookups {
  constructor(
    private readonly contexts: DeviceContexts,
    private readonly deviceId: string,
  ) {}

  latest(key: string): JsonValue | undefined {
    return this.contexts.latestValue(this.deviceId, key);
  }

  attr(name: string, scope?: AttributeScope): JsonValue | undefined {
    return this.contexts.attributeValue(this.deviceId, name, scope);
  }

  model(key: string): KeyModel | undefined {
    return this.contexts.models?.get(this.deviceId, key);
  }

  zone(ref: string): Zone | undefined {
    return this.contexts.zoneOf(this.deviceId, ref);
  }
}

export class DeviceContexts {
  private readonly devices = new Map<string, { device: Device; at: number }>();
  private readonly latest = new Map<string, Latest>();
  private readonly attributes = new Map<string, Map<AttributeScope, Map<string, JsonValue>>>();
  /** Devices whose attributes are being read, and whether a change arrived meanwhile. */
  private readonly loadingAttributes = new Map<string, boolean>();
  private readonly lookupsOf = new Map<string, DeviceLookups>();

  constructor(
    private readonly deps: { store: Pick<TelemetryStore, 'latest'> & Pick<AttributeStore, 'getAttributes'>; registry: DeviceLookup; clock: Clock },
    /** Roll-up models for expected/deviation/forecast calls; absent = those calls answer null. */
    readonly models?: ModelCache,
    /** Tenants' zones for entered/left/dwell; absent = those calls answer null. */
    readonly zones?: ZoneCache,
  ) {}

  /** The cached device when it is fresh, without waiting; undefined means: ask `device()`. */
  cachedDevice(id: string): Device | undefined {
    const hit = this.devices.get(id);
    return hit && this.deps.clock.now() - hit.at < DEVICE_TTL_MS ? hit.device : undefined;
  }

  async device(id: string): Promise<Device | undefined> {
    const now = this.deps.clock.now();
    const hit = this.devices.get(id);
    if (hit && now - hit.at < DEVICE_TTL_MS) return hit.device;
    const device = await this.deps.registry.getDevice(id);
    if (device) this.devices.set(id, { device, at: now });
    else this.forget(id);
    return device;
  }

  forget(deviceId: string): void {
    this.devices.delete(deviceId);
    this.latest.delete(deviceId);
    this.attributes.delete(deviceId);
    this.lookupsOf.delete(deviceId);
    this.models?.forget(deviceId);
  }

  /** Whether `prepare(deviceId, rules)` has nothing left to load (the engine then evaluates without waiting). */
  isPrepared(deviceId: string, rules: readonly CompiledRule[]): boolean {
    const latest = this.latest.get(deviceId);
    if (!latest) return false;
    const needs = needsOf(rules);
    for (const k of needs.keys) if (!latest.known.has(k)) return false;
    if (needs.models && this.models && !this.models.isLoaded(deviceId, rules)) return false;
    if (needs.zones && this.zones) {
      const device = this.devices.get(deviceId)?.device;
      if (!device || !this.zones.isLoaded(device.tenantId)) return false;
    }
    return !needs.attributes || this.attributes.has(deviceId);
  }

  /** Loads what these rules will read of the device and is not cached yet. */
  async prepare(deviceId: string, rules: readonly CompiledRule[]): Promise<void> {
    let latest = this.latest.get(deviceId);
    if (!latest) this.latest.set(deviceId, (latest = { values: new Map(), known: new Set() }));
    const missing = needsOf(rules).keys.filter((k) => !latest.known.has(k));
    if (missing.length > 0) {
      const stored = await this.deps.store.latest(deviceId, missing);
      for (const key of missing) {
        latest.known.add(key);
        const tv = Object.hasOwn(stored, key) ? stored[key] : undefined;
        const cur = latest.values.get(key);
        if (tv && (!cur || tv.ts >= cur.ts)) latest.values.set(key, { ts: tv.ts, value: tv.value as JsonValue });
      }
    }
    if (!this.attributes.has(deviceId) && needsOf(rules).attributes) await this.loadAttributes(deviceId);
    if (needsOf(rules).models && this.models) await this.models.load(deviceId, rules);
    if (needsOf(rules).zones && this.zones) {
      const device = await this.device(deviceId);
      if (device) await this.zones.load(device.tenantId);
    }
  }

  /** A zone the device sees (its own, its profile's, its tenant's), by id or name. */
  zoneOf(deviceId: string, ref: string): Zone | undefined {
    const device = this.devices.get(deviceId)?.device;
    return device && this.zones ? this.zones.zone(device, ref) : undefined;
  }

  /** Reads all scopes; a change announced while reading means the read may be stale: read again. */
  private async loadAttributes(deviceId: string): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      this.loadingAttributes.set(deviceId, false);
      const scopes = new Map<AttributeScope, Map<string, JsonValue>>();
      for (const scope of ATTRIBUTE_ORDER) {
        const entries = await this.deps.store.getAttributes(deviceId, scope);
        scopes.set(scope, new Map(entries.map((e) => [e.key, e.value])));
      }
      const changed = this.loadingAttributes.get(deviceId);
      this.attributes.set(deviceId, scopes);
      if (!changed) break;
    }
    this.loadingAttributes.delete(deviceId);
  }

  /** Newer values replace cached ones; an older (late) point never does. */
  applyTelemetry(deviceId: string, ts: number, values: Readonly<Record<string, JsonValue>>): void {
    const latest = this.latest.get(deviceId);
    if (!latest) return;
    for (const key in values) {
      if (!Object.hasOwn(values, key)) continue;
      const value = values[key] as JsonValue;
      const cur = latest.values.get(key);
      if (!cur) {
        latest.values.set(key, { ts, value });
        latest.known.add(key);
      } else if (ts >= cur.ts) {
        cur.ts = ts;
        cur.value = value;
      }
    }
  }

  applyAttributes(msg: BusEvents['attributes']): void {
    if (this.loadingAttributes.has(msg.deviceId)) this.loadingAttributes.set(msg.deviceId, true);
    const scope = this.attributes.get(msg.deviceId)?.get(msg.scope);
    if (!scope) return;
    for (const [key, value] of Object.entries(msg.values)) scope.set(key, value);
    for (const key of msg.deleted ?? []) scope.delete(key);
  }

  /** The device's lookups (one object per device, reused for every evaluation). */
  lookups(deviceId: string): Lookups {
    let l = this.lookupsOf.get(deviceId);
    if (!l) this.lookupsOf.set(deviceId, (l = new DeviceLookups(this, deviceId)));
    return l;
  }

  latestValue(deviceId: string, key: string): JsonValue | undefined {
    return this.latest.get(deviceId)?.values.get(key)?.value;
  }

  attributeValue(deviceId: string, name: string, scope?: AttributeScope): JsonValue | undefined {
    const attrs = this.attributes.get(deviceId);
    if (!attrs) return undefined;
    if (scope) return attrs.get(scope)?.get(name);
    for (const s of ATTRIBUTE_ORDER) {
      const v = attrs.get(s)?.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}
