/**
 * ThingsBoard's gateway API: one gateway device reports for many child devices named in the
 * payload. Children are created on first sight and linked to the gateway. A gateway speaks only
 * for its own children: a name that belongs to any other device (standalone, another gateway's
 * child, a gateway) is refused with FORBIDDEN and that device is left as it is — otherwise one
 * gateway credential could take over any device of the tenant by naming it. Attaching an
 * existing device to a gateway is an admin's decision (PATCH /api/devices/{id} gatewayId).
 * A message naming several devices is checked as a whole before anything is stored.
 *
 * Children's connectivity follows the gateway (docs/EDGE.md "Children follow their gateway"): a
 * child is online exactly while its gateway's session holds one for it — opened by
 * `v1/gateway/connect` or by its first telemetry, closed by `v1/gateway/disconnect` (the gateway
 * says the field device stopped answering; telemetry does not bring it back, only a connect does,
 * since a gateway draining its backlog sends old readings of a device that is still down) and,
 * for all of them at once, when the gateway's last session ends (`gateway_offline`). Commands to
 * an offline child therefore wait QUEUED in the outbox and go out when the gateway connects it.
 *
 * A peer of the DeviceService, not part of it: it takes the registry, ingest, attributes and
 * sessions it works with, and reaches the device API only through its port (RPC replies), so
 * neither service imports the other. The composition root wires both.
 */
import type { Device, DeviceIdentity } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import type { PayloadLimits } from '../domain/payload-limits.js';
import type { JsonValue } from '../domain/telemetry.js';
import { parseJson, telemetryFromJson } from '../protocols/json/telemetry.js';
import type { Clock, Logger } from '../ports.js';
import type { AttributeService } from './attributes.js';
import type { AlarmService } from './alarms.js';
import { parseGatewayAlarm } from './gateway-alarm.js';
import type { DeviceApi, DeviceSession, GatewayApi, GatewayEventHandlers, OtaChunkRequest, PlatformMetrics } from '../ports/device-api.js';
import { rejectedDeviceMessage } from './device-rejections.js';
import { DEFAULT_GATEWAY_LIMITS, GatewayQuota, type GatewayLimits } from './gateway-quota.js';
import type { IngestService } from './ingest.js';
import type { RegistryService } from './registry.js';
import type { SessionHub } from './sessions.js';

type JsonObject = { [key: string]: JsonValue };

export interface GatewayDeps {
  readonly registry: RegistryService;
  readonly ingest: IngestService;
  readonly attributes: AttributeService;
  readonly sessions: SessionHub;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: PlatformMetrics;
  /** Children's RPC replies go where devices' own go; so do the chunks of their packages. */
  readonly devices: Pick<DeviceApi, 'rpcResponse' | 'otaChunk'>;
  readonly gatewayLimits?: GatewayLimits;
  /** Bounds for the envelope parts no later check covers (RPC replies). */
  readonly limits: PayloadLimits;
  /** Edge alarms (v1/gateway/alarm); absent: the topic is refused. */
  readonly alarms?: Pick<AlarmService, 'sync'>;
}

function asObject(value: JsonValue | undefined, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new PlatformError('MALFORMED_PAYLOAD', `${what} must be a JSON object`);
  }
  return value;
}

function deviceNameOf(body: JsonObject): string {
  const name = body.device;
  if (typeof name !== 'string' || name === '') throw new PlatformError('MALFORMED_PAYLOAD', 'gateway message needs "device"');
  return name;
}

export class GatewayService implements GatewayApi {
  /** gatewayId → child name → identity (or the creation in flight). */
  private readonly childCache = new Map<string, Map<string, Promise<DeviceIdentity>>>();
  /** Children with a session through their gateway (connect, or telemetry), per gateway: name → session. */
  private readonly connected = new Map<string, Map<string, DeviceSession>>();
  /** Children the gateway reported down (v1/gateway/disconnect) while it stays connected, per gateway. */
  private readonly down = new Map<string, Set<string>>();
  /** Open gateway sessions per gateway (a takeover opens the new one before the old one closes). */
  private readonly gatewaySessions = new Map<string, number>();
  /** Bumped when a gateway's last session ends: a connect resolved across that opens nothing. */
  private readonly generations = new Map<string, number>();
  /** child deviceId → where it sits in `childCache`, to drop it when the registry changes it. */
  private readonly cachedChildren = new Map<string, { gatewayId: string; name: string }>();
  private readonly quota: GatewayQuota;

