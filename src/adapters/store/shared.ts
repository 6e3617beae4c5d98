/**
 * What the memory and SQLite stores share, so both give the same answers: the canonical shape of
 * every stored object (optional fields absent, never `undefined`), argument checks, the credential
 * uniqueness key, value classification and the name ordering (SQLite BINARY = UTF-8 byte order).
 */
import type { AttributeScope, Device, DeviceCredential, DeviceProfile, DeviceStatus } from '../../domain/device.js';
import { ATTRIBUTE_SCOPES } from '../../domain/device.js';
import { PlatformError } from '../../domain/errors.js';
import { normalizeRole } from '../../domain/permissions.js';
import type { Aggregation, TelemetryValue } from '../../domain/telemetry.js';
import type { AggregateQuery, ApiKey, RawQuery, User } from '../../ports.js';

/** Type tag of a stored telemetry value. */
export const ValueTag = { Number: 0, Boolean: 1, String: 2, Json: 3 } as const;
export type ValueTag = (typeof ValueTag)[keyof typeof ValueTag];

export const AGGREGATION_SET: ReadonlySet<Aggregation> = new Set(['avg', 'min', 'max', 'sum', 'count']);

/** Throws INVALID_TELEMETRY for anything a store cannot keep exactly (NaN, null, undefined, …). */
export function tagOf(value: TelemetryValue): ValueTag {
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new PlatformError('NON_FINITE_NUMBER', String(value));
      return ValueTag.Number;
    case 'boolean':
      return ValueTag.Boolean;
    case 'string':
      return ValueTag.String;
    case 'object':
      if (value !== null) return ValueTag.Json;
      break;
    default:
      break;
  }
  throw new PlatformError('INVALID_TELEMETRY', `unsupported value type ${value === null ? 'null' : typeof value}`);
}

export function checkTs(ts: number): void {
  if (!Number.isSafeInteger(ts)) throw new PlatformError('INVALID_TELEMETRY', `timestamp ${String(ts)} is not an integer`);
}

export function checkRawQuery(q: RawQuery): void {
  if (!Number.isSafeInteger(q.from) || !Number.isSafeInteger(q.to)) throw new PlatformError('BAD_REQUEST', 'from/to must be integers');
}

export function checkAggregateQuery(q: AggregateQuery): void {
  if (!Number.isSafeInteger(q.from) || !Number.isSafeInteger(q.to)) throw new PlatformError('BAD_REQUEST', 'from/to must be integers');
  if (!Number.isSafeInteger(q.interval) || q.interval <= 0) throw new PlatformError('BAD_REQUEST', 'interval must be a positive integer');
  if (!AGGREGATION_SET.has(q.agg)) throw new PlatformError('BAD_REQUEST', `unknown aggregation ${String(q.agg)}`);
}

/** A negative or fractional limit counts as 0 / is truncated (SQLite would read -1 as "no limit"). */
export function clampLimit(limit: number): number {
  return Number.isFinite(limit) ? Math.max(0, Math.trunc(limit)) : 0;
}

export function checkScope(scope: AttributeScope): void {
  if (!ATTRIBUTE_SCOPES.includes(scope)) throw new PlatformError('BAD_REQUEST', `unknown attribute scope ${String(scope)}`);
}

/**
 * The value a credential must hold alone across all devices: token, fingerprint, or the
 * (client id, user name) pair of a basic credential (ThingsBoard's credentialsId).
 */
export function credentialKey(c: DeviceCredential): string {
  switch (c.type) {
    case 'ACCESS_TOKEN':
      if (!c.tokenHash) throw new PlatformError('BAD_REQUEST', 'empty access token hash');
      return `token:${c.tokenHash}`;
    case 'X509_CERTIFICATE':
      if (!c.fingerprint) throw new PlatformError('BAD_REQUEST', 'empty certificate fingerprint');
      return `x509:${c.fingerprint}`;
    case 'MQTT_BASIC':
      if (!c.clientId && !c.username) throw new PlatformError('BAD_REQUEST', 'MQTT basic credentials need a client id or a user name');
      return `basic:${JSON.stringify([c.clientId ?? null, c.username ?? null])}`;
    default:
      throw new PlatformError('BAD_REQUEST', `unknown credential type ${String((c as { type: unknown }).type)}`);
  }
}

// ---------------------------------------------------------------- canonical shapes

type Nullable<T> = T | null | undefined;

/** Timestamps are integer milliseconds; the SQLite columns are STRICT INTEGER. */
export function checkInt(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) throw new PlatformError('BAD_REQUEST', `${what} must be an integer, got ${String(value)}`);
  return value;
}

