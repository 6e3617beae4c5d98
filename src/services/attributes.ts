/**
 * Attributes by scope: client (reported by the device), shared (desired, pushed to the device),
 * server (private to the platform). Every change is announced on the bus; sessions holding the
 * device push shared changes to it.
 */
import type { AttributeEntry, AttributeScope } from '../domain/device.js';
import { EDGE_CONFIG_HISTORY_KEY, EDGE_CONFIG_KEYS, checkOrdinaryAttributeWrite, type EdgeConfigKey } from '../domain/edge-config.js';
import { PlatformError } from '../domain/errors.js';
import { checkOrdinaryOtaWrite, OTA_ATTRIBUTE_KEYS } from '../domain/ota.js';
import { subjectFor } from '../domain/subjects.js';
import { checkJsonValue, checkText, DEFAULT_PAYLOAD_LIMITS, FORBIDDEN_KEY, type PayloadLimits } from '../domain/payload-limits.js';
import { MAX_KEY_LENGTH, type JsonValue } from '../domain/telemetry.js';
import type { AttributeStore, Bus, Clock } from '../ports.js';

export interface AttributeDeps {
  readonly store: AttributeStore;
  readonly bus: Bus;
  readonly clock: Clock;
  /** Bounds on what one write may hold; DEFAULT_PAYLOAD_LIMITS when not given. */
  readonly limits?: PayloadLimits;
}

/** Whoever writes (device, gateway, operator), a value that reaches the store can be stored. */
function checkValues(values: Record<string, JsonValue>, limits: PayloadLimits): void {
  const keys = Object.keys(values);
  if (keys.length > limits.maxValuesPerMessage) {
    throw new PlatformError('TOO_MANY_VALUES', `${keys.length} attributes > ${limits.maxValuesPerMessage}`);
  }
  for (const key of keys) {
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw new PlatformError('KEY_TOO_LONG', `attribute key of ${key.length} characters`);
    }
    if (key === FORBIDDEN_KEY) throw new PlatformError('MALFORMED_PAYLOAD', `key "${FORBIDDEN_KEY}" is not allowed`);
    checkText(key, limits, 'attribute key');
    // Depth 2: an attribute value sits one level below the message object.
    checkJsonValue(values[key], limits, 2);
  }
}

export class AttributeService {
  constructor(private readonly deps: AttributeDeps) {}

  /** Every writer but the edge-config endpoint: names reserved for the edge are refused (domain/edge-config.ts). */
  async set(tenantId: string, deviceId: string, scope: AttributeScope, values: Record<string, JsonValue>): Promise<void> {
    checkValues(values, this.deps.limits ?? DEFAULT_PAYLOAD_LIMITS);
    checkOrdinaryAttributeWrite(scope, Object.keys(values));
    checkOrdinaryOtaWrite(scope, Object.keys(values));
    await this.write(tenantId, deviceId, scope, values);
  }

  async remove(tenantId: string, deviceId: string, scope: AttributeScope, keys: string[]): Promise<void> {
    checkOrdinaryAttributeWrite(scope, keys);
    checkOrdinaryOtaWrite(scope, keys);
    await this.delete(tenantId, deviceId, scope, keys);
  }

  /** An OTA assignment (services/ota-devices.ts): the only writer of the shared `fw_*` / `sw_*` attributes. */
  async setOta(tenantId: string, deviceId: string, values: Record<string, JsonValue>): Promise<void> {
    const other = Object.keys(values).find((k) => !OTA_ATTRIBUTE_KEYS.has(k));
    if (other !== undefined) throw new PlatformError('BAD_REQUEST', `"${other}" is not an OTA attribute`);
    await this.write(tenantId, deviceId, 'shared', values);
  }

  /** An OTA unassignment: removes shared `fw_*` / `sw_*` attributes (only those). */
  async removeOta(tenantId: string, deviceId: string, keys: string[]): Promise<void> {
    const other = keys.find((k) => !OTA_ATTRIBUTE_KEYS.has(k));
    if (other !== undefined) throw new PlatformError('BAD_REQUEST', `"${other}" is not an OTA attribute`);
    await this.delete(tenantId, deviceId, 'shared', keys);
  }

  /**
   * An edge configuration push (PUT /api/devices/{id}/edge-config, admin only): sets the
   * reserved shared attributes, or removes them (null: the edge's own file applies again).
   */
  async pushEdgeConfig(tenantId: string, deviceId: string, sections: Partial<Record<EdgeConfigKey, JsonValue | null>>, history?: JsonValue): Promise<void> {
    // The history first: once the edge sees a push number, the platform can show that push.
    if (history !== undefined) await this.write(tenantId, deviceId, 'server', { [EDGE_CONFIG_HISTORY_KEY]: history });
    const values: Record<string, JsonValue> = {};
    const removed: string[] = [];
    for (const key of EDGE_CONFIG_KEYS) {
      const value = sections[key];
      if (value === null) removed.push(key);
      else if (value !== undefined) values[key] = value;
    }
    await this.write(tenantId, deviceId, 'shared', values);
    await this.delete(tenantId, deviceId, 'shared', removed);
  }

  private async write(tenantId: string, deviceId: string, scope: AttributeScope, values: Record<string, JsonValue>): Promise<void> {
    if (Object.keys(values).length === 0) return;
    await this.deps.store.setAttributes(deviceId, scope, values, this.deps.clock.now());
    // Awaited: the caller's success means the change is on its way to the device's session and the rules.
    await this.deps.bus.publish('attributes', subjectFor('attributes', tenantId, deviceId), { tenantId, deviceId, scope, values });
  }

  private async delete(tenantId: string, deviceId: string, scope: AttributeScope, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.deps.store.deleteAttributes(deviceId, scope, keys);
    await this.deps.bus.publish('attributes', subjectFor('attributes', tenantId, deviceId), {
      tenantId,
      deviceId,
      scope,
      values: {},
      deleted: keys,
    });
  }

  get(deviceId: string, scope: AttributeScope, keys?: string[]): Promise<AttributeEntry[]> {
    return this.deps.store.getAttributes(deviceId, scope, keys);
  }

  /** Key → value of one scope; `keys` undefined = all, empty = none. */
  async values(deviceId: string, scope: AttributeScope, keys: readonly string[] | undefined): Promise<Record<string, JsonValue>> {
    if (keys !== undefined && keys.length === 0) return {};
    const entries = await this.deps.store.getAttributes(deviceId, scope, keys);
    const out: Record<string, JsonValue> = {};
    for (const e of entries) out[e.key] = e.value;
    return out;
  }
}
