/**
 * ThingsBoard's HTTP device API as a Fastify plugin, registered by the platform under
 * `/api/v1` on its single Fastify instance (same port as the management API).
 *
 *   POST /api/v1/{token}/telemetry                       200 after commit
 *   POST /api/v1/{token}/attributes                      200 after commit (client attributes)
 *   GET  /api/v1/{token}/attributes?clientKeys=&sharedKeys=
 *   GET  /api/v1/{token}/attributes/updates?timeout=MS   long poll: 200 next update | 408
 *   GET  /api/v1/{token}/rpc?timeout=MS                  long poll: 200 {"id","method","params"} | 408; a profile
 *                                                        that encodes downlinks: the bytes, id in x-rpc-request-id
 *   POST /api/v1/{token}/rpc/{id}                        reply to a server-side RPC
 *   POST /api/v1/{token}/rpc                             client-side RPC, 200 with the result
 *   POST /api/v1/provision                               200 with the provision response
 *   GET  /api/v1/{token}/firmware?title&version&size&chunk  the bytes of the assigned firmware (OTA;
 *                                                        without size: the whole package, streamed)
 *   GET  /api/v1/{token}/software?title&version&size&chunk  the same for software
 *
 * Bodies reach DeviceApi as raw Buffers (a catch-all parser local to this plugin, limited to
 * `limits.maxPayloadBytes` → 413). Errors answer `{error, message}` from the catalogue.
 */
import { Readable } from 'node:stream';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { DeviceIdentity } from '../../../domain/device.js';
import { PlatformError, asPlatformError, codeForHttpStatus } from '../../../domain/errors.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { Logger } from '../../../ports.js';
import type { DeviceApi, RpcRequestToDevice, SharedAttributeUpdate, TransportMetrics } from '../../../ports/device-api.js';
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
import { LongPolls, type LongPollSpec } from './long-poll.js';
import { RpcBacklog } from './rpc-backlog.js';

const OCTET_STREAM = 'application/octet-stream';
/** Names the request an encoded (raw) server-side RPC answers: the device replies to /rpc/{id}. */
const RPC_ID_HEADER = 'x-rpc-request-id';

/** The settings these routes read (the app's Config has this shape; the adapter never imports the app). */
export interface HttpDeviceSettings {
  readonly http: { readonly idleTimeoutMs: number };
  readonly limits: { readonly maxPayloadBytes: number };
  readonly rpc: { readonly defaultTimeoutMs: number };
}

export interface HttpDeviceRoutesOptions {
  readonly config: HttpDeviceSettings;
  readonly deviceApi: DeviceApi;
  readonly metrics: TransportMetrics;
  readonly logger: Logger;
  /** Long-poll wait when the device gives no `timeout` (ThingsBoard: 60 s). */
  readonly defaultPollMs?: number;
  /** Upper bound on a device's `timeout` (ThingsBoard: 300 s). */
  readonly maxPollMs?: number;
}

type TokenParams = { Params: { token: string } };
type PollRoute = TokenParams & { Querystring: { timeout?: string } };

// application/octet-stream: raw bytes for the profile's payload decoder (docs/DEVICE-API.md).
const CONTENT_TYPES = new Set(['application/json', 'application/senml+json', 'application/octet-stream']);
const ALL_METHODS: HTTPMethods[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];

/** Requests whose rejection DeviceApi has already counted and logged (telemetry, attributes). */
const serviceAccounted = new WeakSet<FastifyRequest>();

/** Only JSON, SenML JSON and raw bytes name a codec; anything else (curl's form type, none) → profile codec. */
function contentTypeOf(request: FastifyRequest): string | undefined {
  const raw = request.headers['content-type'];
  const type = raw?.split(';', 1)[0]?.trim().toLowerCase();
  return type !== undefined && CONTENT_TYPES.has(type) ? type : undefined;
}

function bodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

/** Errors Fastify raises itself (body too large, …) mapped onto the catalogue. */
function toPlatformError(err: FastifyError | PlatformError): PlatformError {
  if (err instanceof PlatformError) return err;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new PlatformError('PAYLOAD_TOO_LARGE', err.message);
  const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (status >= 500) return asPlatformError(err);
  return new PlatformError(codeForHttpStatus(status), err.message);
}

