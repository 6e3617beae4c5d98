/**
 * The ThingsBoard-compatible MQTT device API, as one of the broker's interceptors (interceptor.ts):
 * PUBLISHes and SUBSCRIBEs on the API topics are intercepted per connection and turned into
 * DeviceApi / GatewayApi calls; they are never routed to other clients. Acknowledgements resolve
 * only when the platform call resolves (after its commit), with the error's MQTT reason code on
 * failure (MQTT 5; 3.1.1 acks are positive, see connection.ts). Request bodies that HTTP and CoAP
 * share (provisioning) are parsed and validated by the same code (../device-json.ts).
 *
 * Topics (device):  v1/devices/me/telemetry, v1/devices/me/attributes[/request/$id, /response/+],
 *                   v1/devices/me/rpc/request/$id (both directions), v1/devices/me/rpc/response/$id
 * Topics (gateway): v1/gateway/{connect,disconnect,telemetry,attributes,attributes/request,
 *                   attributes/response,rpc,alarm}
 * Provisioning:     user name `provision`, /provision/request → /provision/response
 * OTA (v2):         v2/fw/request/$id/chunk/$n → v2/fw/response/$id/chunk/$n, errors on v2/fw/error;
 *                   `sw` for software (ota-topics.ts); a gateway for its children:
 *                   v1/gateway/fw/request {device,requestId,chunk,size} → v1/gateway/fw/response/$id/chunk/$n
 */
import type { DeviceIdentity } from '../../../domain/device.js';
import { checkJsonValue, DEFAULT_PAYLOAD_LIMITS } from '../../../domain/payload-limits.js';
import { PlatformError, asPlatformError } from '../../../domain/errors.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { AttributeRequest, DeviceApi, DeviceEventHandlers, DeviceSession, GatewayApi, ProvisionRequest, RpcRequestToDevice, SharedAttributeUpdate, TransportMetrics } from '../../../ports/device-api.js';
import { parseProvisionRequest } from '../device-json.js';
import { gatewayOtaFeedOf, OTA_PREFIX, otaFeedOf, parseGatewayOtaRequest, parseOtaRequest } from './ota-topics.js';
import { PASS, type ClientInterceptor, type ClientLink, type InterceptedPublish, type Interceptor, type QoS } from './interceptor.js';

export interface DeviceApiInterceptorOptions {
  readonly deviceApi: DeviceApi;
  /** The ThingsBoard gateway API (v1/gateway/*), a peer service of the DeviceApi. */
  readonly gatewayApi: GatewayApi;
  readonly metrics: TransportMetrics;
}

const ME = 'v1/devices/me/';
const GW = 'v1/gateway/';
const ATTRIBUTES = `${ME}attributes`;
const ATTR_REQUEST = `${ME}attributes/request/`;
const ATTR_RESPONSE = `${ME}attributes/response/`;
const RPC_REQUEST = `${ME}rpc/request/`;
const RPC_RESPONSE = `${ME}rpc/response/`;
const PROVISION_REQUEST = '/provision/request';
const PROVISION_RESPONSE = '/provision/response';

/** The API's own topics: anything here is handled (or refused) by the bridge, never routed. */
function isApiTopic(topic: string): boolean {
  return topic.startsWith('v1/') || topic.startsWith(OTA_PREFIX) || topic.startsWith('/provision');
}

const NO_HANDLERS: DeviceEventHandlers = Object.freeze({});
const PERSISTENT = Object.freeze({ persistent: true });

/** Subscriptions the API serves, by filter. ThingsBoard delivers at QoS 0 or 1. */
type Feed =
  | 'attributes'
  | 'attrResponse'
  | 'rpc'
  | 'rpcResponse'
  | 'gwAttributes'
  | 'gwAttrResponse'
  | 'gwRpc'
  | 'provision'
  | 'fwResponse'
  | 'swResponse'
  | 'fwError'
  | 'swError'
  | 'gwFwResponse'
  | 'gwSwResponse'
  | 'gwFwError'
  | 'gwSwError';
