/**
 * The device twin: desired state (shared attributes, set by users and rules, pushed to the device)
 * against reported state (client attributes, sent by the device), and the delta between them.
 * A device that reconnects gets the desired changes it missed while it was away (catchUp, called
 * by the SessionHub when an MQTT session subscribes to shared attributes).
 */
import type { AttributeEntry, DeviceIdentity } from '../domain/device.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { SharedAttributeUpdate } from '../ports/device-api.js';

export interface TwinEntry {
  readonly value: JsonValue;
  readonly ts: number;
}

export interface TwinDelta {
  readonly desired: JsonValue;
  /** Absent when the device never reported the key. */
  readonly reported?: JsonValue;
}

export interface Twin {
  readonly desired: Record<string, TwinEntry>;
  readonly reported: Record<string, TwinEntry>;
  /** Desired keys the device reports differently, or not at all. */
  readonly delta: Record<string, TwinDelta>;
}

export interface TwinDeps {
  readonly attributes: { get(deviceId: string, scope: 'client' | 'shared'): Promise<AttributeEntry[]> };
  /** When the device's last session ended (StatusService.lastDisconnect). */
  readonly lastDisconnect: (deviceId: string) => Promise<number | undefined>;
}

/** `record[key] = value` that also works for keys such as "__proto__" (keys are device data). */
function putOwn<V>(record: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Structural equality of JSON values; object key order does not matter. */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

function entries(list: readonly AttributeEntry[]): Record<string, TwinEntry> {
  const out: Record<string, TwinEntry> = {};
  for (const e of list) putOwn(out, e.key, { value: e.value, ts: e.lastUpdateTs });
  return out;
}

export class TwinService {
  constructor(private readonly deps: TwinDeps) {}

  /** The caller checks that the device is in its tenant. */
  async get(deviceId: string): Promise<Twin> {
    const [shared, client] = await Promise.all([this.deps.attributes.get(deviceId, 'shared'), this.deps.attributes.get(deviceId, 'client')]);
    const desired = entries(shared);
    const reported = entries(client);
    const delta: Record<string, TwinDelta> = {};
    for (const [key, want] of Object.entries(desired)) {
      const have = Object.hasOwn(reported, key) ? reported[key] : undefined;
      if (have === undefined) putOwn(delta, key, { desired: want.value });
      else if (!jsonEqual(want.value, have.value)) putOwn(delta, key, { desired: want.value, reported: have.value });
    }
    return { desired, reported, delta };
  }

  /**
   * Shared attributes changed after the device's last disconnect; undefined when there are none
   * or the device never disconnected (a first connection asks for attributes itself). Deletions
   * made while it was away leave no trace to replay. A change in the very millisecond of the
   * disconnect is sent again: a repeat is harmless, a miss is not.
   */
  async catchUp(identity: DeviceIdentity): Promise<SharedAttributeUpdate | undefined> {
    const since = await this.deps.lastDisconnect(identity.deviceId);
    if (since === undefined) return undefined;
    const missed = (await this.deps.attributes.get(identity.deviceId, 'shared')).filter((e) => e.lastUpdateTs >= since);
    if (missed.length === 0) return undefined;
    const values: Record<string, JsonValue> = {};
    for (const e of missed) putOwn(values, e.key, e.value);
    return { values };
  }
}
