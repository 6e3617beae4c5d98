/**
 * The sessions this node holds, and delivery of what the platform pushes to devices: shared
 * attribute updates and RPC requests arrive on the bus and go to the device's own session, or
 * to the session of the gateway it sits behind. An RPC for a device that is online but not
 * listening yet (an HTTP device between two long polls) waits here until it listens or expires.
 *
 * Every session is recorded in Presence under this node's id, so other nodes know where a
 * device is: an RPC for a device whose session another node holds is left to that node's hub
 * (not queued here), and the session's epoch goes with its status writes (StatusService).
 */
import type { DeviceIdentity, OfflineReason, TransportName } from '../domain/device.js';
import { subjectFor } from '../domain/subjects.js';
import type { Bus, BusEvents, Clock, Logger, Presence } from '../ports.js';
import type {
  DeviceEventHandlers,
  DeviceSession,
  GatewayEventHandlers,
  RpcRequestToDevice,
  SharedAttributeUpdate,
} from '../ports/device-api.js';
import type { StatusService } from './status.js';

interface QueuedRpc {
  readonly request: RpcRequestToDevice;
  readonly expiresAt: number;
}

export interface ChildLocation {
  readonly gatewayId: string;
  readonly name: string;
}

export interface SessionHubDeps {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly status: StatusService;
  /** Which gateway a device sits behind, if any (looked up when not cached). */
  readonly locateChild: (deviceId: string) => Promise<ChildLocation | undefined>;
  /**
   * Device twin hook: the shared attributes a device missed while it was away, asked for when a
   * persistent session (MQTT) starts listening to shared attributes. Undefined = nothing missed.
   */
  readonly catchUpShared?: (identity: DeviceIdentity) => Promise<SharedAttributeUpdate | undefined>;
  /** Which node holds which device's session, shared by every node. */
  readonly presence: Presence;
  /** This process's node id (config `node.id`). */
  readonly nodeId: string;
}

/** This node's sessions of one device, and its Presence entry. */
interface LocalPresence {
  sessions: number;
  /** The epoch of the newest session (resolved once Presence answered). */
  epoch: Promise<number | undefined>;
  /** Presence calls of this device, in call order. */
  tail: Promise<unknown>;
}

class Session implements DeviceSession {
  closed = false;
  /** Keys pushed live while a twin catch-up was being read: the catch-up must not send them stale. */
  pushedDuringCatchUp: Set<string> | undefined;

  constructor(
    private readonly hub: SessionHub,
    readonly identity: DeviceIdentity,
    readonly transport: TransportName,
    public handlers: DeviceEventHandlers & GatewayEventHandlers,
    readonly persistent: boolean,
  ) {}

  setHandlers(handlers: DeviceEventHandlers & GatewayEventHandlers): void {
    const startsListening = handlers.onSharedAttributes !== undefined && this.handlers.onSharedAttributes === undefined;
    this.handlers = handlers;
    if (startsListening) this.hub.catchUpShared(this);
    if (handlers.onRpcRequest || handlers.onChildRpcRequest) this.hub.flushQueuedRpc(this.identity.deviceId);
  }

  touch(): void {
    this.hub.touch(this);
  }

  close(reason?: OfflineReason): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.remove(this, reason);
  }
}

export class SessionHub {
  private readonly byDevice = new Map<string, Set<Session>>();
  private readonly gateways = new Map<string, Set<Session>>();
  private readonly queuedRpc = new Map<string, QueuedRpc[]>();
  private readonly local = new Map<string, LocalPresence>();
  private readonly unsubscribes: (() => void)[];

  constructor(private readonly deps: SessionHubDeps) {
    this.unsubscribes = [
      deps.bus.subscribe('attributes', 'attributes.>', (msg) => {
        if (msg.scope === 'shared') void this.deliverShared(msg);
      }),
      deps.bus.subscribe('rpcRequest', 'rpcRequest.>', (msg) => void this.deliverRpc(msg)),
    ];
  }

  open(identity: DeviceIdentity, transport: TransportName, handlers: DeviceEventHandlers, persistent: boolean): DeviceSession {
    const session = new Session(this, identity, transport, handlers, persistent);
    this.add(this.byDevice, identity.deviceId, session);
    if (persistent) this.deps.status.connected(identity.tenantId, identity.deviceId, transport);
    else this.deps.status.activity(identity.tenantId, identity.deviceId, transport);
    this.presenceOpened(identity, transport);
    if (handlers.onRpcRequest) this.flushQueuedRpc(identity.deviceId);
    if (handlers.onSharedAttributes) this.catchUpShared(session);
    return session;
  }