function optInt<K extends string>(key: K, value: Nullable<number>): Partial<Record<K, number>> {
  return value === null || value === undefined ? {} : ({ [key]: checkInt(value, key) } as Record<K, number>);
}

function opt<K extends string, V>(key: K, value: Nullable<V>): Partial<Record<K, V>> {
  return value === null || value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

export function makeDevice(d: {
  id: string;
  tenantId: string;
  name: string;
  label?: Nullable<string>;
  profileId: string;
  isGateway: boolean | number;
  gatewayId?: Nullable<string>;
  customerId?: Nullable<string>;
  createdAt: number;
}): Device {
  return {
    id: d.id,
    tenantId: d.tenantId,
    name: d.name,
    ...opt('label', d.label),
    profileId: d.profileId,
    isGateway: Boolean(d.isGateway),
    ...opt('gatewayId', d.gatewayId),
    ...opt('customerId', d.customerId),
    createdAt: checkInt(d.createdAt, 'createdAt'),
  };
}

export function makeProfile(p: {
  id: string;
  tenantId: string;
  name: string;
  codec: string;
  telemetryKeysJson: string;
  provisionKey?: Nullable<string>;
  provisionSecret?: Nullable<string>;
  createdAt: number;
}): DeviceProfile {
  return {
    id: p.id,
    tenantId: p.tenantId,
    name: p.name,
    codec: p.codec,
    telemetryKeys: JSON.parse(p.telemetryKeysJson) as DeviceProfile['telemetryKeys'],
    ...opt('provisionKey', p.provisionKey),
    ...opt('provisionSecret', p.provisionSecret),
    createdAt: checkInt(p.createdAt, 'createdAt'),
  };
}

export function profileKeysJson(p: DeviceProfile): string {
  return JSON.stringify(p.telemetryKeys);
}

export function makeCredential(c: {
  type: string;
  deviceId: string;
  tokenHash?: Nullable<string>;
  tokenHint?: Nullable<string>;
  clientId?: Nullable<string>;
  username?: Nullable<string>;
  passwordHash?: Nullable<string>;
  fingerprint?: Nullable<string>;
}): DeviceCredential {
  switch (c.type) {
    case 'ACCESS_TOKEN':
      return { type: 'ACCESS_TOKEN', deviceId: c.deviceId, tokenHash: c.tokenHash ?? '', hint: c.tokenHint ?? '' };
    case 'X509_CERTIFICATE':
      return { type: 'X509_CERTIFICATE', deviceId: c.deviceId, fingerprint: c.fingerprint ?? '' };
    default:
      return {
        type: 'MQTT_BASIC',
        deviceId: c.deviceId,
        ...opt('clientId', c.clientId),
        ...opt('username', c.username),
        ...opt('passwordHash', c.passwordHash),
      };
  }
}

/** Flattens a credential into the columns both stores keep. */
export function credentialFields(c: DeviceCredential): {
  tokenHash: string | null;
  tokenHint: string | null;
  clientId: string | null;
  username: string | null;
  passwordHash: string | null;
  fingerprint: string | null;
} {
  return {
    tokenHash: c.type === 'ACCESS_TOKEN' ? c.tokenHash : null,
    tokenHint: c.type === 'ACCESS_TOKEN' ? c.hint : null,
    clientId: c.type === 'MQTT_BASIC' ? (c.clientId ?? null) : null,
    username: c.type === 'MQTT_BASIC' ? (c.username ?? null) : null,
    passwordHash: c.type === 'MQTT_BASIC' ? (c.passwordHash ?? null) : null,
    fingerprint: c.type === 'X509_CERTIFICATE' ? c.fingerprint : null,
  };
}

export function makeStatus(s: {
  deviceId: string;
  online: boolean | number;
  lastActivity?: Nullable<number>;
  lastConnect?: Nullable<number>;
  lastDisconnect?: Nullable<number>;
  transport?: Nullable<string>;
  nodeId?: Nullable<string>;
  epoch?: Nullable<number>;
}): DeviceStatus {
  return {
    deviceId: s.deviceId,
    online: Boolean(s.online),
    ...optInt('lastActivity', s.lastActivity),
    ...optInt('lastConnect', s.lastConnect),
    ...optInt('lastDisconnect', s.lastDisconnect),
    ...opt('transport', s.transport as DeviceStatus['transport']),
    ...opt('nodeId', s.nodeId),
    // 0 is "no session epoch known" (statuses from before node identity): kept absent.
    ...(s.epoch ? optInt('epoch', s.epoch) : {}),
  };
}

/**
 * What StatusStore.saveStatuses keeps of a stored status and an incoming one: the session fields
 * of the one with the greater epoch (the incoming one on a tie), the newest lastActivity of both.
 * The SQLite store does the same in its upsert.
 */
export function mergeStatus(stored: DeviceStatus | undefined, incoming: DeviceStatus): DeviceStatus {
  if (!stored) return incoming;
  const session = (incoming.epoch ?? 0) >= (stored.epoch ?? 0) ? incoming : stored;
  const lastActivity = Math.max(stored.lastActivity ?? -Infinity, incoming.lastActivity ?? -Infinity);
  return makeStatus({ ...session, lastActivity: Number.isFinite(lastActivity) ? lastActivity : undefined });
}

export function makeUser(u: User): User {
  return {
    id: u.id,
    tenantId: u.tenantId,
    email: u.email,
    passwordHash: u.passwordHash,
    // Rows written by earlier releases may still say 'admin'/'user' (memory store, a partial restore).
    role: normalizeRole(u.role) ?? u.role,
    ...(u.customerId !== undefined ? { customerId: u.customerId } : {}),
    createdAt: checkInt(u.createdAt, 'createdAt'),
    disabled: Boolean(u.disabled),
    tokenVersion: checkInt(u.tokenVersion ?? 0, 'tokenVersion'),
    ...opt('customerId', u.customerId),
  };
}

export function makeApiKey(k: ApiKey): ApiKey {
  return {
    id: k.id,
    userId: k.userId,
    name: k.name,
    keyHash: k.keyHash,
    createdAt: checkInt(k.createdAt, 'createdAt'),
    ...(k.expiresAt !== undefined && k.expiresAt !== null ? { expiresAt: checkInt(k.expiresAt, 'expiresAt') } : {}),
    ...(k.role !== undefined && k.role !== null ? { role: k.role } : {}),
  };
}

/** Emails are unique and looked up without regard to case. */
export function emailKey(email: string): string {
  return email.toLowerCase();
}

/** Case folding for device search (done in JS so both stores fold Unicode the same way). */
export function fold(s: string): string {
  return s.toLowerCase();
}

/** Orders strings as SQLite's BINARY collation does (UTF-8 bytes = code points). */
export function compareBinary(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800–0xDFFF) encode code points above 0xFFFF: they sort after 0xE000–0xFFFF.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

export const tenantNotFound = (id: string): PlatformError => new PlatformError('NOT_FOUND', `tenant ${id}`);
export const userNotFound = (id: string): PlatformError => new PlatformError('NOT_FOUND', `user ${id}`);
export const storeClosed = (): PlatformError => new PlatformError('UNAVAILABLE', 'store is closed');

/** The JSON text of an attribute value; `undefined` (or a function) is not a value. */
export function attributeJson(key: string, value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new PlatformError('BAD_REQUEST', `attribute "${key}" has no JSON value`);
  return json;
}

/**
 * Makes every method of a store reject with UNAVAILABLE once the store is closed (and turns a
 * synchronous throw into a rejection). `close` itself stays callable, so closing twice is fine.
 */
export function guardClosed<T extends object>(impl: T, isClosed: () => boolean): T {
  const out: Record<string, unknown> = {};
  for (const [name, member] of Object.entries(impl)) {
    if (typeof member !== 'function' || name === 'close') {
      out[name] = member;
      continue;
    }
    const fn = member as (...args: unknown[]) => unknown;
    out[name] = (...args: unknown[]): unknown => {
      if (isClosed()) return Promise.reject(storeClosed());
      try {
        return fn.apply(impl, args);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    };
  }
  return out as T;
}

/** Kahan–Babuška–Neumaier summation, the algorithm SQLite's sum() and avg() use for REAL values. */
export class NeumaierSum {
  private sum = 0;
  private err = 0;

  add(x: number): void {
    const t = this.sum + x;
    if (Math.abs(this.sum) > Math.abs(x)) this.err += this.sum - t + x;
    else this.err += x - t + this.sum;
    this.sum = t;
  }

  value(): number {
    return this.sum + this.err;
  }
}

/** floor((ts - from) / interval) computed exactly for safe integers. */
export function bucketIndex(ts: number, from: number, interval: number): number {
  const d = ts - from;
  let q = Math.floor(d / interval);
  if (q * interval > d) q--;
  else if ((q + 1) * interval <= d) q++;
  return q;
}

/** `record[key] = value` that also works for keys such as "__proto__" (keys are device data). */
export function putOwn<V>(record: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The CONFLICT detail of a zone name taken for its owner (every store says it alike). */
export const zoneTaken = (z: { readonly name: string }): string => `a zone named "${z.name}" already exists for this owner`;
