/**
 * Configuration of the BACnet/IP connector, checked by the edge config loader.
 */
import { Type, type Static } from '@sinclair/typebox';
import { isCommandable, OBJECT_TYPE_NAMES, PROPERTY_NAMES } from './objects.js';

const ObjectTypeName = Type.Union(OBJECT_TYPE_NAMES.map((t) => Type.Literal(t)));
const PropertyName = Type.Union(PROPERTY_NAMES.map((p) => Type.Literal(p)), { default: 'present-value' });
/** Object instance numbers are 22 bits (clause 20.2.14); 4194303 means "unconfigured". */
const Instance = Type.Integer({ minimum: 0, maximum: 4_194_302 });

export const BacnetObjectSchema = Type.Object(
  {
    key: Type.String({ minLength: 1 }),
    type: ObjectTypeName,
    instance: Instance,
    property: PropertyName,
    /** Subscribe (SubscribeCOV, clause 13.14) instead of polling; falls back to polling when the device refuses. */
    cov: Type.Boolean({ default: false }),
    unit: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const BacnetCommandSchema = Type.Object(
  {
    method: Type.String({ minLength: 1 }),
    object: ObjectTypeName,
    instance: Instance,
    property: PropertyName,
    /** Command priority 1 (highest) … 16 (clause 19.2.1); omitted = the device's default (16). */
    priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
    /** A fixed value to write; otherwise params.value, or params itself when scalar. null relinquishes. */
    value: Type.Optional(Type.Union([Type.Number(), Type.Boolean(), Type.String(), Type.Null()])),
  },
  { additionalProperties: false },
);

export const BacnetDeviceSchema = Type.Object(
  {
    /** The child device's name on the platform. */
    name: Type.String({ minLength: 1 }),
    /** Device object instance (clause 12.11.1); who-is is sent for exactly this one. */
    deviceId: Instance,
    /** "ip" or "ip:port" (BACnet/IP, Annex J); omitted = found by a broadcast who-is. */
    address: Type.Optional(Type.String({ minLength: 1 })),
    pollMs: Type.Integer({ minimum: 100, default: 5000 }),
    /** Lifetime asked for in SubscribeCOV; renewed at half of it. */
    covLifetimeS: Type.Integer({ minimum: 10, maximum: 86_400, default: 300 }),
    /** Device type sent with v1/gateway/connect. */
    type: Type.Optional(Type.String()),
    objects: Type.Array(BacnetObjectSchema, { minItems: 1 }),
    commands: Type.Array(BacnetCommandSchema, { default: [] }),
  },
  { additionalProperties: false },
);

export const BacnetSchema = Type.Object(
  {
    type: Type.Literal('bacnet'),
    name: Type.String({ minLength: 1, default: 'bacnet' }),
    /** Local UDP port; 47808 (0xBAC0) is the BACnet/IP default (Annex J.1); 0 = any free port. */
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 47808 }),
    /** Local address to bind; 0.0.0.0 = every interface. */
    interface: Type.String({ minLength: 1, default: '0.0.0.0' }),
    /** Where broadcast who-is goes ("ip" or "ip:port"), e.g. the subnet's directed broadcast. */
    broadcastAddress: Type.String({ minLength: 1, default: '255.255.255.255' }),
    /** APDU timeout per confirmed request (Device object's APDU_Timeout, clause 12.11.27). */
    apduTimeoutMs: Type.Integer({ minimum: 100, default: 3000 }),
    /** First retry delay for a device that does not answer who-is; doubles up to rediscoverMaxMs. */
    rediscoverMs: Type.Integer({ minimum: 100, default: 2000 }),
    rediscoverMaxMs: Type.Integer({ minimum: 100, default: 60_000 }),
    devices: Type.Array(BacnetDeviceSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type BacnetConfig = Static<typeof BacnetSchema>;
export type BacnetDeviceConfig = Static<typeof BacnetDeviceSchema>;
export type BacnetObjectConfig = Static<typeof BacnetObjectSchema>;
export type BacnetCommandConfig = Static<typeof BacnetCommandSchema>;

/** Checks the schema cannot express; `at` is the connector's path in the file. */
export function bacnetProblems(c: BacnetConfig, at: string): string[] {
  const problems: string[] = [];
  if (c.rediscoverMaxMs < c.rediscoverMs) problems.push(`${at}.rediscoverMaxMs: less than rediscoverMs`);
  const ids = new Set<number>();
  c.devices.forEach((d, di) => {
    const dat = `${at}.devices[${di}]`;
    // A device instance is unique within a BACnet internetwork (clause 12.11.1).
    if (ids.has(d.deviceId)) problems.push(`${dat}.deviceId: ${d.deviceId} is used twice`);
    ids.add(d.deviceId);
    if (d.address !== undefined && !/^[^:\s]+(:\d{1,5})?$/.test(d.address)) problems.push(`${dat}.address: expected "ip" or "ip:port"`);
    const keys = new Set<string>();
    d.objects.forEach((o, oi) => {
      if (keys.has(o.key)) problems.push(`${dat}.objects[${oi}].key: "${o.key}" is defined twice`);
      keys.add(o.key);
      if (o.cov && o.type === 'device') problems.push(`${dat}.objects[${oi}].cov: a device object has no COV reporting`);
    });
    const methods = new Set<string>();
    d.commands.forEach((m, mi) => {
      if (methods.has(m.method)) problems.push(`${dat}.commands[${mi}].method: "${m.method}" is defined twice`);
      methods.add(m.method);
      // Priority 6 is reserved for minimum on/off time (clause 19.2.3); a write there would fight the device's own timer.
      if (m.priority === 6) problems.push(`${dat}.commands[${mi}].priority: 6 is reserved for minimum on/off (ASHRAE 135 19.2.3)`);
      if (m.priority !== undefined && !(m.property === 'present-value' && isCommandable(m.object))) problems.push(`${dat}.commands[${mi}].priority: only the present-value of an output or value object is commandable`);
    });
  });
  return problems;
}
