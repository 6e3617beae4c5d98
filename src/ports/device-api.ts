/**
 * What every device-facing transport may ask of the platform. MQTT, CoAP and HTTP adapters turn
 * wire bytes into calls on this interface and turn its answers and events back into wire bytes;
 * they never reach storage, rules or the bus themselves.
 *
 * All methods throw PlatformError; adapters map `err.spec` to their protocol's answer.
 * Every promise that stores data resolves only after the data is committed.
 */
import type { DeviceIdentity, OfflineReason, TransportName } from '../domain/device.js';
import type { OtaType } from '../domain/ota.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { ErrorCode } from '../domain/errors.js';

export interface BasicCredentials {
  readonly clientId?: string;
  readonly username?: string;
  readonly password?: string;
}

/** ThingsBoard's provision request body (device API "provision" call). */
export interface ProvisionRequest {
  readonly deviceName?: string;
  readonly provisionDeviceKey: string;
  readonly provisionDeviceSecret: string;
  /** Optional: the device proposes its own token / basic credentials. */
  readonly credentialsType?: 'ACCESS_TOKEN' | 'MQTT_BASIC' | 'X509_CERTIFICATE';
  readonly token?: string;
  readonly clientId?: string;
  readonly username?: string;
  readonly password?: string;
  readonly hash?: string;
}

/** The provision response body, as devices expect it. */
export interface ProvisionResponse {
  readonly status: 'SUCCESS' | 'NOT_FOUND' | 'FAILURE';
  readonly credentialsType?: string;
  readonly credentialsValue?: JsonValue;
  readonly errorMsg?: string;
}

export interface AttributeRequest {
  /** Both undefined = every key of both scopes; only one given = nothing of the other scope; empty = none. */
  readonly clientKeys?: readonly string[];
  readonly sharedKeys?: readonly string[];
}

export interface AttributeResponse {
  client?: Record<string, JsonValue>;
  shared?: Record<string, JsonValue>;
}

export interface SharedAttributeUpdate {
  readonly values: Record<string, JsonValue>;
  readonly deleted?: readonly string[];
}

/** A server-side RPC as the device receives it. */
export interface RpcRequestToDevice {
  readonly id: number;
  readonly method: string;
  readonly params: JsonValue;
  /**
   * Bytes the device profile's `encodeDownlink` made of `{method, params}`: a transport that can
   * carry raw bytes sends these instead of the JSON body (docs/DEVICE-API.md "Downlinks").
   */
  readonly payload?: Buffer;
}

/** A client-side RPC the device sends to the platform. */
export interface ClientRpcRequest {
  readonly method: string;
  readonly params?: JsonValue;
}

/**
 * A chunk of the firmware or software assigned to the device (ThingsBoard's OTA device API:
 * MQTT `v2/fw/request/{id}/chunk/{n}` with the chunk size as payload, HTTP and CoAP
 * `.../firmware?title&version&size&chunk`).
 */
/** The SHA-256 of every chunk of a package at one chunk size (services/ota-chunk-hashes.ts). */
export interface OtaChunkHashes {
  readonly packageId: string;
  readonly size: number;
  readonly checksum: string;
  readonly checksumAlgorithm: 'SHA256';
  readonly chunkSize: number;
  /** SHA-256 (hex) of chunk 0, 1, …; the last chunk may be shorter. */
  readonly chunks: readonly string[];
}

export interface OtaChunkRequest {
  readonly type: OtaType;
  /** When given, must be the assigned package's (HTTP and CoAP name them; MQTT does not). */
  readonly title?: string;
  readonly version?: string;
  /** Bytes per chunk; 0 = the whole package. */
  readonly chunkSize: number;
  /** Chunk index from 0; a chunk past the end is empty. */
  readonly chunk: number;
}

/** The whole assigned package, streamed (HTTP downloads without a chunk size). */
export interface OtaDownload {
  readonly size: number;
  /** Hex SHA-256 of the bytes. */
  readonly checksum: string;
  readonly body: AsyncIterable<Buffer>;
}

/** Callbacks a transport registers to receive what the platform pushes to a device. */
export interface DeviceEventHandlers {
  onSharedAttributes?: (update: SharedAttributeUpdate) => void;
  onRpcRequest?: (request: RpcRequestToDevice) => void;
}

/** A connection (MQTT), an observation (CoAP) or a long poll (HTTP) of one device. */
export interface DeviceSession {
  readonly identity: DeviceIdentity;
  /** Replaces the handlers, e.g. when an MQTT client subscribes to RPC after connecting. */
  setHandlers(handlers: DeviceEventHandlers): void;
  /** Marks activity without data (PINGREQ, CoAP ping). Cheap; call freely. */
  touch(): void;
  /** Ends the session; `reason` is shown while the device stays offline (default `disconnected`). */
  close(reason?: OfflineReason): void;
}

export interface OpenSessionOptions {
  /** Whether this session counts as the device being online (true for MQTT connections). */
  readonly persistent: boolean;
}

/**
 * Who presents a credential: the transport and the peer's IP address. Failed attempts count
 * against the address (brute-force lockout, services/device-auth-guard.ts); absent in-process.
 */
export interface DeviceClient {
  readonly transport: TransportName;
  readonly address?: string;
}

