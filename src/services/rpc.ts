/**
 * Server-side RPC (platform → device) and client-side RPC handlers (device → platform).
 * A call is published on the bus for the node holding the device's session (Presence); the reply
 * comes back on the bus to the node that sent it. Request ids come from the store in blocks
 * (services/ids.ts), so two nodes never put the same id on the wire for one device. The durable
 * command outbox for offline devices builds on this.
 */
import { PlatformError } from '../domain/errors.js';
import { subjectFor } from '../domain/subjects.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { DeviceIdentity } from '../domain/device.js';
import type { Bus, Clock, Logger } from '../ports.js';

export interface RpcCall {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly method: string;
  readonly params: JsonValue;
  readonly timeoutMs?: number;
  readonly oneway: boolean;
}

/** Lets a caller learn the request id before the request is published (the command outbox uses it). */
export interface RpcCallHooks {
  /** Called synchronously, before the request is on the bus; delivery and replies carry this id. */
  readonly onRequestId?: (requestId: number) => void;
}

export type ClientRpcHandler = (identity: DeviceIdentity, params: JsonValue | undefined) => Promise<JsonValue> | JsonValue;

interface PendingCall {
  readonly resolve: (response: JsonValue) => void;
  readonly timer: NodeJS.Timeout;
  /** The node the request was routed to (the session holder then); undefined: whichever holds it. */
  toNode: string | undefined;
  /** Publishes the request again, routed to another node. */
  readonly republish: (toNode: string) => void;
}

export interface RpcDeps {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly defaultTimeoutMs: number;
  /** This process's node id (config `node.id`): requests carry it, the reply comes back to it. */
  readonly nodeId: string;
  /** Request ids unique across nodes (IdAllocator). */
  readonly ids: { nextId(): Promise<number> };
  /** A session on any node, or recent activity (Reachability.isOnline). */
  readonly isOnline: (deviceId: string) => Promise<boolean>;
  /** The node holding the device's session, when one does (Presence). */
  readonly holder?: (deviceId: string) => Promise<string | undefined>;
  /**
   * The request as bytes when the device's profile encodes downlinks (services/downlinks.ts);
   * undefined = JSON. Throws MALFORMED_PAYLOAD when the profile's encoder fails: nothing is sent.
   */
  readonly encodeDownlink?: (req: { deviceId: string; method: string; params: JsonValue }) => Promise<Buffer | undefined>;
}

export class RpcService {
  private readonly pending = new Map<string, PendingCall>();
  private readonly clientHandlers = new Map<string, ClientRpcHandler>();
  private readonly unsubscribe: () => void;
  private readonly unsubscribeStatus: () => void;

  constructor(private readonly deps: RpcDeps) {
    this.unsubscribe = deps.bus.subscribe('rpcResponse', 'rpcResponse.>', (msg) => {
      const key = `${msg.deviceId}/${msg.requestId}`;
      const call = this.pending.get(key);
      if (!call) return;
      this.pending.delete(key);
      clearTimeout(call.timer);
      call.resolve(msg.response);
    });
    // A device whose session moved to another node (its node died, it reconnected elsewhere) gets
    // the calls still waiting for it again, routed to the new node: otherwise each would wait its
    // whole timeout for a node that may be gone. At least once: a device may see a request twice.
    this.unsubscribeStatus = deps.bus.subscribe('status', 'status.>', (msg) => {
      if (!msg.online || msg.nodeId === undefined) return;
      for (const [key, call] of this.pending) {
        if (!key.startsWith(`${msg.deviceId}/`) || call.toNode === undefined || call.toNode === msg.nodeId) continue;
        call.toNode = msg.nodeId;
        call.republish(msg.nodeId);
      }
    });
    this.registerClientHandler('getCurrentTime', () => ({ time: deps.clock.now() }));
  }

  /** The node this service runs on: the one a reply it waits for reaches the device through. */
  get nodeId(): string {
    return this.deps.nodeId;
  }

  /** Sends a command; two-way calls resolve with the device's response or reject RPC_TIMEOUT. */
  async call(req: RpcCall, hooks: RpcCallHooks = {}): Promise<JsonValue | undefined> {
    if (!(await this.deps.isOnline(req.deviceId))) throw new PlatformError('DEVICE_OFFLINE');
    const timeoutMs = req.timeoutMs ?? this.deps.defaultTimeoutMs;
    const payload = await this.deps.encodeDownlink?.(req);
    const [requestId, toNode] = await Promise.all([this.deps.ids.nextId(), this.deps.holder?.(req.deviceId)]);
    hooks.onRequestId?.(requestId);
    // Not awaited: the call's outcome is the device's reply or the timeout, not the publish.
    const publish = (to = toNode): void =>
      void this.deps.bus.publish('rpcRequest', subjectFor('rpcRequest', req.tenantId, req.deviceId), {
        deviceId: req.deviceId,
        requestId,
        method: req.method,
        params: req.params,
        oneway: req.oneway,
        expiresAt: this.deps.clock.now() + timeoutMs,
        nodeId: this.deps.nodeId,
        ...(to !== undefined ? { toNode: to } : {}),
        ...(payload !== undefined ? { payload: payload.toString('base64') } : {}),
      }).catch((err: unknown) => this.deps.logger.warn({ err }, 'bus: publishing an RPC request failed (the call times out)'));
    if (req.oneway) {
      publish();
      return undefined;
    }
    return new Promise<JsonValue>((resolve, reject) => {
      const key = `${req.deviceId}/${requestId}`;
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new PlatformError('RPC_TIMEOUT', `${req.method} after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(key, { resolve, timer, toNode, republish: publish });
      publish();
    });
  }

  registerClientHandler(method: string, handler: ClientRpcHandler): void {
    this.clientHandlers.set(method, handler);
  }

  async handleClientRpc(identity: DeviceIdentity, method: string, params: JsonValue | undefined): Promise<JsonValue> {
    const handler = this.clientHandlers.get(method);
    if (!handler) throw new PlatformError('NOT_FOUND', `no handler for client-side RPC "${method}"`);
    return handler(identity, params);
  }

  close(): void {
    this.unsubscribe();
    this.unsubscribeStatus();
    for (const call of this.pending.values()) clearTimeout(call.timer);
    this.pending.clear();
  }
}
