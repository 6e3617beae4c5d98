/**
 * ThingsBoard's CoAP device API on top of DeviceApi: routing, Content-Format, Block1
 * reassembly, error answers from the catalogue, and the resource handlers.
 *
 *   POST /api/v1/{token}/telemetry            2.04 after commit
 *   POST /api/v1/{token}/attributes           2.04 after commit (client attributes)
 *   GET  /api/v1/{token}/attributes?clientKeys=&sharedKeys=   2.05 {"client":{…},"shared":{…}}
 *   GET  /api/v1/{token}/attributes (Observe) shared-attribute updates as notifications
 *   GET  /api/v1/{token}/attributes/updates   the same, as some ThingsBoard docs spell it
 *   GET  /api/v1/{token}/rpc (Observe)        server-side RPC requests as notifications
 *   POST /api/v1/{token}/rpc/{id}             reply to a server-side RPC, 2.04
 *   POST /api/v1/{token}/rpc                  client-side RPC, 2.05 with the result
 *   POST /api/v1/provision                    2.05 with the provision response
 *   GET  /api/v1/{token}/firmware?title&version&size&chunk   2.05 the bytes (OTA; Block2 when large)
 *   GET  /api/v1/{token}/software?title&version&size&chunk   the same for software
 */
import type { DeviceIdentity } from '../../../domain/device.js';
import { PlatformError, asPlatformError } from '../../../domain/errors.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { Logger } from '../../../ports.js';
import type { DeviceApi, TransportMetrics } from '../../../ports/device-api.js';
import {
  attributeRequestFrom,
  attributesBody,
  otaChunkRequestFrom,
  parseClientRpc,
  parseProvisionRequest,
  parseRpcId,
  rpcRequestBody,
  sharedUpdateBody,
  tokenPrefix,
} from '../device-json.js';
import { encodeBlockOption, parseBlockOption, type Block1Assembler, type BlockOption } from './block1.js';
import type { ChunkCache } from './chunk-cache.js';
import type { CoapExchange } from './exchange.js';
import { CONTENT_FORMAT, encodeUint, mediaTypeOf, optionOf, uintOf, urlOf, type CoapOption, type CoapRequest } from './message.js';
import { Observation, type ObservationRegistry, type ObservedResource } from './observe.js';

export interface CoapHandlerDeps {
  readonly deviceApi: DeviceApi;
  readonly metrics: TransportMetrics;
  readonly logger: Logger;
  readonly maxPayloadBytes: number;
  readonly observations: ObservationRegistry;
  readonly block1: Block1Assembler;
  /** OTA chunks just served, for the block requests that follow (chunk-cache.ts). */
  readonly chunks: ChunkCache;
  /** True once the transport is stopping: new requests get 5.03. */
  readonly stopping: () => boolean;
}

type Resource = 'provision' | 'telemetry' | 'attributes' | 'attributes-updates' | 'rpc' | 'rpc-reply' | 'firmware' | 'software';

interface Route {
  readonly resource: Resource;
  readonly token?: string;
  readonly rpcId?: string;
}

const METHODS: Record<Resource, readonly string[]> = {
  provision: ['POST'],
  telemetry: ['POST'],
  attributes: ['GET', 'POST'],
  'attributes-updates': ['GET'],
  rpc: ['GET', 'POST'],
  'rpc-reply': ['POST'],
  firmware: ['GET'],
  software: ['GET'],
};

/** Request-Tag (RFC 9175): not in coap-packet's option table, so it arrives by number. */
const REQUEST_TAG = 292;

export function routeOf(pathname: string): Route | undefined {
  const parts = pathname.split('/').filter((p) => p.length > 0);
  if (parts[0] !== 'api' || parts[1] !== 'v1') return undefined;
  const [, , first, second, third, ...rest] = parts;
  if (first === undefined || rest.length > 0) return undefined;
  if (first === 'provision' && second === undefined) return { resource: 'provision' };
  if (second === 'telemetry' && third === undefined) return { resource: 'telemetry', token: first };
  if (second === 'attributes' && third === undefined) return { resource: 'attributes', token: first };
  if (second === 'attributes' && third === 'updates') return { resource: 'attributes-updates', token: first };
  if (second === 'rpc' && third === undefined) return { resource: 'rpc', token: first };
  if (second === 'rpc' && third !== undefined) return { resource: 'rpc-reply', token: first, rpcId: third };
  if ((second === 'firmware' || second === 'software') && third === undefined) return { resource: second, token: first };
  return undefined;
}