  constructor(private readonly deps: GatewayDeps) {
    this.quota = new GatewayQuota({ ...deps, limits: deps.gatewayLimits ?? DEFAULT_GATEWAY_LIMITS });
    // A child renamed, moved to another gateway, unlinked or deleted by an admin: forget it here.
    deps.registry.onDeviceChanged((deviceId) => this.forgetChild(deviceId));
  }

  async gatewayConnect(gateway: DeviceIdentity, name: string, type?: string): Promise<DeviceIdentity> {
    const generation = this.generation(gateway.deviceId);
    const [child] = await this.children(gateway, [name], type);
    if (!child) throw new PlatformError('INTERNAL', 'no child resolved');
    // The gateway's session ended while the child was being resolved: the child stays offline.
    if (this.generation(gateway.deviceId) !== generation) return child;
    this.down.get(gateway.deviceId)?.delete(name);
    this.openChild(gateway, child, name);
    return child;
  }

  async gatewayDisconnect(gateway: DeviceIdentity, name: string): Promise<void> {
    const generation = this.generation(gateway.deviceId);
    // Only the gateway's own existing children: a name of anything else is refused, and the
    // set of down children stays bounded by the gateway's child count.
    try {
      await this.child(gateway, name, undefined, true);
    } catch (err) {
      if (err instanceof PlatformError && err.code === 'DEVICE_NOT_FOUND') return;
      throw err;
    }
    if (this.generation(gateway.deviceId) !== generation) return;
    let down = this.down.get(gateway.deviceId);
    if (!down) this.down.set(gateway.deviceId, (down = new Set()));
    down.add(name);
    const open = this.connected.get(gateway.deviceId);
    open?.get(name)?.close('device_disconnected');
    open?.delete(name);
  }

  private generation(gatewayId: string): number {
    return this.generations.get(gatewayId) ?? 0;
  }

  /** The child's session through its gateway (one per child and gateway). */
  private openChild(gateway: DeviceIdentity, child: DeviceIdentity, name: string): void {
    let open = this.connected.get(gateway.deviceId);
    if (!open) this.connected.set(gateway.deviceId, (open = new Map()));
    if (!open.has(name)) open.set(name, this.deps.sessions.open(child, 'gateway', {}, true));
  }

  async gatewayTelemetry(gateway: DeviceIdentity, payload: Buffer): Promise<void> {
    try {
      const body = asObject(parseJson(payload), 'gateway telemetry');
      const now = this.deps.clock.now();
      const entries = Object.entries(body);
      // Every child's readings are decoded and checked before any child is resolved, created or
      // queued: a message the gateway gets refused stores nothing and creates nothing.
      const points = entries.map(([, readings]) => {
        const decoded = telemetryFromJson(readings, now);
        this.deps.ingest.check(decoded);
        return decoded;
      });
      // The tenant's quotas admit the gateway's message as one (nothing created or queued if not).
      if (entries.length > 0) this.deps.ingest.admit(gateway.tenantId);
      const children = await this.children(gateway, entries.map(([name]) => name));
      // A child that reports is connected (ThingsBoard's implicit connect), unless its gateway
      // reported it down, or the gateway's session is gone (a message processed after it closed).
      if ((this.gatewaySessions.get(gateway.deviceId) ?? 0) > 0) {
        const down = this.down.get(gateway.deviceId);
        children.forEach((child, i) => {
          const name = entries[i]?.[0];
          if (name !== undefined && !down?.has(name)) this.openChild(gateway, child, name);
        });
      }
      const writes = children.map((child, i) => this.deps.ingest.ingest(child, points[i] ?? [], 'gateway'));
      await Promise.all(writes);
      this.deps.metrics.messageIn('mqtt', 'gateway-telemetry');
    } catch (err) {
      throw rejectedDeviceMessage(this.deps.logger, gateway, 'gateway', 'telemetry', err);
    }
  }