const DEVICE_FEEDS: Record<string, Feed> = {
  [ATTRIBUTES]: 'attributes',
  [`${ATTR_RESPONSE}+`]: 'attrResponse',
  [`${ATTR_RESPONSE}#`]: 'attrResponse',
  [`${RPC_REQUEST}+`]: 'rpc',
  [`${RPC_REQUEST}#`]: 'rpc',
  [`${RPC_RESPONSE}+`]: 'rpcResponse',
  [`${RPC_RESPONSE}#`]: 'rpcResponse',
};
const GATEWAY_FEEDS: Record<string, Feed> = {
  [`${GW}attributes`]: 'gwAttributes',
  [`${GW}attributes/response`]: 'gwAttrResponse',
  [`${GW}rpc`]: 'gwRpc',
};

/** Device API requests (attribute requests, gateway connect, RPC calls), bounded like telemetry. */
function parseJson(payload: Buffer): unknown {
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8')) as unknown;
  } catch {
    throw new PlatformError('MALFORMED_PAYLOAD', 'not JSON');
  }
  checkJsonValue(body, DEFAULT_PAYLOAD_LIMITS);
  return body;
}

function jsonObject(payload: Buffer): Record<string, unknown> {
  const body = payload.length === 0 ? {} : parseJson(payload);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new PlatformError('MALFORMED_PAYLOAD', 'expected a JSON object');
  return body as Record<string, unknown>;
}

function keyList(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value.split(',').map((k) => k.trim()).filter((k) => k.length > 0);
  if (Array.isArray(value)) return value.map(String);
  throw new PlatformError('MALFORMED_PAYLOAD', 'keys must be a comma-separated string or an array');
}

/** `{"clientKeys":"a,b","sharedKeys":"c"}`; naming only one scope asks for that scope only. */
export function parseAttributeRequest(payload: Buffer): AttributeRequest {
  const body = jsonObject(payload);
  const clientKeys = keyList(body.clientKeys);
  const sharedKeys = keyList(body.sharedKeys);
  if (clientKeys === undefined && sharedKeys !== undefined) return { clientKeys: [], sharedKeys };
  if (sharedKeys === undefined && clientKeys !== undefined) return { clientKeys, sharedKeys: [] };
  return { clientKeys, sharedKeys };
}

function requestId(topic: string, prefix: string): number {
  const id = Number(topic.slice(prefix.length));
  if (!Number.isSafeInteger(id) || id < 0) throw new PlatformError('BAD_REQUEST', `request id in ${topic}`);
  return id;
}

function deviceName(body: Record<string, unknown>): string {
  if (typeof body.device !== 'string' || body.device.length === 0) throw new PlatformError('BAD_REQUEST', '"device" is required');
  return body.device;
}

function updateBody(update: SharedAttributeUpdate): Record<string, JsonValue>[] {
  const bodies: Record<string, JsonValue>[] = [];
  if (Object.keys(update.values).length > 0) bodies.push(update.values);
  if (update.deleted && update.deleted.length > 0) bodies.push({ deleted: [...update.deleted] });
  return bodies;
}

/**
 * Shared by device and provisioning bridges: one API call per PUBLISH; a refusal (thrown or
 * rejected PlatformError) is counted, logged and mapped to its reason code by the pipeline.
 */
abstract class BaseBridge implements ClientInterceptor {
  /** Created on the first API subscription: many devices only publish. */
  protected feeds: Map<Feed, QoS> | undefined;

  constructor(
    protected readonly opts: DeviceApiInterceptorOptions,
    protected readonly link: ClientLink,
  ) {}

  get name(): string {
    return 'deviceApi';
  }

  protected abstract feedFor(filter: string): Feed | undefined;
  protected abstract call(p: InterceptedPublish): Promise<void> | undefined;

  publish(p: InterceptedPublish): Promise<void> | undefined {
    if (!isApiTopic(p.topic)) return PASS;
    const work = this.call(p);
    if (!work) throw new PlatformError('TOPIC_NOT_ALLOWED', p.topic);
    return work;
  }

