/** TypeBox schemas shared by several routes, and the functions that turn domain objects into them. */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Device, DeviceCredential, DeviceProfile, DeviceStatus } from '../domain/device.js';

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'stable error code, e.g. DEVICE_NOT_FOUND' }),
    message: Type.String(),
    path: Type.Optional(Type.String({ description: 'the failing request field, for validation errors' })),
  },
  { $id: 'Error', title: 'Error' },
);

/** A reference to a schema registered with app.addSchema (shown once in OpenAPI components). */
export function ref<T extends TSchema>(schema: T) {
  if (!schema.$id) throw new Error('ref() needs a schema with $id');
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id));
}

/** Error answers every route may give. */
export const errorResponses = {
  '4xx': ref(ErrorBody),
  '5xx': ref(ErrorBody),
} as const;

export function nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/**
 * How many items of a list to skip. Bounded because an integer past 2^63 reaches SQLite as a
 * float, which it refuses in OFFSET ("datatype mismatch", a 500 found by the fuzzer); no list
 * is longer than the largest exact integer anyway.
 */
export const PageOffset = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 });

/** `a,b,c` → ['a','b','c'] (empty items dropped); undefined stays undefined. */
export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export const TransportSchema = Type.Union([Type.Literal('mqtt'), Type.Literal('coap'), Type.Literal('http'), Type.Literal('gateway')]);
/** Why an offline device is offline, when known (domain OfflineReason); null while online. */
const OfflineReasonSchema = nullable(
  Type.Union([Type.Literal('disconnected'), Type.Literal('gateway_offline'), Type.Literal('device_disconnected')], {
    description: 'disconnected: its session ended; gateway_offline: its gateway has no session; device_disconnected: its gateway reported the field device unreachable',
  }),
);

export const DeviceView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    label: nullable(Type.String()),
    profileId: Type.String(),
    gateway: Type.Boolean(),
    gatewayId: nullable(Type.String()),
    createdAt: Type.Integer({ description: 'ms since epoch' }),
    online: Type.Boolean(),
    lastActivity: nullable(Type.Integer()),
    transport: nullable(TransportSchema),
    offlineReason: OfflineReasonSchema,
  },
  { $id: 'Device', title: 'Device' },
);
export type DeviceView = Static<typeof DeviceView>;

export function deviceView(device: Device, status: DeviceStatus | undefined): DeviceView {
  return {
    id: device.id,
    name: device.name,
    label: device.label ?? null,
    profileId: device.profileId,
    gateway: device.isGateway,
    gatewayId: device.gatewayId ?? null,
    createdAt: device.createdAt,
    online: status?.online ?? false,
    lastActivity: status?.lastActivity ?? null,
    transport: status?.transport ?? null,
    offlineReason: status?.offlineReason ?? null,
  };
}

export const CredentialView = Type.Union(
  [
    Type.Object({
      type: Type.Literal('ACCESS_TOKEN'),
      hint: Type.String({ description: 'the first characters of the token; the platform keeps only a keyed hash of it' }),
      token: Type.Optional(Type.String({ description: 'the token in full: only in the answer that set it, shown this once' })),
    }),
    Type.Object({
      type: Type.Literal('MQTT_BASIC'),
      clientId: nullable(Type.String()),
      username: nullable(Type.String()),
      hasPassword: Type.Boolean(),
    }),
    Type.Object({ type: Type.Literal('X509_CERTIFICATE'), fingerprint: Type.String() }),
  ],
  { $id: 'Credential', title: 'Credential' },
);
export type CredentialView = Static<typeof CredentialView>;

/** Never exposes a password or token hash; `newToken` is the token just set, shown this once. */
export function credentialView(c: DeviceCredential, newToken?: string): CredentialView {
  switch (c.type) {
    case 'ACCESS_TOKEN':
      return { type: c.type, hint: c.hint, ...(newToken !== undefined ? { token: newToken } : {}) };
    case 'MQTT_BASIC':
      return { type: c.type, clientId: c.clientId ?? null, username: c.username ?? null, hasPassword: c.passwordHash !== undefined };
    case 'X509_CERTIFICATE':
      return { type: c.type, fingerprint: c.fingerprint };
  }
}

