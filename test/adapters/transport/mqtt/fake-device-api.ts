/**
 * An in-memory DeviceApi (our own interface) for the MQTT bridge tests: records calls, lets a test
 * hold a telemetry commit open, and exposes the handlers the bridge registered so tests can push.
 */
import type { OtaChunkRequest, OtaDownload } from '../../../../src/ports/device-api.js';
import type { DeviceIdentity } from '../../../../src/domain/device.js';
import { PlatformError } from '../../../../src/domain/errors.js';
import type { JsonValue } from '../../../../src/domain/telemetry.js';
import type {
  AttributeRequest,
  AttributeResponse,
  BasicCredentials,
  ClientRpcRequest,
  DeviceApi,
  DeviceEventHandlers,
  DeviceSession,
  GatewayEventHandlers,
  ProvisionRequest,
  ProvisionResponse,
} from '../../../../src/ports/device-api.js';
import { fakeOtaChunk, fakeOtaDownload } from '../fake-ota.js';

const identity = (deviceId: string, tenantId: string, name: string, isGateway = false): DeviceIdentity => ({
  deviceId,
  tenantId,
  name,
  profileId: 'profile-1',
  codec: 'json',
  isGateway,
});

export const DEVICES = {
  good: identity('dev-1', 'tenant-1', 'sensor-1'),
  other: identity('dev-2', 'tenant-1', 'sensor-2'),
  /** Same name as `good`, other tenant. */
  foreign: identity('dev-3', 'tenant-2', 'sensor-1'),
  gw: identity('gw-1', 'tenant-1', 'gateway-1', true),
  basic: identity('dev-4', 'tenant-1', 'basic-device'),
};

const TOKENS: Record<string, DeviceIdentity> = {
  good: DEVICES.good,
  other: DEVICES.other,
  foreign: DEVICES.foreign,
  gw: DEVICES.gw,
};

export interface FakeSession {
  readonly identity: DeviceIdentity;
  readonly persistent: boolean;
  handlers: DeviceEventHandlers;
  touches: number;
  closed: boolean;
}

export class FakeDeviceApi implements DeviceApi {
  otaDownload(_identity: DeviceIdentity, request: Pick<OtaChunkRequest, 'type' | 'title' | 'version'>): Promise<OtaDownload> {
    return fakeOtaDownload(request);
  }

  otaChunk(identity: DeviceIdentity, request: OtaChunkRequest): Promise<Buffer> {
    this.record('otaChunk', identity, request);
    return fakeOtaChunk(request);
  }