export interface DeviceApi {
  /** These four throw RATE_LIMITED (with retryAfterSeconds) while the client or credential is locked out. */
  authenticateToken(token: string, client?: DeviceClient): Promise<DeviceIdentity>;
  authenticateBasic(credentials: BasicCredentials, client?: DeviceClient): Promise<DeviceIdentity>;
  authenticateCertificate(fingerprint: string, client?: DeviceClient): Promise<DeviceIdentity>;
  /**
   * A client certificate already verified against the device CA: the first of its subject
   * names (CN, SANs) that names a device of the tenant. UNAUTHORIZED when none does.
   */
  authenticateCertificateSubject(names: readonly string[]): Promise<DeviceIdentity>;
  provision(request: ProvisionRequest, client?: DeviceClient): Promise<ProvisionResponse>;

  openSession(identity: DeviceIdentity, transport: TransportName, handlers: DeviceEventHandlers, options: OpenSessionOptions): DeviceSession;

  /** Decodes with the device's profile codec (or `contentType` when given), validates and stores. */
  publishTelemetry(identity: DeviceIdentity, payload: Buffer, transport: TransportName, contentType?: string): Promise<void>;
  publishAttributes(identity: DeviceIdentity, payload: Buffer, transport: TransportName, contentType?: string): Promise<void>;
  getAttributes(identity: DeviceIdentity, request: AttributeRequest): Promise<AttributeResponse>;
  rpcResponse(identity: DeviceIdentity, requestId: number, payload: Buffer): Promise<void>;
  clientRpc(identity: DeviceIdentity, request: ClientRpcRequest): Promise<JsonValue>;
  /** Bytes of the package assigned to the device; PACKAGE_NOT_FOUND when none (or not the one named). */
  otaChunk(identity: DeviceIdentity, request: OtaChunkRequest): Promise<Buffer>;
  /** The whole package assigned to the device, streamed (never held in memory); checks as otaChunk. */
  otaDownload(identity: DeviceIdentity, request: Pick<OtaChunkRequest, 'type' | 'title' | 'version'>): Promise<OtaDownload>;
  /** The per-chunk SHA-256 manifest of the assigned package (small devices check chunk by chunk); checks as otaChunk. */
  otaChunkHashes?(identity: DeviceIdentity, request: Pick<OtaChunkRequest, 'type' | 'title' | 'version' | 'chunkSize'>): Promise<OtaChunkHashes>;
}

/**
 * ThingsBoard's gateway API (v1/gateway/*): a gateway reports for child devices by name. A peer
 * of the DeviceApi (services/gateway.ts), not part of it: only MQTT transports speak it.
 */
export interface GatewayApi {
  gatewayConnect(gateway: DeviceIdentity, deviceName: string, deviceType?: string): Promise<DeviceIdentity>;
  gatewayDisconnect(gateway: DeviceIdentity, deviceName: string): Promise<void>;
  /** `{"Device A":[{"ts":…,"values":{…}}], …}` or `{"Device A":{…}}`. */
  gatewayTelemetry(gateway: DeviceIdentity, payload: Buffer): Promise<void>;
  /** `{"Device A":{"attr":value}, …}` */
  gatewayAttributes(gateway: DeviceIdentity, payload: Buffer): Promise<void>;
  /** `{"id":1,"device":"Device A","client":true,"key":"a"}` or `"keys":[…]` → response body. */
  gatewayAttributeRequest(gateway: DeviceIdentity, payload: Buffer): Promise<JsonValue>;
  /** An edge alarm's lifecycle for one of the gateway's children (services/gateway-alarm.ts). */
  gatewayAlarm(gateway: DeviceIdentity, payload: Buffer): Promise<void>;
  /** `{"device":"Device A","id":1,"data":{…}}` — a child's answer to a server-side RPC. */
  gatewayRpcResponse(gateway: DeviceIdentity, payload: Buffer): Promise<void>;
  /**
   * A chunk of the package assigned to one of the gateway's own existing children (the edge's
   * firmware relay); FORBIDDEN for any other device's name, DEVICE_NOT_FOUND for an unknown one.
   */
  gatewayOtaChunk(gateway: DeviceIdentity, deviceName: string, request: OtaChunkRequest): Promise<Buffer>;
  /** Shared-attribute updates and RPC requests for the gateway's children, with the child's name. */
  openGatewaySession(gateway: DeviceIdentity, handlers: GatewayEventHandlers): DeviceSession;
}

export interface GatewayEventHandlers {
  onChildSharedAttributes?: (deviceName: string, update: SharedAttributeUpdate) => void;
  onChildRpcRequest?: (deviceName: string, request: RpcRequestToDevice) => void;
}

/** Counters transports report; rendered at /metrics. */
export interface TransportMetrics {
  messageIn(transport: TransportName | string, kind: string): void;
  messageOut(transport: TransportName | string, kind: string): void;
  /** `reason` is a code of the error catalogue: one label vocabulary across transports. */
  reject(transport: TransportName | string, reason: ErrorCode): void;
  connections(transport: TransportName | string, delta: number): void;
}

/** Everything the platform counts; the Prometheus adapter implements it. */
export interface PlatformMetrics extends TransportMetrics {
  /** One group commit of `rows` rows that took `seconds`. */
  storeCommit(rows: number, seconds: number): void;
  /** A raw payload the profile's decoder refused (error, time or memory limit). */
  decoderFailure(transport: string): void;
}

/** For tests and tools that do not export metrics. */
export const noopMetrics: PlatformMetrics = {
  messageIn: () => undefined,
  messageOut: () => undefined,
  reject: () => undefined,
  connections: () => undefined,
  storeCommit: () => undefined,
  decoderFailure: () => undefined,
};
