/**
 * An in-test DeviceApi for the CoAP and HTTP transport tests: token "good" is a device, calls
 * are recorded, publishTelemetry commits after `commitDelayMs` (so tests can prove the answer
 * waits for it), and tests push shared-attribute updates and RPC requests through the handlers
 * of open sessions. RPCs for a device with no listening session are queued and flushed,
 * synchronously, when one opens — as the platform's session hub does.
 */
import type { OtaChunkRequest, OtaDownload } from '../../../../src/ports/device-api.js';
import type { DeviceIdentity, TransportName } from '../../../../src/domain/device.js';
import { PlatformError } from '../../../../src/domain/errors.js';
import type { JsonValue } from '../../../../src/domain/telemetry.js';
import type { Logger } from '../../../../src/ports.js';
import type {
  AttributeRequest,
  AttributeResponse,
  ClientRpcRequest,
  DeviceApi,
  DeviceEventHandlers,
  DeviceSession,
  OpenSessionOptions,
  ProvisionRequest,
  ProvisionResponse,
  RpcRequestToDevice,
  SharedAttributeUpdate,
  TransportMetrics,
} from '../../../../src/ports/device-api.js';
import { fakeOtaChunk, fakeOtaDownload } from '../fake-ota.js';

export const GOOD_TOKEN = 'good';

export const IDENTITY: DeviceIdentity = {
  deviceId: 'dev-1',
  tenantId: 'tenant-1',
  name: 'Device 1',
  profileId: 'profile-1',
  codec: 'json',
  isGateway: false,
};

export interface Published {
  readonly kind: 'telemetry' | 'attributes';
  readonly body: string;
  readonly transport: TransportName;
  readonly contentType: string | undefined;
  readonly committedAt: number;
}

export class FakeSession implements DeviceSession {
  closed = false;
  touches = 0;
  constructor(
    readonly identity: DeviceIdentity,
    readonly transport: TransportName,
    public handlers: DeviceEventHandlers,
    readonly options: OpenSessionOptions,
  ) {}
  setHandlers(handlers: DeviceEventHandlers): void {
    this.handlers = handlers;
  }
  touch(): void {
    this.touches++;
  }
  close(): void {
    this.closed = true;
  }
}

function notImplemented(): never {
  throw new PlatformError('INTERNAL', 'not part of this fake');
}

export class FakeDeviceApi implements DeviceApi {
  otaDownload(_identity: DeviceIdentity, request: Pick<OtaChunkRequest, 'type' | 'title' | 'version'>): Promise<OtaDownload> {
    return fakeOtaDownload(request);
  }

  /** Chunk requests that reached the DeviceApi. */
  otaChunkCalls = 0;

  otaChunk(_identity: DeviceIdentity, request: OtaChunkRequest): Promise<Buffer> {
    this.otaChunkCalls++;
    return fakeOtaChunk(request);
  }

  commitDelayMs = 100;
  readonly published: Published[] = [];
  readonly sessions: FakeSession[] = [];
  readonly rpcResponses: { id: number; body: string }[] = [];
  readonly queuedRpc: RpcRequestToDevice[] = [];
  readonly provisions: ProvisionRequest[] = [];
  client: Record<string, JsonValue> = { fw: '1.0', model: 'T1' };
  shared: Record<string, JsonValue> = { interval: 30, mode: 'eco' };

  async authenticateToken(token: string): Promise<DeviceIdentity> {
    await Promise.resolve();
    if (token === GOOD_TOKEN) return IDENTITY;
    throw new PlatformError('UNAUTHORIZED', 'unknown access token');
  }
  authenticateBasic(): Promise<DeviceIdentity> {
    return Promise.reject(new PlatformError('BAD_CREDENTIALS'));
  }
  authenticateCertificate(): Promise<DeviceIdentity> {
    return Promise.reject(new PlatformError('UNAUTHORIZED'));
  }

  authenticateCertificateSubject(): Promise<DeviceIdentity> {
    return Promise.reject(new PlatformError('UNAUTHORIZED'));
  }

  async provision(request: ProvisionRequest): Promise<ProvisionResponse> {
    this.provisions.push(request);
    if (request.provisionDeviceKey !== 'pk' || request.provisionDeviceSecret !== 'ps') {
      return { status: 'NOT_FOUND', errorMsg: 'Failed to find provision profile' };
    }
    return { status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'new-token' };
  }

  openSession(identity: DeviceIdentity, transport: TransportName, handlers: DeviceEventHandlers, options: OpenSessionOptions): DeviceSession {
    const session = new FakeSession(identity, transport, handlers, options);
    this.sessions.push(session);
    if (handlers.onRpcRequest) for (const rpc of this.queuedRpc.splice(0)) handlers.onRpcRequest(rpc);
    return session;
  }