export function createHttpDeviceRoutes(opts: HttpDeviceRoutesOptions): FastifyPluginAsync {
  const { config, deviceApi, metrics, logger } = opts;
  // A quiet long poll must end (408) before the listener's idle timeout would cut its socket;
  // the request timeout does not apply to it (the GET has been received in full).
  const idleCapMs = Math.max(1, config.http.idleTimeoutMs - 1000);
  const maxPollMs = Math.min(opts.maxPollMs ?? 300_000, idleCapMs);
  const defaultPollMs = Math.min(opts.defaultPollMs ?? 60_000, maxPollMs);
  const maxPayloadBytes = config.limits.maxPayloadBytes;

  const pollTimeout = (raw: string | undefined): number => {
    if (raw === undefined || raw === '') return defaultPollMs;
    const ms = Number(raw);
    if (!Number.isFinite(ms) || ms < 0) throw new PlatformError('BAD_REQUEST', `timeout "${raw.slice(0, 20)}" is not a number of milliseconds`);
    return ms === 0 ? defaultPollMs : Math.min(Math.floor(ms), maxPollMs);
  };

  return async (app) => {
    const polls = new LongPolls();
    const backlog = new RpcBacklog(config.rpc.defaultTimeoutMs);

    // No per-request child logger for device traffic (Fastify builds one per request by default,
    // binding the request id): these routes log through `logger` with the device's token prefix
    // and address instead, and a pino child per request is measurable at 20k requests/s.
    app.setChildLoggerFactory((parent) => parent);

    // Raw bytes for every content type, only inside this plugin's scope.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxPayloadBytes }, (_req, body, done) => done(null, body));

    app.setErrorHandler((err: FastifyError | PlatformError, request, reply) => {
      const pe = toPlatformError(err);
      const token = (request.params as { token?: string } | undefined)?.token;
      const fields = { token: token === undefined ? undefined : tokenPrefix(token), remote: request.ip, method: request.method, code: pe.code, reason: pe.message };
      // Counted here, once per answer; the device service only logs its rejections.
      metrics.reject('http', pe.code);
      if (serviceAccounted.has(request)) {
        logger.debug(fields, 'http device request rejected by the device service');
      } else {
        if (pe.code === 'INTERNAL') logger.error({ ...fields, err }, 'http device request failed');
        else logger.warn(fields, 'http device request rejected');
      }
      if (pe.retryAfterSeconds !== undefined) void reply.header('retry-after', String(Math.max(1, Math.ceil(pe.retryAfterSeconds))));
      return reply.code(pe.spec.http).send(pe.toJSON());
    });

    app.addHook('preClose', (done) => {
      polls.abortAll();
      done();
    });

    const authenticate = (request: FastifyRequest<TokenParams>): Promise<DeviceIdentity> =>
      deviceApi.authenticateToken(request.params.token, { transport: 'http', address: request.ip });

    const json = (reply: FastifyReply, body: JsonValue): FastifyReply => reply.code(200).type('application/json').send(JSON.stringify(body));
    // A request the profile encoded (encodeDownlink): its bytes, the id in a header for the reply.
    const rpcAnswer = (reply: FastifyReply, rpc: RpcRequestToDevice): FastifyReply =>
      rpc.payload === undefined ? json(reply, rpcRequestBody(rpc)) : reply.code(200).type(OCTET_STREAM).header(RPC_ID_HEADER, String(rpc.id)).send(rpc.payload);

    const poll = async <T>(reply: FastifyReply, kind: string, spec: LongPollSpec<T>): Promise<FastifyReply> => {
      metrics.messageIn('http', kind);
      metrics.connections('http', 1);
      try {
        await polls.run(spec);
      } finally {
        metrics.connections('http', -1);
      }
      return reply;
    };

    /** OpenAPI only (no validation: the handlers parse the raw bytes themselves, at device rates). */
    const doc = (operationId: string, summary: string): { schema: { tags: string[]; operationId: string; summary: string; security: [] } } => ({ schema: { tags: ['device-api'], operationId, summary, security: [] } });

    /** Registers the route, and 405 for the other methods on its path. */
    const paths = new Map<string, HTTPMethods[]>();
    const allow = (url: string, method: HTTPMethods): void => {
      paths.set(url, [...(paths.get(url) ?? []), method]);
    };

    allow('/:token/telemetry', 'POST');
    app.post<TokenParams>('/:token/telemetry', doc('postDeviceTelemetry', 'Publish telemetry (JSON, SenML JSON, or the profile\'s codec); 200 once stored'), async (request, reply) => {
      const identity = await authenticate(request);
      serviceAccounted.add(request);
      await deviceApi.publishTelemetry(identity, bodyOf(request), 'http', contentTypeOf(request));
      serviceAccounted.delete(request);
      return reply.code(200).send();
    });

    allow('/:token/attributes', 'POST');
    app.post<TokenParams>('/:token/attributes', doc('postDeviceAttributes', 'Publish client attributes; 200 once stored'), async (request, reply) => {
      const identity = await authenticate(request);
      serviceAccounted.add(request);
      await deviceApi.publishAttributes(identity, bodyOf(request), 'http', contentTypeOf(request));
      serviceAccounted.delete(request);
      return reply.code(200).send();
    });

    allow('/:token/attributes', 'GET');
    app.get<TokenParams & { Querystring: Record<string, string | undefined> }>('/:token/attributes', doc('getDeviceAttributesAsDevice', 'Read client and shared attributes (clientKeys, sharedKeys: comma-separated)'), async (request, reply) => {
      const identity = await authenticate(request);
      metrics.messageIn('http', 'attributes_request');
      const query = new URLSearchParams();
      for (const key of ['clientKeys', 'sharedKeys']) {
        const value = request.query[key];
        if (typeof value === 'string') query.set(key, value);
      }
      return json(reply, attributesBody(await deviceApi.getAttributes(identity, attributeRequestFrom(query))));
    });

    allow('/:token/attributes/updates', 'GET');
    app.get<PollRoute>('/:token/attributes/updates', doc('pollSharedAttributes', 'Long poll: the next shared attribute update, or 408 after timeout ms'), async (request, reply) => {
      const timeoutMs = pollTimeout(request.query.timeout);
      const identity = await authenticate(request);
      return poll<SharedAttributeUpdate>(reply, 'attributes_poll', {
        request,
        reply,
        timeoutMs,
        open: (deliver) => deviceApi.openSession(identity, 'http', { onSharedAttributes: deliver }, { persistent: false }),
        render: (update) => {
          metrics.messageOut('http', 'attributes_update');
          return sharedUpdateBody(update);
        },
        merge: mergeUpdates,
      });
    });

    allow('/:token/rpc', 'GET');
    app.get<PollRoute>('/:token/rpc', doc('pollDeviceRpc', 'Long poll: the next server-side RPC request {id, method, params}, or 408 after timeout ms'), async (request, reply) => {
      const timeoutMs = pollTimeout(request.query.timeout);
      const identity = await authenticate(request);
      const waiting = backlog.take(identity.deviceId);
      if (waiting) {
        metrics.messageIn('http', 'rpc_poll');
        metrics.messageOut('http', 'rpc_request');
        return rpcAnswer(reply, waiting);
      }
      return poll<RpcRequestToDevice>(reply, 'rpc_poll', {
        request,
        reply,
        timeoutMs,
        open: (deliver) => deviceApi.openSession(identity, 'http', { onRpcRequest: deliver }, { persistent: false }),
        render: (rpc) => {
          metrics.messageOut('http', 'rpc_request');
          return rpcRequestBody(rpc);
        },
        send: (to, rpc) => {
          metrics.messageOut('http', 'rpc_request');
          rpcAnswer(to, rpc);
        },
        // RPCs queued for the device are flushed together when it opens a session; the first
        // answers this poll, the others wait here for the next one.
        late: (rpc) => backlog.add(identity.deviceId, rpc),
      });
    });

    allow('/:token/rpc/:id', 'POST');
    app.post<{ Params: { token: string; id: string } }>('/:token/rpc/:id', doc('replyDeviceRpc', 'Reply to the server-side RPC request with this id'), async (request, reply) => {
      const id = parseRpcId(request.params.id);
      const identity = await authenticate(request);
      metrics.messageIn('http', 'rpc_response');
      await deviceApi.rpcResponse(identity, id, bodyOf(request));
      return reply.code(200).send();
    });

    allow('/:token/rpc', 'POST');
    app.post<TokenParams>('/:token/rpc', doc('callServerRpc', 'Client-side RPC: {method, params}, answered with the result'), async (request, reply) => {
      const identity = await authenticate(request);
      const rpc = parseClientRpc(bodyOf(request));
      metrics.messageIn('http', 'client_rpc');
      return json(reply, await deviceApi.clientRpc(identity, rpc));
    });

    // OTA downloads: the bytes of the package assigned to the device, one chunk per request.
    for (const type of ['firmware', 'software'] as const) {
      allow(`/:token/${type}`, 'GET');
      app.get<TokenParams & { Querystring: Record<string, string | undefined> }>(`/:token/${type}`, doc(`download${type === 'firmware' ? 'Firmware' : 'Software'}`, `The assigned ${type} package: one chunk (size, chunk) or, without size, the whole package`), async (request, reply) => {
        const query = new URLSearchParams();
        for (const key of ['title', 'version', 'size', 'chunk']) {
          const value = request.query[key];
          if (typeof value === 'string') query.set(key, value);
        }
        const chunkRequest = otaChunkRequestFrom(type, query);
        const identity = await authenticate(request);
        metrics.messageIn('http', `${type}_chunk_request`);
        if (chunkRequest.chunkSize === 0 && chunkRequest.chunk === 0) {
          // No size: the whole package, streamed (ThingsBoard's `curl … /firmware?title&version -o fw.bin`).
          const whole = await deviceApi.otaDownload(identity, chunkRequest);
          metrics.messageOut('http', `${type}_download`);
          return reply.code(200).type('application/octet-stream').header('content-length', String(whole.size)).send(Readable.from(whole.body));
        }
        const bytes = await deviceApi.otaChunk(identity, chunkRequest);
        metrics.messageOut('http', `${type}_chunk`);
        return reply.code(200).type('application/octet-stream').send(bytes);
      });

      // The SHA-256 of every chunk at the device's chunk size: small devices check each chunk as it arrives.
      allow(`/:token/${type}/chunks`, 'GET');
      app.get<TokenParams & { Querystring: Record<string, string | undefined> }>(`/:token/${type}/chunks`, doc(`${type}ChunkHashes`, `SHA-256 of every chunk of the assigned ${type} package at chunk size \`size\``), async (request, reply) => {
        const query = new URLSearchParams();
        for (const key of ['title', 'version', 'size']) {
          const value = request.query[key];
          if (typeof value === 'string') query.set(key, value);
        }
        const { title, version, chunkSize } = otaChunkRequestFrom(type, query);
        const identity = await authenticate(request);
        if (!deviceApi.otaChunkHashes) throw new PlatformError('PACKAGE_NOT_FOUND', 'chunk manifests are not served here');
        return json(reply, (await deviceApi.otaChunkHashes(identity, { type, title, version, chunkSize })) as unknown as JsonValue);
      });
    }

    allow('/provision', 'POST');
    app.post('/provision', doc('provisionDevice', 'Provision a device with a profile\'s provision key and secret; answers its credentials'), async (request, reply) => {
      const req = parseProvisionRequest(bodyOf(request));
      metrics.messageIn('http', 'provision');
      return json(reply, (await deviceApi.provision(req, { transport: 'http', address: request.ip })) as unknown as JsonValue);
    });

    for (const [url, allowed] of paths) {
      const others = ALL_METHODS.filter((m) => !allowed.includes(m));
      app.route({
        method: others,
        url,
        // Not an operation: the OpenAPI document lists only the methods a path really has.
        schema: { hide: true },
        handler: async (request, reply) => {
          void reply.header('allow', allowed.join(', '));
          throw new PlatformError('METHOD_NOT_ALLOWED', `${request.method} not allowed here; use ${allowed.join(' or ')}`);
        },
      });
    }
  };
}

/** Later values win; a key set again is no longer deleted, a key deleted is no longer set. */
function mergeUpdates(a: SharedAttributeUpdate, b: SharedAttributeUpdate): SharedAttributeUpdate {
  const values = { ...a.values };
  const deleted = new Set(a.deleted ?? []);
  for (const key of b.deleted ?? []) {
    delete values[key];
    deleted.add(key);
  }
  for (const [key, value] of Object.entries(b.values)) {
    values[key] = value;
    deleted.delete(key);
  }
  return deleted.size > 0 ? { values, deleted: [...deleted] } : { values };
}