  subscribe(filter: string, qos: QoS): QoS | undefined {
    const feed = this.feedFor(filter);
    if (!feed) {
      if (isApiTopic(filter)) throw new PlatformError('TOPIC_NOT_ALLOWED', filter);
      return PASS;
    }
    const granted = (qos > 1 ? 1 : qos) as QoS;
    (this.feeds ??= new Map()).set(feed, granted);
    this.feedsChanged();
    return granted;
  }

  unsubscribe(filter: string): boolean {
    const feed = this.feedFor(filter);
    if (!feed) return false;
    this.feeds?.delete(feed);
    this.feedsChanged();
    return true;
  }

  /**
   * Replies to the client's own request go out at the subscribed QoS, or at QoS 0 when the client
   * forgot to subscribe first (lenient towards simple firmware; the answer is only for it anyway).
   */
  protected reply(feed: Feed, topic: string, body: unknown): void {
    this.link.send(topic, JSON.stringify(body), this.feeds?.get(feed) ?? 0);
  }

  /** Pushes (attribute updates, RPC requests) only to subscribers. */
  protected push(feed: Feed, topic: string, body: unknown): void {
    const qos = this.feeds?.get(feed);
    if (qos !== undefined) this.link.send(topic, JSON.stringify(body), qos);
  }

  protected feedsChanged(): void {}
  ping(): void {}
  close(): void {}
}

class DeviceBridge extends BaseBridge {
  private readonly session: DeviceSession;
  private readonly gateway: DeviceSession | undefined;

  constructor(
    opts: DeviceApiInterceptorOptions,
    link: ClientLink,
    private readonly identity: DeviceIdentity,
  ) {
    super(opts, link);
    // No handlers until the device subscribes (feedsChanged); one shared empty set until then.
    this.session = opts.deviceApi.openSession(identity, 'mqtt', NO_HANDLERS, PERSISTENT);
    // A gateway session's handlers cannot be replaced (setHandlers takes device handlers), so they
    // are installed once and push() drops what the gateway has not subscribed to.
    this.gateway = identity.isGateway
      ? opts.gatewayApi.openGatewaySession(identity, {
          onChildSharedAttributes: (device, u) => updateBody(u).forEach((data) => this.push('gwAttributes', `${GW}attributes`, { device, data })),
          onChildRpcRequest: (device, r) => this.push('gwRpc', `${GW}rpc`, { device, data: { id: r.id, method: r.method, params: r.params } }),
        })
      : undefined;
  }

  protected feedFor(filter: string): Feed | undefined {
    return DEVICE_FEEDS[filter] ?? otaFeedOf(filter) ?? (this.identity.isGateway ? (GATEWAY_FEEDS[filter] ?? gatewayOtaFeedOf(filter)) : undefined);
  }

  /** The platform only pushes what the device subscribed to (DeviceSession.setHandlers). */
  protected override feedsChanged(): void {
    this.session.setHandlers({
      onSharedAttributes: this.feeds?.has('attributes') ? (u) => updateBody(u).forEach((b) => this.push('attributes', ATTRIBUTES, b)) : undefined,
      onRpcRequest: this.feeds?.has('rpc') ? (r) => this.pushRpc(r) : undefined,
    });
  }

  /** A server-side RPC: the profile's encoded bytes as they are when it encodes downlinks, else JSON. */
  private pushRpc(r: RpcRequestToDevice): void {
    const topic = `${RPC_REQUEST}${r.id}`;
    const qos = this.feeds?.get('rpc');
    if (r.payload === undefined) this.push('rpc', topic, { method: r.method, params: r.params });
    else if (qos !== undefined) this.link.send(topic, r.payload, qos);
  }