  async gatewayAttributes(gateway: DeviceIdentity, payload: Buffer): Promise<void> {
    try {
      const body = asObject(parseJson(payload), 'gateway attributes');
      const entries = Object.entries(body).map(([name, values]) => [name, asObject(values, `attributes of ${name}`)] as const);
      const children = await this.children(gateway, entries.map(([name]) => name));
      const writes = children.map((child, i) => this.deps.attributes.set(child.tenantId, child.deviceId, 'client', entries[i]?.[1] ?? {}));
      await Promise.all(writes);
    } catch (err) {
      throw rejectedDeviceMessage(this.deps.logger, gateway, 'gateway', 'attributes', err);
    }
  }

  /** `{"id":1,"device":"A","client":true,"key":"k"}` → `{"id":1,"device":"A","value":v}`; `keys` → `values`. */
  async gatewayAttributeRequest(gateway: DeviceIdentity, payload: Buffer): Promise<JsonValue> {
    const body = asObject(parseJson(payload), 'gateway attribute request');
    const name = deviceNameOf(body);
    const [child] = await this.children(gateway, [name]);
    if (!child) throw new PlatformError('INTERNAL', 'no child resolved');
    const scope = body.client === true ? 'client' : 'shared';
    const id = body.id ?? null;
    if (typeof body.key === 'string') {
      const values = await this.deps.attributes.values(child.deviceId, scope, [body.key]);
      return { id, device: name, value: values[body.key] ?? null };
    }
    const keys = Array.isArray(body.keys) ? body.keys.filter((k): k is string => typeof k === 'string') : undefined;
    return { id, device: name, values: await this.deps.attributes.values(child.deviceId, scope, keys) };
  }

  /**
   * An edge alarm's lifecycle (`v1/gateway/alarm`, services/gateway-alarm.ts): only for the
   * gateway's own existing children (never itself, never another device; FORBIDDEN otherwise).
   */
  async gatewayAlarm(gateway: DeviceIdentity, payload: Buffer): Promise<void> {
    const alarms = this.deps.alarms;
    if (!alarms) throw new PlatformError('BAD_REQUEST', 'edge alarms are not enabled on this platform');
    try {
      const body = parseGatewayAlarm(parseJson(payload, this.deps.limits));
      const child = await this.child(gateway, body.device, undefined, true);
      const { device: _device, ...alarm } = body;
      await alarms.sync(gateway.deviceId, { ...alarm, tenantId: child.tenantId, deviceId: child.deviceId });
    } catch (err) {
      throw rejectedDeviceMessage(this.deps.logger, gateway, 'gateway', 'alarm', err);
    }
  }

  /** `{"device":"A","id":1,"data":{…}}` */
  async gatewayRpcResponse(gateway: DeviceIdentity, payload: Buffer): Promise<void> {
    // Checked whole: `data` is serialized again below and travels on to the REST caller.
    const body = asObject(parseJson(payload, this.deps.limits), 'gateway RPC response');
    const child = await this.child(gateway, deviceNameOf(body), undefined, true);
    const id = body.id;
    if (typeof id !== 'number') throw new PlatformError('MALFORMED_PAYLOAD', 'gateway RPC response needs a numeric "id"');
    await this.deps.devices.rpcResponse(child, id, Buffer.from(JSON.stringify(body.data ?? null)));
  }

  /**
   * A chunk of the child's assigned package, served as if the child asked for it itself: the
   * gateway stands in only for its own existing children (a name of another gateway's child, a
   * standalone device or a gateway is FORBIDDEN; another tenant's devices are not found by name).
   */
  async gatewayOtaChunk(gateway: DeviceIdentity, name: string, request: OtaChunkRequest): Promise<Buffer> {
    const child = await this.child(gateway, name, undefined, true);
    return this.deps.devices.otaChunk(child, request);
  }

  openGatewaySession(gateway: DeviceIdentity, handlers: GatewayEventHandlers): DeviceSession {
    const id = gateway.deviceId;
    const session = this.deps.sessions.openGateway(gateway, handlers);
    this.gatewaySessions.set(id, (this.gatewaySessions.get(id) ?? 0) + 1);
    const close = session.close.bind(session);
    let closed = false;
    // When the gateway's last session goes, every child it had connected goes offline with it.
    return Object.assign(session, {
      close: () => {
        close();
        if (closed) return;
        closed = true;
        const left = (this.gatewaySessions.get(id) ?? 1) - 1;
        if (left > 0) {
          this.gatewaySessions.set(id, left);
          return;
        }
        this.gatewaySessions.delete(id);
        this.generations.set(id, this.generation(id) + 1);
        this.down.delete(id);
        for (const child of this.connected.get(id)?.values() ?? []) child.close('gateway_offline');
        this.connected.delete(id);
      },
    });
  }