/** What a user may send to set credentials (POST /devices `credentials`, PUT …/credentials). */
export const CredentialInput = Type.Union([
  Type.Object({ type: Type.Literal('ACCESS_TOKEN'), token: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('MQTT_BASIC'),
      clientId: Type.Optional(Type.String({ maxLength: 255 })),
      username: Type.Optional(Type.String({ maxLength: 255 })),
      password: Type.Optional(Type.String({ maxLength: 255 })),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal('X509_CERTIFICATE'), fingerprint: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
]);
export type CredentialInput = Static<typeof CredentialInput>;

/** A command control (dashboard widget or profile control); see domain/dashboard.ts. */
export const ControlSpecSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('button'), Type.Literal('toggle'), Type.Literal('slider')]),
    method: Type.String({ minLength: 1, maxLength: 255, description: 'RPC method sent to the device' }),
    params: Type.Optional(Type.Unknown({ description: 'sent by a button; a toggle sends {on}, a slider {value}' })),
    stateKey: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'telemetry or attribute key showing the current state' })),
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    step: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);

/** A control a profile offers on every device of it. */
export const ProfileControlSchema = Type.Object(
  { ...ControlSpecSchema.properties, label: Type.String({ minLength: 1, maxLength: 255 }) },
  { additionalProperties: false },
);

export const ProfileView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    codec: Type.String(),
    telemetryKeys: Type.Array(
      Type.Object({ key: Type.String(), type: Type.String(), unit: Type.Optional(Type.String()), label: Type.Optional(Type.String()), decimals: Type.Optional(Type.Integer()) }),
    ),
    provisionKey: nullable(Type.String()),
    provisionSecret: Type.Optional(nullable(Type.String({ description: 'shown to admins only' }))),
    controls: Type.Array(ProfileControlSchema, { description: 'command controls shown on every device of the profile' }),
    decoder: nullable(Type.String({ description: 'payload decoder source (decodeUplink, optional encodeDownlink); docs/DEVICE-API.md' })),
    retentionDays: nullable(Type.Integer({ description: 'telemetry older than this many days is deleted in the background; null: kept for ever' })),
    createdAt: Type.Integer(),
  },
  { $id: 'Profile', title: 'Profile' },
);
export type ProfileView = Static<typeof ProfileView>;

export function profileView(p: DeviceProfile, showSecret: boolean): ProfileView {
  return {
    id: p.id,
    name: p.name,
    codec: p.codec,
    telemetryKeys: p.telemetryKeys.map((k) => ({
      key: k.key,
      type: k.type,
      ...(k.unit !== undefined ? { unit: k.unit } : {}),
      ...(k.label !== undefined ? { label: k.label } : {}),
      ...(k.decimals !== undefined ? { decimals: k.decimals } : {}),
    })),
    provisionKey: p.provisionKey ?? null,
    ...(showSecret ? { provisionSecret: p.provisionSecret ?? null } : {}),
    controls: (p.controls ?? []).map((c) => ({ ...c })),
    decoder: p.decoder ?? null,
    retentionDays: p.retentionDays ?? null,
    createdAt: p.createdAt,
  };
}

export const StatusView = Type.Object(
  {
    deviceId: Type.String(),
    online: Type.Boolean(),
    lastActivity: nullable(Type.Integer()),
    lastConnect: nullable(Type.Integer()),
    lastDisconnect: nullable(Type.Integer()),
    transport: nullable(TransportSchema),
    offlineReason: OfflineReasonSchema,
  },
  { $id: 'DeviceStatus', title: 'DeviceStatus' },
);

export function statusView(deviceId: string, s: DeviceStatus | undefined): Static<typeof StatusView> {
  return {
    deviceId,
    online: s?.online ?? false,
    lastActivity: s?.lastActivity ?? null,
    lastConnect: s?.lastConnect ?? null,
    lastDisconnect: s?.lastDisconnect ?? null,
    transport: s?.transport ?? null,
    offlineReason: s?.offlineReason ?? null,
  };
}

/** Schemas registered once with app.addSchema so OpenAPI shows them as components. */
export const SHARED_SCHEMAS = [ErrorBody, DeviceView, CredentialView, ProfileView, StatusView] as const;
