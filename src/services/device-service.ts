/**
 * The DeviceApi every transport calls: authentication, decoding with the device's codec,
 * ingest, attributes, RPC and sessions. The gateway API is a peer service (gateway.ts), wired
 * beside this one by the composition root.
 */
import { DEFAULT_TENANT_ID, type DeviceIdentity, type TransportName } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import { subjectFor } from '../domain/subjects.js';
import { checkJsonValue, checkText, DEFAULT_PAYLOAD_LIMITS, type PayloadLimits } from '../domain/payload-limits.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { Bus, Clock, Logger } from '../ports.js';
import type { CodecRegistry } from './codec-registry.js';
import type { AttributeService } from './attributes.js';
import type {
  AttributeRequest,
  AttributeResponse,
  BasicCredentials,
  ClientRpcRequest,
  DeviceApi,
  DeviceClient,
  DeviceEventHandlers,
  DeviceSession,
  OpenSessionOptions,
  OtaChunkHashes,
  OtaChunkRequest,
  OtaDownload,
  PlatformMetrics,
  ProvisionRequest,
  ProvisionResponse,
} from '../ports/device-api.js';
import { rejectedDeviceMessage } from './device-rejections.js';
import type { IngestService } from './ingest.js';
import { isJsonText, isOctetStream, type RawPayloads } from './raw-payloads.js';
import type { RegistryService } from './registry.js';
import type { RpcService } from './rpc.js';
import type { SessionHub } from './sessions.js';

export interface DeviceServiceDeps {
  readonly registry: RegistryService;
  readonly ingest: IngestService;
  readonly attributes: AttributeService;
  readonly rpc: RpcService;
  readonly sessions: SessionHub;
  readonly codecs: CodecRegistry;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: PlatformMetrics;
  readonly maxPayloadBytes: number;
  /** Structure of device JSON (depth, strings, values per message). */
  readonly limits: PayloadLimits;
  /** Raw payloads through the profile's decoder (raw-payloads.ts); without it they are refused. */
  readonly raw?: RawPayloads;
  /** Firmware chunks (services/ota-devices.ts); without it every OTA request is PACKAGE_NOT_FOUND. */
  readonly ota?: {
    chunk(identity: DeviceIdentity, request: OtaChunkRequest): Promise<Buffer>;
    download(identity: DeviceIdentity, request: Pick<OtaChunkRequest, 'type' | 'title' | 'version'>): Promise<OtaDownload>;
    chunkHashes(identity: DeviceIdentity, request: Pick<OtaChunkRequest, 'type' | 'title' | 'version' | 'chunkSize'>): Promise<OtaChunkHashes>;
  };
}

/**
 * Reply bodies that are not JSON are kept as the string the device sent. JSON ones are bounded
 * like telemetry: the reply travels on to REST callers and rules, which serialize it again.
 */
export function parseLooseJson(payload: Buffer, limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS): JsonValue {
  const text = payload.toString('utf8');
  let body: JsonValue;
  try {
    body = JSON.parse(text) as JsonValue;
  } catch {
    checkText(text, limits, 'RPC reply');
    return text;
  }
  checkJsonValue(body, limits);
  return body;
}

/** The codec's refusals that say "these bytes are not text/JSON at all" (raw-payloads.ts). */
function isUnreadable(err: unknown): err is PlatformError {
  return err instanceof PlatformError && (err.code === 'MALFORMED_PAYLOAD' || err.code === 'INVALID_TEXT');
}

export class DeviceService implements DeviceApi {
  constructor(private readonly deps: DeviceServiceDeps) {}

  // The brute-force guard sits in the registry, behind its identity cache (one place for every
  // transport); these pass the client through.
  authenticateToken(token: string, client?: DeviceClient): Promise<DeviceIdentity> {
    return this.deps.registry.authenticate({ token }, client);
  }

  authenticateBasic(credentials: BasicCredentials, client?: DeviceClient): Promise<DeviceIdentity> {
    return this.deps.registry.authenticate({ basic: credentials }, client);
  }

  authenticateCertificate(fingerprint: string, client?: DeviceClient): Promise<DeviceIdentity> {
    return this.deps.registry.authenticate({ fingerprint }, client);
  }

  async authenticateCertificateSubject(names: readonly string[]): Promise<DeviceIdentity> {
    for (const name of names) {
      const device = await this.deps.registry.findDeviceByName(DEFAULT_TENANT_ID, name);
      if (device) return this.deps.registry.identityFor(device);
    }
    throw new PlatformError('UNAUTHORIZED', 'no device named by the certificate');
  }

  provision(request: ProvisionRequest, client?: DeviceClient): Promise<ProvisionResponse> {
    return this.deps.registry.provision(request, client);
  }

  openSession(identity: DeviceIdentity, transport: TransportName, handlers: DeviceEventHandlers, options: OpenSessionOptions): DeviceSession {
    return this.deps.sessions.open(identity, transport, handlers, options.persistent);
  }