  protected call(p: InterceptedPublish): Promise<void> | undefined {
    const api = this.opts.deviceApi;
    const id = this.identity;
    const t = p.topic;
    // Telemetry and attributes are counted by the DeviceApi once committed.
    if (t === `${ME}telemetry`) return api.publishTelemetry(id, p.payload, 'mqtt', p.contentType);
    if (t === ATTRIBUTES) return api.publishAttributes(id, p.payload, 'mqtt', p.contentType);
    if (t.startsWith(ATTR_REQUEST)) {
      this.count('attributes_request');
      const rid = requestId(t, ATTR_REQUEST);
      return api.getAttributes(id, parseAttributeRequest(p.payload)).then((res) => this.reply('attrResponse', `${ATTR_RESPONSE}${rid}`, res));
    }
    if (t.startsWith(RPC_RESPONSE)) {
      this.count('rpc_response');
      return api.rpcResponse(id, requestId(t, RPC_RESPONSE), p.payload);
    }
    if (t.startsWith(RPC_REQUEST)) return this.clientRpc(requestId(t, RPC_REQUEST), p.payload);
    if (t.startsWith(GW) && this.identity.isGateway) return this.gatewayCall(t.slice(GW.length), p.payload);
    if (t.startsWith(OTA_PREFIX)) return this.otaChunk(t, p.payload);
    return undefined;
  }

  /**
   * A firmware/software chunk: the bytes go out raw on the response topic, at the subscribed QoS
   * (0 when the device did not subscribe). A refusal is also sent as text on the error topic, as
   * ThingsBoard does, besides the PUBACK's reason code; the connection stays open.
   */
  private otaChunk(topic: string, payload: Buffer): Promise<void> | undefined {
    const parsed = parseOtaRequest(topic, payload);
    if (!parsed) return undefined;
    const fw = parsed.request.type === 'firmware';
    this.count(fw ? 'fw_chunk_request' : 'sw_chunk_request');
    return this.opts.deviceApi.otaChunk(this.identity, parsed.request).then(
      (bytes) => {
        this.link.send(parsed.responseTopic, bytes, this.feeds?.get(fw ? 'fwResponse' : 'swResponse') ?? 0);
        this.opts.metrics.messageOut('mqtt', fw ? 'fw_chunk' : 'sw_chunk');
      },
      (err: unknown) => {
        this.link.send(parsed.errorTopic, asPlatformError(err).message, this.feeds?.get(fw ? 'fwError' : 'swError') ?? 0);
        throw err;
      },
    );
  }

  /**
   * A chunk of the package assigned to one of the gateway's children (the edge's firmware
   * relay). Only the gateway's own existing children: GatewayService refuses any other name. A
   * refusal also goes out as JSON on the error topic, with the request it answers.
   */
  private gatewayOtaChunk(topic: string, payload: Buffer): Promise<void> | undefined {
    const fw = topic.startsWith(`${GW}fw/`);
    let parsed;
    try {
      parsed = parseGatewayOtaRequest(topic, payload);
    } catch (err) {
      this.link.send(`${GW}${fw ? 'fw' : 'sw'}/error`, JSON.stringify({ error: asPlatformError(err).message }), this.feeds?.get(fw ? 'gwFwError' : 'gwSwError') ?? 0);
      throw err;
    }
    if (!parsed) return undefined;
    const { device, requestId: rid, request, responseTopic, errorTopic } = parsed;
    this.count(fw ? 'gateway_fw_chunk_request' : 'gateway_sw_chunk_request');
    return this.opts.gatewayApi.gatewayOtaChunk(this.identity, device, request).then(
      (bytes) => {
        this.link.send(responseTopic, bytes, this.feeds?.get(fw ? 'gwFwResponse' : 'gwSwResponse') ?? 0);
        this.opts.metrics.messageOut('mqtt', fw ? 'gateway_fw_chunk' : 'gateway_sw_chunk');
      },
      (err: unknown) => {
        const body = { device, requestId: rid, chunk: request.chunk, error: asPlatformError(err).message, code: asPlatformError(err).code };
        this.link.send(errorTopic, JSON.stringify(body), this.feeds?.get(fw ? 'gwFwError' : 'gwSwError') ?? 0);
        throw err;
      },
    );
  }

  /** A method, not a closure per PUBLISH: tsx names every closure it creates (a defineProperty each), ~0.5% of the ingest rate. */
  private count(kind: string): void {
    this.opts.metrics.messageIn('mqtt', kind);
  }

