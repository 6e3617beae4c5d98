/**
 * The wire schema of bus events: every BusEvents member has a version and a validator, and
 * crosses a process boundary (the outbox, a NATS subject) as one JSON envelope
 * `{"e":<event>,"v":<version>,"d":<message>}`. Messages are JSON-safe by construction (strings,
 * finite numbers, booleans, plain objects and arrays; optional fields absent, never undefined),
 * so encoding is JSON.stringify; decoding parses, checks the version and validates the shape,
 * so a node never acts on a message of a version it does not know (a rolling upgrade must add
 * a new version, not change an old one).
 *
 * Hand-written rather than TypeBox: the validators run on every message a serializing bus
 * receives, and these are a handful of typeof checks.
 */
import type { BusEvents } from './bus-event-map.js';

export type BusEventName = keyof BusEvents;

/** The version each event is published with. Bump it (and keep decoding the old one) on any change of shape. */
export const BUS_EVENT_VERSIONS: { readonly [E in BusEventName]: number } = {
  telemetry: 1,
  attributes: 1,
  // v2: `payload`, the encoded downlink (a v1 node would send JSON to a device that expects bytes).
  rpcRequest: 2,
  rpcResponse: 1,
  status: 1,
  rpcDelivered: 1,
  alarm: 1,
  command: 1,
  ruleError: 1,
  mqttSession: 1,
  mqttMessage: 1,
};

export const BUS_EVENT_NAMES = Object.keys(BUS_EVENT_VERSIONS) as BusEventName[];

/** The wire form of one event. */
export interface BusEnvelope {
  readonly e: BusEventName;
  readonly v: number;
  readonly d: unknown;
}

export class BusSchemaError extends Error {
  override readonly name = 'BusSchemaError';
}

type Rec = Record<string, unknown>;

const isRec = (x: unknown): x is Rec => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): boolean => typeof x === 'string';
const num = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
const bool = (x: unknown): boolean => typeof x === 'boolean';
const opt = (check: (x: unknown) => boolean) => (x: unknown): boolean => x === undefined || check(x);
const oneOf = (...values: readonly string[]) => (x: unknown): boolean => typeof x === 'string' && values.includes(x);

/** A JSON value as JSON.parse returns it (bounded depth: the device API bounds it tighter). */
function json(x: unknown, depth = 0): boolean {
  if (x === null || str(x) || bool(x) || num(x)) return true;
  if (depth > 64) return false;
  if (Array.isArray(x)) return x.every((v) => json(v, depth + 1));
  return isRec(x) && Object.values(x).every((v) => json(v, depth + 1));
}

function shape(fields: Record<string, (x: unknown) => boolean>): (x: unknown) => boolean {
  const entries = Object.entries(fields);
  return (x) => isRec(x) && entries.every(([k, check]) => check(x[k]));
}

const point = shape({ key: str, ts: num, value: (v) => v !== null && json(v) });
const points = (x: unknown): boolean => Array.isArray(x) && x.every(point);
const stringList = (x: unknown): boolean => Array.isArray(x) && x.every(str);
const jsonRecord = (x: unknown): boolean => isRec(x) && json(x);

const alarm = shape({
  id: str,
  tenantId: str,
  deviceId: str,
  type: str,
  severity: oneOf('critical', 'major', 'minor', 'warning', 'indeterminate'),
  status: oneOf('active', 'acknowledged', 'cleared'),
  count: num,
  details: json,
  createdAt: num,
  updatedAt: num,
  acknowledgedAt: opt(num),
  clearedAt: opt(num),
  version: num,
});

const command = shape({
  id: str,
  tenantId: str,
  deviceId: str,
  method: str,
  params: json,
  oneway: bool,
  persistent: bool,
  status: oneOf('QUEUED', 'SENT', 'DELIVERED', 'SUCCESSFUL', 'FAILED', 'TIMEOUT', 'EXPIRED'),
  response: opt(json),
  error: opt(str),
  retries: num,
  createdAt: num,
  updatedAt: num,
  expiresAt: num,
});

