/**
 * The JSON shapes of ThingsBoard's device API that are the same on every request/response
 * transport (HTTP and CoAP): attribute-request keys, client-side RPC and provision bodies, the
 * shared-attribute notification and the server-side RPC request as the device receives them.
 *
 * Telemetry and attribute payloads are not parsed here: they go to DeviceApi as raw bytes and
 * the device's codec decodes them.
 */
import { checkJsonValue, DEFAULT_PAYLOAD_LIMITS } from '../../domain/payload-limits.js';
import { PlatformError } from '../../domain/errors.js';
import type { OtaType } from '../../domain/ota.js';
import type { JsonValue } from '../../domain/telemetry.js';
import type {
  OtaChunkRequest,
  AttributeRequest,
  AttributeResponse,
  ClientRpcRequest,
  ProvisionRequest,
  RpcRequestToDevice,
  SharedAttributeUpdate,
} from '../../ports/device-api.js';

/** `a,b , c` → ['a','b','c']; a missing parameter is undefined; an empty one is []. */
export function parseKeyList(raw: string | null | undefined): string[] | undefined {
  if (raw === null || raw === undefined) return undefined;
  return raw
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
}

/**
 * `?clientKeys=a,b&sharedKeys=c`. Neither parameter: every client and shared attribute.
 * Only one of them: that scope, filtered, and nothing of the other scope.
 */
export function attributeRequestFrom(query: URLSearchParams): AttributeRequest {
  const clientKeys = parseKeyList(query.get('clientKeys'));
  const sharedKeys = parseKeyList(query.get('sharedKeys'));
  if (clientKeys === undefined && sharedKeys === undefined) return {};
  return { clientKeys: clientKeys ?? [], sharedKeys: sharedKeys ?? [] };
}

/** The answer to an attribute request; like ThingsBoard, a scope with no values is left out. */
export function attributesBody(response: AttributeResponse): Record<string, JsonValue> {
  const body: Record<string, JsonValue> = {};
  if (response.client && Object.keys(response.client).length > 0) body.client = response.client;
  if (response.shared && Object.keys(response.shared).length > 0) body.shared = response.shared;
  return body;
}

function isObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a JSON object body; anything else is MALFORMED_PAYLOAD. */
export function parseJsonObject(payload: Buffer, what: string): Record<string, JsonValue> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    throw new PlatformError('MALFORMED_PAYLOAD', `${what}: ${(err as Error).message}`);
  }
  if (!isObject(parsed)) throw new PlatformError('MALFORMED_PAYLOAD', `${what}: expected a JSON object`);
  // Client RPC params and provisioning requests travel on (rules, replies): bounded like telemetry.
  checkJsonValue(parsed, DEFAULT_PAYLOAD_LIMITS);
  return parsed;
}

/** `{"method":"getTime","params":{}}` */
export function parseClientRpc(payload: Buffer): ClientRpcRequest {
  const body = parseJsonObject(payload, 'client-side RPC');
  const method = body.method;
  if (typeof method !== 'string' || method.length === 0) {
    throw new PlatformError('BAD_REQUEST', 'client-side RPC needs a string "method"');
  }
  return body.params === undefined ? { method } : { method, params: body.params };
}

const PROVISION_STRINGS = ['deviceName', 'token', 'clientId', 'username', 'password', 'hash'] as const;
const CREDENTIAL_TYPES = new Set(['ACCESS_TOKEN', 'MQTT_BASIC', 'X509_CERTIFICATE']);

/** ThingsBoard's provision request: key and secret required, proposed credentials optional. */
export function parseProvisionRequest(payload: Buffer): ProvisionRequest {
  const body = parseJsonObject(payload, 'provision request');
  const { provisionDeviceKey, provisionDeviceSecret, credentialsType } = body;
  if (typeof provisionDeviceKey !== 'string' || typeof provisionDeviceSecret !== 'string') {
    throw new PlatformError('BAD_REQUEST', 'provision request needs "provisionDeviceKey" and "provisionDeviceSecret"');
  }
  const out: Record<string, string> = { provisionDeviceKey, provisionDeviceSecret };
  if (credentialsType !== undefined) {
    if (typeof credentialsType !== 'string' || !CREDENTIAL_TYPES.has(credentialsType)) {
      throw new PlatformError('BAD_REQUEST', `unknown credentialsType ${JSON.stringify(credentialsType)}`);
    }
    out.credentialsType = credentialsType;
  }
  for (const key of PROVISION_STRINGS) {
    const value = body[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new PlatformError('BAD_REQUEST', `provision field "${key}" must be a string`);
    out[key] = value;
  }
  return out as unknown as ProvisionRequest;
}

/** A shared-attribute update as ThingsBoard devices expect it: `{"key":value,…,"deleted":[…]}`. */
export function sharedUpdateBody(update: SharedAttributeUpdate): Record<string, JsonValue> {
  const body: Record<string, JsonValue> = { ...update.values };
  if (update.deleted && update.deleted.length > 0) body.deleted = [...update.deleted];
  return body;
}

/** `{"id":1,"method":"setGpio","params":{…}}` */
export function rpcRequestBody(request: RpcRequestToDevice): Record<string, JsonValue> {
  return { id: request.id, method: request.method, params: request.params };
}

/** A server-side RPC id in a reply path: a non-negative integer. */
export function parseRpcId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw new PlatformError('BAD_REQUEST', `RPC id "${raw.slice(0, 20)}" is not an integer`);
  return Number(raw);
}

/** What logs may show of a token: enough to tell devices apart, not enough to use it. */
export function tokenPrefix(token: string): string {
  return token.length <= 4 ? `${token.slice(0, 1)}…` : `${token.slice(0, 4)}…`;
}

const CHUNK_NUMBER = /^\d{1,10}$/;

function chunkNumber(raw: string | null, what: string): number {
  if (raw === null || raw === '') return 0;
  if (!CHUNK_NUMBER.test(raw)) throw new PlatformError('BAD_REQUEST', `${what} must be a non-negative integer`);
  return Number(raw);
}

/**
 * `?title=…&version=…&size=…&chunk=…` of ThingsBoard's HTTP and CoAP firmware download:
 * title and version are required (they must name the assigned package); size 0 or absent =
 * the whole package, chunk absent = 0.
 */
export function otaChunkRequestFrom(type: OtaType, query: URLSearchParams): OtaChunkRequest {
  const title = query.get('title');
  const version = query.get('version');
  if (!title || !version) throw new PlatformError('BAD_REQUEST', '"title" and "version" are required');
  return { type, title, version, chunkSize: chunkNumber(query.get('size'), 'size'), chunk: chunkNumber(query.get('chunk'), 'chunk') };
}