  // Not `async`: this runs once per device message, and an async function costs a second promise
  // and a suspended frame per call on top of the ingest promise (allocation profile of the
  // ingest bench). Same outcomes: counted once committed, errors mapped by `rejected`.
  publishTelemetry(identity: DeviceIdentity, payload: Buffer, transport: TransportName, contentType?: string): Promise<void> {
    let committed: Promise<void>;
    try {
      this.checkSize(payload);
      if (isOctetStream(contentType)) return this.publishRaw(identity, payload, transport);
      const codec = this.deps.codecs.resolve(identity.codec, contentType);
      let points;
      try {
        points = codec.decodeTelemetry(payload, this.deps.clock.now());
      } catch (err) {
        // Without a content type (MQTT), bytes the codec cannot read may be the decoder's.
        if (contentType === undefined && this.deps.raw && isUnreadable(err) && !isJsonText(payload)) {
          return this.publishRawOr(identity, payload, transport, err);
        }
        throw err;
      }
      committed = this.deps.ingest.ingest(identity, points, transport);
    } catch (err) {
      return Promise.reject(this.rejected(identity, transport, 'telemetry', err));
    }
    return committed.then(
      () => this.deps.metrics.messageIn(transport, 'telemetry'),
      (err: unknown) => {
        throw this.rejected(identity, transport, 'telemetry', err);
      },
    );
  }

  private async publishRaw(identity: DeviceIdentity, payload: Buffer, transport: TransportName): Promise<void> {
    try {
      if (!this.deps.raw) throw new PlatformError('UNSUPPORTED_CONTENT', 'raw payloads are not enabled');
      const points = await this.deps.raw.decode(identity, payload, transport, this.deps.clock.now());
      await this.deps.ingest.ingest(identity, points, transport);
      this.deps.metrics.messageIn(transport, 'telemetry');
    } catch (err) {
      throw this.rejected(identity, transport, 'telemetry', err);
    }
  }

  /** Raw bytes if the profile has a decoder; otherwise the codec's refusal stands. */
  private async publishRawOr(identity: DeviceIdentity, payload: Buffer, transport: TransportName, refusal: PlatformError): Promise<void> {
    const raw = this.deps.raw;
    if (!raw || !(await raw.hasDecoder(identity).catch(() => false))) throw this.rejected(identity, transport, 'telemetry', refusal);
    return this.publishRaw(identity, payload, transport);
  }

  async publishAttributes(identity: DeviceIdentity, payload: Buffer, transport: TransportName, contentType?: string): Promise<void> {
    try {
      this.checkSize(payload);
      const codec = this.deps.codecs.resolve(identity.codec, contentType);
      await this.deps.attributes.set(identity.tenantId, identity.deviceId, 'client', codec.decodeAttributes(payload));
      this.deps.metrics.messageIn(transport, 'attributes');
    } catch (err) {
      throw this.rejected(identity, transport, 'attributes', err);
    }
  }

  async getAttributes(identity: DeviceIdentity, request: AttributeRequest): Promise<AttributeResponse> {
    const bothAll = request.clientKeys === undefined && request.sharedKeys === undefined;
    const response: AttributeResponse = {};
    if (bothAll || request.clientKeys !== undefined) {
      response.client = await this.deps.attributes.values(identity.deviceId, 'client', request.clientKeys);
    }
    if (bothAll || request.sharedKeys !== undefined) {
      response.shared = await this.deps.attributes.values(identity.deviceId, 'shared', request.sharedKeys);
    }
    return response;
  }

  async rpcResponse(identity: DeviceIdentity, requestId: number, payload: Buffer): Promise<void> {
    this.checkSize(payload);
    // Awaited: the device's answer is taken once the bus holds it for the caller waiting on it.
    await this.deps.bus.publish('rpcResponse', subjectFor('rpcResponse', identity.tenantId, identity.deviceId), {
      deviceId: identity.deviceId,
      requestId,
      response: parseLooseJson(payload, this.deps.limits),
      nodeId: this.deps.rpc.nodeId,
    });
  }

  clientRpc(identity: DeviceIdentity, request: ClientRpcRequest): Promise<JsonValue> {
    if (typeof request.method !== 'string' || request.method === '') {
      return Promise.reject(new PlatformError('BAD_REQUEST', 'client-side RPC needs a "method"'));
    }
    return this.deps.rpc.handleClientRpc(identity, request.method, request.params);
  }

  otaChunk(identity: DeviceIdentity, request: OtaChunkRequest): Promise<Buffer> {
    if (!this.deps.ota) return Promise.reject(new PlatformError('PACKAGE_NOT_FOUND', 'OTA is not enabled'));
    return this.deps.ota.chunk(identity, request);
  }

  otaDownload(identity: DeviceIdentity, request: Pick<OtaChunkRequest, 'type' | 'title' | 'version'>): Promise<OtaDownload> {
    if (!this.deps.ota) return Promise.reject(new PlatformError('PACKAGE_NOT_FOUND', 'OTA is not enabled'));
    return this.deps.ota.download(identity, request);
  }

  otaChunkHashes(identity: DeviceIdentity, request: Pick<OtaChunkRequest, 'type' | 'title' | 'version' | 'chunkSize'>): Promise<OtaChunkHashes> {
    if (!this.deps.ota) return Promise.reject(new PlatformError('PACKAGE_NOT_FOUND', 'OTA is not enabled'));
    return this.deps.ota.chunkHashes(identity, request);
  }

  /** Any failure as a PlatformError, logged with the device (device-rejections.ts). */
  private rejected(identity: DeviceIdentity, transport: TransportName, kind: string, err: unknown): PlatformError {
    return rejectedDeviceMessage(this.deps.logger, identity, transport, kind, err);
  }

  private checkSize(payload: Buffer): void {
    if (payload.length > this.deps.maxPayloadBytes) {
      throw new PlatformError('PAYLOAD_TOO_LARGE', `${payload.length} bytes > ${this.deps.maxPayloadBytes}`);
    }
  }
}