  /**
   * The children named in one message, in order. Every name is checked before any child is
   * created, so a message naming one device the gateway may not use changes nothing at all.
   */
  private async children(gateway: DeviceIdentity, names: readonly string[], type?: string): Promise<DeviceIdentity[]> {
    if (!gateway.isGateway) throw new PlatformError('FORBIDDEN', `${gateway.name} is not a gateway`);
    const known = this.childCache.get(gateway.deviceId);
    const unseen = [...new Set(names)].filter((name) => !known?.has(name));
    const found = await Promise.all(unseen.map((name) => this.existingChild(gateway, name)));
    const fresh = unseen.filter((_, i) => found[i] === undefined);
    if (fresh.length > 0) {
      for (const name of fresh) checkChildName(name);
      await this.quota.admit(gateway, fresh.length, type);
    }
    return Promise.all(names.map((name) => this.child(gateway, name, type)));
  }

  /** The gateway's existing child of that name; undefined when no device has that name; FORBIDDEN for anyone else's device. */
  private async existingChild(gateway: DeviceIdentity, name: string): Promise<Device | undefined> {
    const existing = await this.deps.registry.findDeviceByName(gateway.tenantId, name);
    if (existing && existing.gatewayId !== gateway.deviceId) throw this.refuse(gateway, name, existing);
    return existing;
  }

  private refuse(gateway: DeviceIdentity, name: string, device: Device): PlatformError {
    const reason = device.isGateway || device.id === gateway.deviceId ? 'is a gateway' : device.gatewayId !== undefined ? 'belongs to another gateway' : 'is not a child of this gateway';
    this.deps.logger.warn({ gateway: gateway.name, gatewayId: gateway.deviceId, device: name, deviceId: device.id, reason }, 'gateway refused: it may only use its own child devices');
    return new PlatformError('FORBIDDEN', `device "${name}" ${reason}`);
  }

  /**
   * Finds or creates the child; concurrent first messages for one child create it once.
   * `existingOnly`: requests about a child (attribute request, RPC reply) never create one.
   */
  child(gateway: DeviceIdentity, name: string, type?: string, existingOnly = false): Promise<DeviceIdentity> {
    if (!gateway.isGateway) return Promise.reject(new PlatformError('FORBIDDEN', `${gateway.name} is not a gateway`));
    let byName = this.childCache.get(gateway.deviceId);
    if (!byName) this.childCache.set(gateway.deviceId, (byName = new Map()));
    let found = byName.get(name);
    if (!found) {
      found = this.resolveChild(gateway, name, type, existingOnly);
      byName.set(name, found);
      found.then(
        (child) => this.cachedChildren.set(child.deviceId, { gatewayId: gateway.deviceId, name }),
        () => byName.delete(name),
      );
    }
    return found;
  }

  private forgetChild(deviceId: string): void {
    const at = this.cachedChildren.get(deviceId);
    if (!at) return;
    this.cachedChildren.delete(deviceId);
    this.childCache.get(at.gatewayId)?.delete(at.name);
    this.quota.forget(at.gatewayId);
  }

  private async resolveChild(gateway: DeviceIdentity, name: string, type: string | undefined, existingOnly: boolean): Promise<DeviceIdentity> {
    const { registry } = this.deps;
    checkChildName(name);
    const existing = await this.existingChild(gateway, name);
    if (existing) return registry.identityFor(existing);
    if (existingOnly) throw new PlatformError('DEVICE_NOT_FOUND', `gateway has no child "${name}"`);
    try {
      const profileId = type ? (await registry.ensureProfile(gateway.tenantId, type)).id : undefined;
      const { device } = await registry.createDevice({ tenantId: gateway.tenantId, name, gatewayId: gateway.deviceId, profileId });
      this.deps.logger.info({ gateway: gateway.name, device: name, deviceId: device.id }, 'child device created by gateway');
      return await registry.identityFor(device);
    } catch (err) {
      // The admitted count may now be one too high: count again from the registry next time.
      this.quota.forget(gateway.deviceId);
      throw err;
    }
  }
}

function checkChildName(name: string): void {
  if (name.length === 0 || name.length > 255) throw new PlatformError('BAD_REQUEST', 'child device name must be 1..255 characters');
}