/** 'application/json' / 'application/senml+json', undefined when absent (profile codec). */
function contentTypeOf(req: CoapRequest): string | undefined {
  if (optionOf(req.options, 'Content-Format') === undefined) return undefined;
  const format = uintOf(req.options, 'Content-Format');
  const type = format === undefined ? undefined : mediaTypeOf(format);
  if (type !== undefined) return type;
  throw new PlatformError('UNSUPPORTED_CONTENT', `content-format ${String(format)}; use 50 (JSON), 110 (SenML JSON) or 42 (raw bytes for a profile decoder)`);
}

const JSON_FORMAT: CoapOption = { name: 'Content-Format', value: encodeUint(CONTENT_FORMAT.json) };
/** application/octet-stream (RFC 7252 §12.3). */
const OCTET_FORMAT: CoapOption = { name: 'Content-Format', value: encodeUint(42) };

interface Exchange {
  readonly req: CoapRequest;
  readonly coap: CoapExchange;
  readonly remote: string;
  /** Options every answer carries (e.g. Size1 with a 4.13, RFC 7959 §4). */
  readonly options: CoapOption[];
  token?: string;
  identity?: DeviceIdentity;
  /** Block1 option of the final block, echoed in the final response. */
  finalBlock?: BlockOption;
  /** Set while DeviceApi publishes: it counts and logs its own accepts and rejects. */
  serviceAccounts?: boolean;
}

function send(ex: Exchange, code: string, body?: JsonValue): void {
  const options = [...ex.options];
  if (ex.finalBlock) options.push({ name: 'Block1', value: encodeBlockOption(ex.finalBlock) });
  if (body === undefined) {
    ex.coap.reply({ code, options });
  } else {
    options.push(JSON_FORMAT);
    ex.coap.reply({ code, options, payload: Buffer.from(JSON.stringify(body)) });
  }
}

function reject(deps: CoapHandlerDeps, ex: Exchange, err: unknown): void {
  const pe = asPlatformError(err);
  const fields = {
    remote: ex.remote,
    token: ex.token === undefined ? undefined : tokenPrefix(ex.token),
    deviceId: ex.identity?.deviceId,
    method: ex.req.method,
    code: pe.spec.coap,
    reason: pe.message,
  };
  // Counted here, once per answer; the device service only logs its rejections.
  deps.metrics.reject('coap', pe.code);
  if (ex.serviceAccounts === true) {
    deps.logger.debug(fields, 'coap request rejected by the device service');
  } else {
    if (pe.code === 'INTERNAL') deps.logger.error({ ...fields, err: pe.cause }, 'coap request failed');
    else deps.logger.warn(fields, 'coap request rejected');
  }
  if (ex.coap.answered) return;
  // 4.29 Too Many Requests carries the seconds to wait in Max-Age (RFC 8516 §2), as HTTP does in Retry-After.
  const options = pe.retryAfterSeconds !== undefined ? [...ex.options, { name: 'Max-Age', value: encodeUint(Math.max(1, Math.ceil(pe.retryAfterSeconds))) }] : ex.options;
  // A diagnostic payload (RFC 7252 §5.5.2): UTF-8 text, no Content-Format.
  ex.coap.reply({ code: pe.spec.coap, options, payload: Buffer.from(pe.message.slice(0, 200)) });
}

/**
 * Reassembles Block1 uploads. Returns the whole body, or undefined when this block has been
 * answered already (2.31 Continue).
 */