  openGateway(identity: DeviceIdentity, handlers: GatewayEventHandlers): DeviceSession {
    const session = new Session(this, identity, 'mqtt', handlers, false);
    this.add(this.gateways, identity.deviceId, session);
    return session;
  }

  touch(session: Session): void {
    this.deps.status.activity(session.identity.tenantId, session.identity.deviceId, session.transport);
  }

  remove(session: Session, reason?: OfflineReason): void {
    const id = session.identity.deviceId;
    if (this.byDevice.get(id)?.delete(session)) {
      if (this.byDevice.get(id)?.size === 0) this.byDevice.delete(id);
      if (session.persistent) this.deps.status.disconnected(session.identity.tenantId, id, reason);
      this.presenceClosed(id);
    }
    if (this.gateways.get(id)?.delete(session) && this.gateways.get(id)?.size === 0) this.gateways.delete(id);
  }

  /** Delivers RPCs that waited for this device (or for its children, if it is a gateway). */
  flushQueuedRpc(deviceId: string): void {
    for (const [queuedFor, list] of this.queuedRpc) {
      if (queuedFor !== deviceId && !this.gateways.has(deviceId)) continue;
      this.queuedRpc.delete(queuedFor);
      for (const item of list) {
        // Locating a gateway's child reads the store, which may fail: log it, the RPC times out.
        const { id, method, params, payload } = item.request;
        this.deliverRpc({ deviceId: queuedFor, requestId: id, method, params, oneway: false, expiresAt: item.expiresAt, ...(payload ? { payload: payload.toString('base64') } : {}) })
          .catch((err: unknown) => this.deps.logger.warn({ err, deviceId: queuedFor }, 'queued RPC delivery failed'));
      }
    }
  }

  /** Pushes what a reconnecting persistent session missed (see SessionHubDeps.catchUpShared). */
  catchUpShared(session: Session): void {
    const hook = this.deps.catchUpShared;
    if (!hook || !session.persistent || session.pushedDuringCatchUp) return;
    const pushed = (session.pushedDuringCatchUp = new Set());
    hook(session.identity)
      .then((update) => {
        session.pushedDuringCatchUp = undefined;
        if (!update || session.closed) return;
        const values = Object.fromEntries(Object.entries(update.values).filter(([k]) => !pushed.has(k)));
        const deleted = update.deleted?.filter((k) => !pushed.has(k));
        if (Object.keys(values).length === 0 && !deleted?.length) return;
        this.safely(() => session.handlers.onSharedAttributes?.(deleted?.length ? { values, deleted } : { values }));
      })
      .catch((err: unknown) => {
        session.pushedDuringCatchUp = undefined;
        this.deps.logger.warn({ err, deviceId: session.identity.deviceId }, 'shared attribute catch-up failed');
      });
  }

  close(): void {
    for (const unsubscribe of this.unsubscribes) unsubscribe();
  }

  /** Resolves once every Presence call made so far has settled (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.local.values()].map((p) => p.tail));
  }

  /** A newer session of the device on this node: a new epoch, which its status writes carry. */
  private presenceOpened(identity: DeviceIdentity, transport: TransportName): void {
    const { deviceId, tenantId } = identity;
    let p = this.local.get(deviceId);
    if (!p) this.local.set(deviceId, (p = { sessions: 0, epoch: Promise.resolve(undefined), tail: Promise.resolve() }));
    p.sessions++;
    const entry = p.tail.then(() => this.deps.presence.connect({ deviceId, tenantId, nodeId: this.deps.nodeId, transport, since: this.deps.clock.now() }));
    p.epoch = entry.then(
      (e) => {
        this.deps.status.sessionEpoch(deviceId, this.deps.nodeId, e.epoch);
        return e.epoch;
      },
      (err: unknown) => {
        this.deps.logger.warn({ err, deviceId }, 'recording the session in presence failed');
        return undefined;
      },
    );
    p.tail = p.epoch;
  }