  readonly calls: { method: string; args: unknown[] }[] = [];
  readonly sessions: FakeSession[] = [];
  readonly gatewaySessions: { identity: DeviceIdentity; handlers: GatewayEventHandlers; closed: boolean }[] = [];
  /** When set, telemetry whose payload equals the key waits for the returned promise. */
  readonly holds = new Map<string, Promise<void>>();

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  called(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  authenticateToken(token: string): Promise<DeviceIdentity> {
    const found = TOKENS[token];
    return found ? Promise.resolve(found) : Promise.reject(new PlatformError('UNAUTHORIZED', 'unknown token'));
  }

  authenticateBasic(c: BasicCredentials): Promise<DeviceIdentity> {
    if (c.clientId === 'cid' && c.username === 'user') {
      return c.password === 'pass' ? Promise.resolve(DEVICES.basic) : Promise.reject(new PlatformError('BAD_CREDENTIALS'));
    }
    return Promise.reject(new PlatformError('UNAUTHORIZED'));
  }

  /** Registered client certificates: lowercase hex SHA-256 fingerprint → device. */
  readonly certificates = new Map<string, DeviceIdentity>();

  authenticateCertificate(fingerprint: string): Promise<DeviceIdentity> {
    this.record('authenticateCertificate', fingerprint);
    const found = this.certificates.get(fingerprint.replace(/:/g, '').toLowerCase());
    return found ? Promise.resolve(found) : Promise.reject(new PlatformError('UNAUTHORIZED', 'unknown certificate'));
  }

  authenticateCertificateSubject(names: readonly string[]): Promise<DeviceIdentity> {
    this.record('authenticateCertificateSubject', names);
    return Promise.reject(new PlatformError('UNAUTHORIZED', 'no device named by the certificate'));
  }

  provision(request: ProvisionRequest): Promise<ProvisionResponse> {
    this.record('provision', request);
    if (request.provisionDeviceSecret !== 'secret') return Promise.reject(new PlatformError('PROVISION_REJECTED'));
    return Promise.resolve({ status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'new-token' });
  }

  openSession(id: DeviceIdentity, _t: string, handlers: DeviceEventHandlers, options: { persistent: boolean }): DeviceSession {
    const s: FakeSession = { identity: id, persistent: options.persistent, handlers, touches: 0, closed: false };
    this.sessions.push(s);
    return {
      identity: id,
      setHandlers: (h) => (s.handlers = h),
      touch: () => void s.touches++,
      close: () => void (s.closed = true),
    };
  }

  async publishTelemetry(id: DeviceIdentity, payload: Buffer, transport: string, contentType?: string): Promise<void> {
    this.record('publishTelemetry', id.deviceId, payload.toString(), transport, contentType);
    const hold = this.holds.get(payload.toString());
    if (hold) await hold;
    if (payload.toString() === 'bad') throw new PlatformError('MALFORMED_PAYLOAD', 'not JSON');
  }

  async publishAttributes(id: DeviceIdentity, payload: Buffer): Promise<void> {
    this.record('publishAttributes', id.deviceId, payload.toString());
  }

  async getAttributes(id: DeviceIdentity, request: AttributeRequest): Promise<AttributeResponse> {
    this.record('getAttributes', id.deviceId, request);
    return { client: { a: 1, b: 'two' }, shared: { c: true } };
  }

  async rpcResponse(id: DeviceIdentity, requestId: number, payload: Buffer): Promise<void> {
    this.record('rpcResponse', id.deviceId, requestId, payload.toString());
  }

  async clientRpc(id: DeviceIdentity, request: ClientRpcRequest): Promise<JsonValue> {
    this.record('clientRpc', id.deviceId, request);
    if (request.method === 'fail') throw new PlatformError('METHOD_NOT_ALLOWED');
    return { time: 1234 };
  }

  async gatewayConnect(gw: DeviceIdentity, deviceName: string, deviceType?: string): Promise<DeviceIdentity> {
    this.record('gatewayConnect', gw.deviceId, deviceName, deviceType);
    return identity(`child-${deviceName}`, gw.tenantId, deviceName);
  }

  async gatewayDisconnect(gw: DeviceIdentity, deviceName: string): Promise<void> {
    this.record('gatewayDisconnect', gw.deviceId, deviceName);
  }

  async gatewayTelemetry(gw: DeviceIdentity, payload: Buffer): Promise<void> {
    this.record('gatewayTelemetry', gw.deviceId, payload.toString());
  }

  async gatewayAttributes(gw: DeviceIdentity, payload: Buffer): Promise<void> {
    this.record('gatewayAttributes', gw.deviceId, payload.toString());
  }

  async gatewayAttributeRequest(gw: DeviceIdentity, payload: Buffer): Promise<JsonValue> {
    this.record('gatewayAttributeRequest', gw.deviceId, payload.toString());
    return { id: 1, device: 'A', value: 42 };
  }

  async gatewayAlarm(gw: DeviceIdentity, payload: Buffer): Promise<void> {
    this.record('gatewayAlarm', gw.deviceId, payload.toString());
  }

  async gatewayRpcResponse(gw: DeviceIdentity, payload: Buffer): Promise<void> {
    this.record('gatewayRpcResponse', gw.deviceId, payload.toString());
  }

  gatewayOtaChunk(gw: DeviceIdentity, deviceName: string, request: OtaChunkRequest): Promise<Buffer> {
    this.record('gatewayOtaChunk', gw.deviceId, deviceName, request);
    return fakeOtaChunk(request);
  }

  openGatewaySession(gw: DeviceIdentity, handlers: GatewayEventHandlers): DeviceSession {
    const s = { identity: gw, handlers, closed: false };
    this.gatewaySessions.push(s);
    return { identity: gw, setHandlers: () => undefined, touch: () => undefined, close: () => void (s.closed = true) };
  }

  /** The live (not closed) session of a device. */
  session(deviceId: string): FakeSession {
    const s = [...this.sessions].reverse().find((x) => x.identity.deviceId === deviceId && !x.closed);
    if (!s) throw new Error(`no open session for ${deviceId}`);
    return s;
  }
}