function assemble(deps: CoapHandlerDeps, ex: Exchange, raw: Buffer | undefined): Buffer | undefined {
  const payload = ex.req.payload;
  if (raw === undefined) {
    if (payload.length > deps.maxPayloadBytes) {
      throw new PlatformError('PAYLOAD_TOO_LARGE', `${payload.length} bytes, limit ${deps.maxPayloadBytes}`);
    }
    return payload;
  }
  const block = parseBlockOption(raw);
  if (!block) throw new PlatformError('BAD_REQUEST', 'invalid Block1 option');
  const tag = optionOf(ex.req.options, REQUEST_TAG);
  const key = `${ex.remote} ${ex.req.method ?? ex.req.code} ${urlOf(ex.req)} ${tag?.toString('hex') ?? ''}`;
  const result = deps.block1.accept(key, block, payload, uintOf(ex.req.options, 'Size1'), ex.remote);
  switch (result.kind) {
    case 'continue':
      ex.coap.reply({ code: '2.31', options: [{ name: 'Block1', value: encodeBlockOption(block) }] });
      return undefined;
    case 'complete':
      ex.finalBlock = { ...block, more: false };
      return result.payload;
    case 'too-large':
      ex.options.push({ name: 'Size1', value: encodeUint(deps.maxPayloadBytes) });
      throw new PlatformError('PAYLOAD_TOO_LARGE', `body over ${deps.maxPayloadBytes} bytes`);
    case 'incomplete':
      deps.metrics.reject('coap', 'REQUEST_INCOMPLETE');
      deps.logger.warn({ remote: ex.remote, block: block.num }, 'coap Block1 block without its predecessors');
      send(ex, '4.08'); // RFC 7959 §2.9.2 Request Entity Incomplete: a block-layer answer.
      return undefined;
  }
}

function observationKey(ex: Exchange): string {
  return `${ex.remote}/${ex.req.token.toString('hex')}`;
}

async function currentShared(deps: CoapHandlerDeps, identity: DeviceIdentity): Promise<JsonValue> {
  // No keys at all = every attribute of both scopes (the only way to ask for all shared ones).
  const attrs = await deps.deviceApi.getAttributes(identity, {});
  return attrs.shared ?? {};
}

async function observe(deps: CoapHandlerDeps, ex: Exchange, resource: ObservedResource): Promise<void> {
  const identity = ex.identity as DeviceIdentity;
  const key = observationKey(ex);
  // Counted per device behind each endpoint: one endpoint may carry many devices (a CoAP proxy, a
  // NAT, the simulator's shared socket), while one device needs only a few observations.
  const scope = `${ex.remote}|${identity.deviceId}`;
  if (!deps.observations.admits(key, scope)) {
    // Answered 4.29 without an Observe option: the client knows it is not registered (RFC 7641 §4.1).
    throw new PlatformError('QUOTA_EXCEEDED', 'too many observations of this device from this endpoint, or in total');
  }
  const stream = ex.coap.startObserving();
  const logger = deps.logger.child({ deviceId: identity.deviceId, remote: ex.remote, observe: resource });
  const obs = new Observation(key, resource, stream, logger, (o) => {
    deps.observations.forget(o);
    deps.metrics.connections('coap', -1);
    logger.debug({}, 'coap observation ended');
  });
  deps.observations.add(obs, scope);
  deps.metrics.connections('coap', 1);
  const outKind = resource === 'rpc' ? 'rpc_request' : 'attributes_update';
  const notify = (body: JsonValue): void => {
    if (obs.notify(body)) deps.metrics.messageOut('coap', outKind);
    else deps.metrics.reject('coap', obs.isClosed ? 'DEVICE_OFFLINE' : 'PAYLOAD_TOO_LARGE');
  };
  const session = deps.deviceApi.openSession(
    identity,
    'coap',
    resource === 'rpc'
      ? { onRpcRequest: (request) => notify(rpcRequestBody(request)) }
      : { onSharedAttributes: (update) => notify(sharedUpdateBody(update)) },
    { persistent: false },
  );
  obs.attach(session);
  try {
    // As ThingsBoard does: the current shared attributes first; for RPC an empty 2.03 Valid.
    obs.start(resource === 'rpc' ? { code: '2.03' } : { code: '2.05', body: await currentShared(deps, identity) });
  } catch (err) {
    obs.refuse(asPlatformError(err).spec.coap);
    throw err;
  }
  logger.debug({}, 'coap observation registered');
}