  /** The device's last session on this node ended: its Presence entry goes, if still that epoch. */
  private presenceClosed(deviceId: string): void {
    const p = this.local.get(deviceId);
    if (!p || --p.sessions > 0) return;
    const epoch = p.epoch;
    const tail: Promise<unknown> = p.tail
      .then(async () => {
        const e = await epoch;
        if (e !== undefined) await this.deps.presence.disconnect(deviceId, this.deps.nodeId, e);
      })
      .catch((err: unknown) => this.deps.logger.warn({ err, deviceId }, 'removing the session from presence failed'))
      .finally(() => {
        // Forgotten unless a session opened meanwhile (it chained after this one).
        if (this.local.get(deviceId) === p && p.tail === tail) this.local.delete(deviceId);
      });
    p.tail = tail;
  }

  private add(map: Map<string, Set<Session>>, key: string, session: Session): void {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(session);
  }

  private async deliverShared(msg: BusEvents['attributes']): Promise<void> {
    const update: SharedAttributeUpdate = msg.deleted ? { values: msg.values, deleted: msg.deleted } : { values: msg.values };
    for (const s of this.byDevice.get(msg.deviceId) ?? []) {
      for (const key of [...Object.keys(msg.values), ...(msg.deleted ?? [])]) s.pushedDuringCatchUp?.add(key);
      this.safely(() => s.handlers.onSharedAttributes?.(update));
    }
    const child = await this.deps.locateChild(msg.deviceId);
    if (!child) return;
    for (const s of this.gateways.get(child.gatewayId) ?? []) this.safely(() => s.handlers.onChildSharedAttributes?.(child.name, update));
  }

  private async deliverRpc(msg: BusEvents['rpcRequest']): Promise<void> {
    if (msg.expiresAt <= this.deps.clock.now()) return;
    const request: RpcRequestToDevice = { id: msg.requestId, method: msg.method, params: msg.params, ...(msg.payload !== undefined ? { payload: Buffer.from(msg.payload, 'base64') } : {}) };
    const own = [...(this.byDevice.get(msg.deviceId) ?? [])].reverse().find((s) => s.handlers.onRpcRequest);
    if (own) {
      if (this.safely(() => own.handlers.onRpcRequest?.(request))) this.delivered(own, msg);
      return;
    }
    const child = await this.deps.locateChild(msg.deviceId);
    const viaGateway = child ? [...(this.gateways.get(child.gatewayId) ?? [])].find((s) => s.handlers.onChildRpcRequest) : undefined;
    if (child && viaGateway) {
      if (this.safely(() => viaGateway.handlers.onChildRpcRequest?.(child.name, request))) this.delivered(viaGateway, msg);
      return;
    }
    // Sent to the node Presence named then: only that one keeps it waiting, not every node.
    if (msg.toNode !== undefined && msg.toNode !== this.deps.nodeId) return;
    // Sent here by name: queued here (Presence may not have this node's new session yet: a request
    // routed again after the device moved here arrives within milliseconds of its CONNECT).
    // Otherwise, held by another node now (the device, or its gateway): that node's hub delivers it.
    const holder = msg.toNode === undefined ? ((await this.deps.presence.lookup(msg.deviceId)) ?? (child ? await this.deps.presence.lookup(child.gatewayId) : undefined)) : undefined;
    if (holder && holder.nodeId !== this.deps.nodeId) return;
    this.queue(msg.deviceId, { request, expiresAt: msg.expiresAt });
  }

  private queue(deviceId: string, item: QueuedRpc): void {
    const now = this.deps.clock.now();
    const list = (this.queuedRpc.get(deviceId) ?? []).filter((q) => q.expiresAt > now);
    list.push(item);
    this.queuedRpc.set(deviceId, list);
  }

  /**
   * Tells the command outbox the request reached a session's transport (MQTT PUBLISH written, CoAP
   * notification sent, HTTP poll answered). Transports report no protocol-level acknowledgement
   * of what they push, so this is the closest "delivered" the platform can observe.
   */
  private delivered(session: Session, msg: BusEvents['rpcRequest']): void {
    // Fire and forget: DELIVERED is advisory (a reply or the timeout settles the command either way).
    void this.deps.bus.publish('rpcDelivered', subjectFor('rpcDelivered', session.identity.tenantId, msg.deviceId), {
      deviceId: msg.deviceId,
      requestId: msg.requestId,
      nodeId: this.deps.nodeId,
    }).catch((err: unknown) => this.deps.logger.warn({ err }, 'bus: publishing rpcDelivered failed (advisory; the reply or the timeout settles the command)'));
  }

  /** True when the handler ran without throwing. */
  private safely(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      this.deps.logger.error({ err }, 'session handler failed');
      return false;
    }
  }
}