  openSessions(): FakeSession[] {
    return this.sessions.filter((s) => !s.closed);
  }

  /** A shared-attribute change, to every open session that listens for them. */
  emitShared(update: SharedAttributeUpdate): number {
    Object.assign(this.shared, update.values);
    const targets = this.openSessions().filter((s) => s.handlers.onSharedAttributes);
    for (const s of targets) s.handlers.onSharedAttributes?.(update);
    return targets.length;
  }

  /** A server-side RPC, to the newest listening session, else queued. */
  emitRpc(request: RpcRequestToDevice): boolean {
    const target = this.openSessions().reverse().find((s) => s.handlers.onRpcRequest);
    if (!target) {
      this.queuedRpc.push(request);
      return false;
    }
    target.handlers.onRpcRequest?.(request);
    return true;
  }

  private async store(kind: Published['kind'], payload: Buffer, transport: TransportName, contentType?: string): Promise<void> {
    const body = payload.toString('utf8');
    try {
      JSON.parse(body);
    } catch {
      throw new PlatformError('MALFORMED_PAYLOAD', 'not JSON');
    }
    await new Promise((resolve) => setTimeout(resolve, this.commitDelayMs));
    this.published.push({ kind, body, transport, contentType, committedAt: Date.now() });
  }

  publishTelemetry(_identity: DeviceIdentity, payload: Buffer, transport: TransportName, contentType?: string): Promise<void> {
    return this.store('telemetry', payload, transport, contentType);
  }
  publishAttributes(_identity: DeviceIdentity, payload: Buffer, transport: TransportName, contentType?: string): Promise<void> {
    return this.store('attributes', payload, transport, contentType);
  }

  async getAttributes(_identity: DeviceIdentity, request: AttributeRequest): Promise<AttributeResponse> {
    const pick = (all: Record<string, JsonValue>, keys?: readonly string[]): Record<string, JsonValue> =>
      Object.fromEntries(Object.entries(all).filter(([k]) => keys === undefined || keys.includes(k)));
    const bothAll = request.clientKeys === undefined && request.sharedKeys === undefined;
    const out: AttributeResponse = {};
    if (bothAll || request.clientKeys !== undefined) out.client = pick(this.client, request.clientKeys);
    if (bothAll || request.sharedKeys !== undefined) out.shared = pick(this.shared, request.sharedKeys);
    return out;
  }

  async rpcResponse(_identity: DeviceIdentity, requestId: number, payload: Buffer): Promise<void> {
    this.rpcResponses.push({ id: requestId, body: payload.toString('utf8') });
  }

  async clientRpc(_identity: DeviceIdentity, request: ClientRpcRequest): Promise<JsonValue> {
    if (request.method === 'getTime') return { time: 1_700_000_000_000, echo: request.params ?? null };
    throw new PlatformError('NOT_FOUND', `no handler for client-side RPC "${request.method}"`);
  }

  gatewayConnect = notImplemented;
  gatewayDisconnect = notImplemented;
  gatewayTelemetry = notImplemented;
  gatewayAttributes = notImplemented;
  gatewayAttributeRequest = notImplemented;
  gatewayRpcResponse = notImplemented;
  openGatewaySession = notImplemented;
}

export interface LogRecord {
  readonly level: string;
  readonly obj: object;
  readonly msg: string | undefined;
}

/** A Logger that keeps what it is given. */
export function recordingLogger(records: LogRecord[] = [], bindings: object = {}): Logger & { records: LogRecord[] } {
  const at =
    (level: string) =>
    (obj: object, msg?: string): void => {
      records.push({ level, obj: { ...bindings, ...obj }, msg });
    };
  return {
    records,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more: object) => recordingLogger(records, { ...bindings, ...more }),
  };
}

export interface CountingMetrics extends TransportMetrics {
  readonly rejects: string[];
  readonly ins: string[];
  readonly outs: string[];
  /** Sum of connection deltas: open observations / long polls. */
  open: number;
}

export function countingMetrics(): CountingMetrics {
  const m: CountingMetrics = {
    rejects: [],
    ins: [],
    outs: [],
    open: 0,
    messageIn: (t, kind) => void m.ins.push(`${t}:${kind}`),
    messageOut: (t, kind) => void m.outs.push(`${t}:${kind}`),
    reject: (t, reason) => void m.rejects.push(`${t}:${reason}`),
    connections: (_t, delta) => {
      m.open += delta;
    },
  };
  return m;
}

export async function waitFor(check: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