async function handleGet(deps: CoapHandlerDeps, ex: Exchange, route: Route, query: URLSearchParams): Promise<void> {
  const identity = ex.identity as DeviceIdentity;
  if (route.resource === 'firmware' || route.resource === 'software') {
    const request = otaChunkRequestFrom(route.resource, query);
    deps.metrics.messageIn('coap', `${route.resource}_chunk_request`);
    const key = `${identity.deviceId}\n${request.type}\n${request.title ?? ''}\n${request.version ?? ''}\n${request.chunkSize}\n${request.chunk}`;
    let bytes = deps.chunks.get(key);
    if (!bytes) {
      bytes = await deps.deviceApi.otaChunk(identity, request);
      deps.chunks.set(key, bytes);
    }
    deps.metrics.messageOut('coap', `${route.resource}_chunk`);
    // Raw bytes (application/octet-stream); the exchange cuts a large chunk into Block2 blocks.
    ex.coap.reply({ code: '2.05', options: [...ex.options, OCTET_FORMAT], payload: bytes });
    return;
  }
  const observeFlag = ex.coap.observe;
  if (observeFlag === 0) {
    const resource: ObservedResource = route.resource === 'rpc' ? 'rpc' : 'attributes';
    deps.metrics.messageIn('coap', `observe_${resource}`);
    await observe(deps, ex, resource);
    return;
  }
  if (observeFlag === 1) deps.observations.cancel(observationKey(ex));
  if (route.resource === 'rpc') {
    if (observeFlag === 1) return send(ex, '2.03');
    throw new PlatformError('BAD_REQUEST', 'GET /rpc needs the Observe option');
  }
  if (route.resource === 'attributes-updates' || observeFlag === 1) {
    return send(ex, '2.05', await currentShared(deps, identity));
  }
  deps.metrics.messageIn('coap', 'attributes_request');
  send(ex, '2.05', attributesBody(await deps.deviceApi.getAttributes(identity, attributeRequestFrom(query))));
}

async function handlePost(deps: CoapHandlerDeps, ex: Exchange, route: Route, payload: Buffer, contentType?: string): Promise<void> {
  const { deviceApi, metrics } = deps;
  const identity = ex.identity as DeviceIdentity;
  switch (route.resource) {
    // DeviceApi counts telemetry and attribute messages (and their rejects) itself.
    case 'telemetry':
      ex.serviceAccounts = true;
      await deviceApi.publishTelemetry(identity, payload, 'coap', contentType);
      ex.serviceAccounts = false;
      return send(ex, '2.04');
    case 'attributes':
      ex.serviceAccounts = true;
      await deviceApi.publishAttributes(identity, payload, 'coap', contentType);
      ex.serviceAccounts = false;
      return send(ex, '2.04');
    case 'rpc-reply':
      metrics.messageIn('coap', 'rpc_response');
      await deviceApi.rpcResponse(identity, parseRpcId(route.rpcId ?? ''), payload);
      return send(ex, '2.04');
    case 'rpc': {
      metrics.messageIn('coap', 'client_rpc');
      const result = await deviceApi.clientRpc(identity, parseClientRpc(payload));
      return send(ex, '2.05', result);
    }
    default:
      throw new PlatformError('METHOD_NOT_ALLOWED');
  }
}

/** Handles one request; never throws (every failure becomes a CoAP error answer). */
export async function handleCoapRequest(deps: CoapHandlerDeps, coap: CoapExchange): Promise<void> {
  const req = coap.request;
  const ex: Exchange = { req, coap, remote: req.remote, options: [] };
  const rawBlock1 = optionOf(req.options, 'Block1');
  try {
    if (deps.stopping()) throw new PlatformError('UNAVAILABLE', 'shutting down');
    const pathname = req.path;
    const route = routeOf(pathname);
    if (!route) throw new PlatformError('NOT_FOUND', `no resource ${pathname.slice(0, 80)}`);
    if (req.method === undefined || !METHODS[route.resource].includes(req.method)) {
      throw new PlatformError('METHOD_NOT_ALLOWED', `${req.method ?? req.code} ${route.resource}`);
    }
    const contentType = req.method === 'POST' ? contentTypeOf(req) : undefined;
    if (route.resource === 'provision') {
      const payload = assemble(deps, ex, rawBlock1);
      if (payload === undefined) return;
      deps.metrics.messageIn('coap', 'provision');
      const provisioned = await deps.deviceApi.provision(parseProvisionRequest(payload), { transport: 'coap', address: req.rsinfo.address });
      return send(ex, '2.05', provisioned as unknown as JsonValue);
    }
    ex.token = route.token;
    ex.identity = await deps.deviceApi.authenticateToken(route.token ?? '', { transport: 'coap', address: req.rsinfo.address });
    if (req.method === 'GET') return await handleGet(deps, ex, route, new URLSearchParams(req.query));
    const payload = assemble(deps, ex, rawBlock1);
    if (payload === undefined) return;
    await handlePost(deps, ex, route, payload, contentType);
  } catch (err) {
    reject(deps, ex, err);
  }
}
