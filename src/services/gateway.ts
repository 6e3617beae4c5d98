/**
 * ThingsBoard's gateway API: one gateway device reports for many child devices named in the
 * payload. Children are created on first sight and linked to the gateway; a gateway may only
 * speak for devices that are its own children or not linked to any gateway yet.
 */
import type { DeviceIdentity } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import type { PayloadLimits } from '../domain/payload-limits.js';
import type { JsonValue } from '../domain/telemetry.js';
import { parseJson, telemetryFromJson } from '../adapters/codec/json/index.js';
import type { Clock, Logger } from '../ports.js';
import type { AttributeService } from './attributes.js';
import type { DeviceSession, GatewayEventHandlers, PlatformMetrics } from './device-api.js';
import type { DeviceService } from './device-service.js';
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
  readonly device: DeviceService;
  /** Bounds for the envelope parts no later check covers (RPC replies). */
  readonly limits: PayloadLimits;
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

export class GatewayService {
  /** gatewayId → child name → identity (or the creation in flight). */
  private readonly children = new Map<string, Map<string, Promise<DeviceIdentity>>>();
  /** Children marked connected through v1/gateway/connect, per gateway. */
  private readonly connected = new Map<string, Map<string, DeviceSession>>();

  constructor(private readonly deps: GatewayDeps) {}

  async connect(gateway: DeviceIdentity, name: string, type?: string): Promise<DeviceIdentity> {
    const child = await this.child(gateway, name, type);
    let open = this.connected.get(gateway.deviceId);
    if (!open) this.connected.set(gateway.deviceId, (open = new Map()));
    if (!open.has(name)) open.set(name, this.deps.sessions.open(child, 'gateway', {}, true));
    return child;
  }

  async disconnect(gateway: DeviceIdentity, name: string): Promise<void> {
    const open = this.connected.get(gateway.deviceId);
    open?.get(name)?.close();
    open?.delete(name);
  }

  async telemetry(gateway: DeviceIdentity, payload: Buffer): Promise<void> {
    try {
      const body = asObject(parseJson(payload), 'gateway telemetry');
      const now = this.deps.clock.now();
      // Every child's readings are decoded and checked before any is queued: a message the
      // gateway gets refused stores nothing, not the children listed before the bad one.
      const perChild = Object.entries(body).map(([name, readings]) => {
        const points = telemetryFromJson(readings, now);
        this.deps.ingest.check(points);
        return [name, points] as const;
      });
      const writes = perChild.map(async ([name, points]) => {
        const child = await this.child(gateway, name);
        await this.deps.ingest.ingest(child, points, 'gateway');
      });
      await Promise.all(writes);
      this.deps.metrics.messageIn('mqtt', 'gateway-telemetry');
    } catch (err) {
      throw this.deps.device.rejected(gateway, 'gateway', 'telemetry', err);
    }
  }

  async attributes(gateway: DeviceIdentity, payload: Buffer): Promise<void> {
    try {
      const body = asObject(parseJson(payload), 'gateway attributes');
      const writes = Object.entries(body).map(async ([name, values]) => {
        const child = await this.child(gateway, name);
        await this.deps.attributes.set(child.tenantId, child.deviceId, 'client', asObject(values, `attributes of ${name}`));
      });
      await Promise.all(writes);
    } catch (err) {
      throw this.deps.device.rejected(gateway, 'gateway', 'attributes', err);
    }
  }

  /** `{"id":1,"device":"A","client":true,"key":"k"}` → `{"id":1,"device":"A","value":v}`; `keys` → `values`. */
  async attributeRequest(gateway: DeviceIdentity, payload: Buffer): Promise<JsonValue> {
    const body = asObject(parseJson(payload), 'gateway attribute request');
    const name = deviceNameOf(body);
    const child = await this.child(gateway, name);
    const scope = body.client === true ? 'client' : 'shared';
    const id = body.id ?? null;
    if (typeof body.key === 'string') {
      const values = await this.deps.attributes.values(child.deviceId, scope, [body.key]);
      return { id, device: name, value: values[body.key] ?? null };
    }
    const keys = Array.isArray(body.keys) ? body.keys.filter((k): k is string => typeof k === 'string') : undefined;
    return { id, device: name, values: await this.deps.attributes.values(child.deviceId, scope, keys) };
  }

  /** `{"device":"A","id":1,"data":{…}}` */
  async rpcResponse(gateway: DeviceIdentity, payload: Buffer): Promise<void> {
    // Checked whole: `data` is serialized again below and travels on to the REST caller.
    const body = asObject(parseJson(payload, this.deps.limits), 'gateway RPC response');
    const child = await this.child(gateway, deviceNameOf(body));
    const id = body.id;
    if (typeof id !== 'number') throw new PlatformError('MALFORMED_PAYLOAD', 'gateway RPC response needs a numeric "id"');
    await this.deps.device.rpcResponse(child, id, Buffer.from(JSON.stringify(body.data ?? null)));
  }

  openSession(gateway: DeviceIdentity, handlers: GatewayEventHandlers): DeviceSession {
    const session = this.deps.sessions.openGateway(gateway, handlers);
    const close = session.close.bind(session);
    // When the gateway goes, the children it had connected go offline with it.
    return Object.assign(session, {
      close: () => {
        close();
        for (const child of this.connected.get(gateway.deviceId)?.values() ?? []) child.close();
        this.connected.delete(gateway.deviceId);
      },
    });
  }

  /** Finds or creates the child; concurrent first messages for one child create it once. */
  child(gateway: DeviceIdentity, name: string, type?: string): Promise<DeviceIdentity> {
    if (!gateway.isGateway) return Promise.reject(new PlatformError('FORBIDDEN', `${gateway.name} is not a gateway`));
    let byName = this.children.get(gateway.deviceId);
    if (!byName) this.children.set(gateway.deviceId, (byName = new Map()));
    let found = byName.get(name);
    if (!found) {
      found = this.resolveChild(gateway, name, type);
      byName.set(name, found);
      found.catch(() => byName.delete(name));
    }
    return found;
  }

  private async resolveChild(gateway: DeviceIdentity, name: string, type?: string): Promise<DeviceIdentity> {
    const { registry } = this.deps;
    if (name.length === 0 || name.length > 255) throw new PlatformError('BAD_REQUEST', 'child device name must be 1..255 characters');
    const existing = await registry.findDeviceByName(gateway.tenantId, name);
    if (existing) {
      if (existing.gatewayId && existing.gatewayId !== gateway.deviceId) {
        throw new PlatformError('FORBIDDEN', `device "${name}" belongs to another gateway`);
      }
      if (existing.isGateway || existing.id === gateway.deviceId) throw new PlatformError('FORBIDDEN', `"${name}" is a gateway`);
      const linked = existing.gatewayId ? existing : await registry.linkToGateway(existing.id, gateway.deviceId);
      return registry.identityFor(linked);
    }
    const profileId = type ? (await registry.ensureProfile(gateway.tenantId, type)).id : undefined;
    const { device } = await registry.createDevice({ tenantId: gateway.tenantId, name, gatewayId: gateway.deviceId, profileId });
    this.deps.logger.info({ gateway: gateway.name, device: name, deviceId: device.id }, 'child device created by gateway');
    return registry.identityFor(device);
  }
}