  /** Client-side RPC: the answer (or `{"error":…}`) goes to rpc/response/$id. */
  private clientRpc(rid: number, payload: Buffer): Promise<void> {
    this.opts.metrics.messageIn('mqtt', 'rpc_request');
    const body = jsonObject(payload);
    if (typeof body.method !== 'string') throw new PlatformError('BAD_REQUEST', '"method" is required');
    const topic = `${RPC_RESPONSE}${rid}`;
    return this.opts.deviceApi.clientRpc(this.identity, { method: body.method, params: body.params as JsonValue | undefined }).then(
      (result) => this.reply('rpcResponse', topic, result),
      (err: unknown) => {
        this.reply('rpcResponse', topic, { error: asPlatformError(err).message });
        throw err;
      },
    );
  }

  private gatewayCall(sub: string, payload: Buffer): Promise<void> | undefined {
    const api = this.opts.gatewayApi;
    const gw = this.identity;
    switch (sub) {
      case 'connect': {
        this.count('gateway_connect');
        const body = jsonObject(payload);
        return api.gatewayConnect(gw, deviceName(body), typeof body.type === 'string' ? body.type : undefined).then(() => undefined);
      }
      case 'disconnect':
        this.count('gateway_disconnect');
        return api.gatewayDisconnect(gw, deviceName(jsonObject(payload)));
      case 'telemetry':
        this.count('gateway_telemetry');
        return api.gatewayTelemetry(gw, payload);
      case 'attributes':
        this.count('gateway_attributes');
        return api.gatewayAttributes(gw, payload);
      case 'attributes/request':
        this.count('gateway_attributes_request');
        return api.gatewayAttributeRequest(gw, payload).then((res) => this.reply('gwAttrResponse', `${GW}attributes/response`, res));
      case 'alarm':
        this.count('gateway_alarm');
        return api.gatewayAlarm(gw, payload);
      case 'rpc':
        this.count('gateway_rpc_response');
        return api.gatewayRpcResponse(gw, payload);
      case 'fw/request':
      case 'sw/request':
        return this.gatewayOtaChunk(`${GW}${sub}`, payload);
      default:
        return undefined;
    }
  }

  override ping(): void {
    this.session.touch();
  }

  override close(): void {
    this.gateway?.close();
    this.session.close();
  }
}

/** ThingsBoard device self-provisioning: the client may only ask for credentials. */
class ProvisionBridge extends BaseBridge {
  protected feedFor(filter: string): Feed | undefined {
    return filter === PROVISION_RESPONSE ? 'provision' : undefined;
  }

  protected call(p: InterceptedPublish): Promise<void> | undefined {
    if (p.topic !== PROVISION_REQUEST) return undefined;
    this.opts.metrics.messageIn('mqtt', 'provision');
    const client = { transport: 'mqtt', ...(this.link.remoteAddress !== undefined ? { address: this.link.remoteAddress } : {}) } as const;
    const failure = (err: unknown): never => {
      this.reply('provision', PROVISION_RESPONSE, { status: 'FAILURE', errorMsg: asPlatformError(err).message });
      throw err;
    };
    let request: ProvisionRequest;
    try {
      // Validated as HTTP and CoAP do (key and secret required, known credentialsType, string
      // fields): before, a request HTTP refuses with 400 could create a device over MQTT.
      request = parseProvisionRequest(p.payload);
    } catch (err) {
      return failure(err);
    }
    return this.opts.deviceApi.provision(request, client).then((res) => this.reply('provision', PROVISION_RESPONSE, res), failure);
  }
}

/**
 * The device API interceptor: device connections get the ThingsBoard device (and, for gateways,
 * gateway) API, `provision` connections the provisioning request only. Sparkplug B (`spBv1.0/…`)
 * is another interceptor (../sparkplug/), placed before this one by the composition root.
 */
export function deviceApiInterceptor(opts: DeviceApiInterceptorOptions): Interceptor {
  return {
    name: 'deviceApi',
    attach(link) {
      const p = link.principal;
      if (p.kind === 'provision') return new ProvisionBridge(opts, link);
      if (p.kind === 'device' && p.identity) return new DeviceBridge(opts, link, p.identity);
      return undefined;
    },
  };
}