const VALIDATORS: { readonly [E in BusEventName]: (x: unknown) => boolean } = {
  telemetry: shape({ tenantId: str, deviceId: str, points }),
  attributes: shape({ tenantId: str, deviceId: str, scope: oneOf('client', 'shared', 'server'), values: jsonRecord, deleted: opt(stringList) }),
  rpcRequest: shape({ deviceId: str, requestId: num, method: str, params: json, oneway: bool, expiresAt: num, nodeId: opt(str), toNode: opt(str), payload: opt(str) }),
  rpcResponse: shape({ deviceId: str, requestId: num, response: json, nodeId: opt(str) }),
  status: shape({
    tenantId: str,
    deviceId: str,
    online: bool,
    lastActivity: opt(num),
    lastConnect: opt(num),
    lastDisconnect: opt(num),
    transport: opt(str),
    nodeId: opt(str),
    epoch: opt(num),
    offlineReason: opt(str),
  }),
  rpcDelivered: shape({ deviceId: str, requestId: num, nodeId: opt(str) }),
  alarm: shape({ tenantId: str, deviceId: str, action: oneOf('raised', 'repeated', 'acknowledged', 'cleared'), alarm }),
  command: shape({ tenantId: str, deviceId: str, command }),
  ruleError: shape({
    tenantId: str,
    ruleId: str,
    ruleName: str,
    deviceId: opt(str),
    stage: oneOf('condition', 'action'),
    action: opt(str),
    message: str,
    ts: num,
  }),
  mqttSession: shape({ space: str, key: str, token: str, nodeId: str }),
  mqttMessage: shape({
    space: str,
    owner: str,
    nodeId: str,
    topic: str,
    payload: str,
    qos: (x) => x === 0 || x === 1 || x === 2,
    retain: bool,
    properties: opt(str),
    expiresAt: num,
    origin: opt(str),
  }),
};

/** Whether `message` has the shape of `event`'s current version. */
export function isBusEvent<E extends BusEventName>(event: E, message: unknown): message is BusEvents[E] {
  const validate = VALIDATORS[event] as ((x: unknown) => boolean) | undefined;
  return validate !== undefined && validate(message);
}

/** The envelope of one event as JSON text. Throws BusSchemaError if the message does not fit. */
export function encodeBusEvent<E extends BusEventName>(event: E, message: BusEvents[E]): string {
  if (!isBusEvent(event, message)) throw new BusSchemaError(`bus event ${event} does not fit its schema (v${BUS_EVENT_VERSIONS[event]})`);
  return JSON.stringify({ e: event, v: BUS_EVENT_VERSIONS[event], d: message });
}

/**
 * Checks an envelope (parsed JSON) and returns its event and message; throws BusSchemaError for
 * an unknown event, a version this build does not read, or a message that does not fit.
 */
export function decodeBusEnvelope(envelope: unknown): { event: BusEventName; message: BusEvents[BusEventName] } {
  if (!isRec(envelope) || typeof envelope.e !== 'string' || !Object.hasOwn(BUS_EVENT_VERSIONS, envelope.e)) {
    throw new BusSchemaError('not a bus event envelope');
  }
  const event = envelope.e as BusEventName;
  if (envelope.v !== BUS_EVENT_VERSIONS[event]) throw new BusSchemaError(`bus event ${event} v${String(envelope.v)} is not readable by this build (v${BUS_EVENT_VERSIONS[event]})`);
  if (!isBusEvent(event, envelope.d)) throw new BusSchemaError(`bus event ${event} does not fit its schema`);
  return { event, message: envelope.d };
}

/** Parses and checks one event's JSON text; `event`, when given, must be the envelope's. */
export function decodeBusEvent<E extends BusEventName>(text: string, event?: E): BusEvents[E] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BusSchemaError('bus event is not JSON', { cause: err });
  }
  const decoded = decodeBusEnvelope(parsed);
  if (event !== undefined && decoded.event !== event) throw new BusSchemaError(`expected bus event ${event}, got ${decoded.event}`);
  return decoded.message as BusEvents[E];
}
