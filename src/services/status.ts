/**
 * Device connectivity: which devices have a live session, when each was last heard from.
 * Kept in memory (activity changes on every message) and written to the store in batches.
 * A device without a session still counts as online while its last activity is within the
 * inactivity timeout — HTTP and CoAP devices have no connection to watch. MQTT devices and
 * children behind a gateway do not: a child is online exactly while its gateway holds a session
 * for it (GatewayService), so children go offline with their gateway, not minutes later.
 * An offline device carries the reason when it is known (`offlineReason`).
 *
 * Writes carry the epoch of the device's newest session on this node (Presence, set by the
 * SessionHub), and the store keeps the session fields of the newest epoch (StatusStore), so a node
 * whose session is stale cannot mark a device offline that another node has since connected.
 */
import type { DeviceStatus, OfflineReason, TransportName } from '../domain/device.js';
import { subjectFor } from '../domain/subjects.js';
import type { Bus, Clock, Logger, Presence, StatusStore } from '../ports.js';

interface LiveStatus {
  tenantId: string;
  sessions: number;
  lastActivity?: number;
  lastConnect?: number;
  lastDisconnect?: number;
  transport?: TransportName;
  /** The newest session's epoch and node (SessionHub → sessionEpoch); 0 / absent before one. */
  epoch: number;
  nodeId?: string;
  /** Why the last session ended; cleared by the next one. */
  offlineReason?: OfflineReason;
}

/** Transports whose devices count as online by recent activity alone (no connection to watch). */
function onlineByActivity(transport: TransportName | undefined): boolean {
  return transport !== 'mqtt' && transport !== 'gateway';
}

export interface StatusDeps {
  readonly store: StatusStore;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly inactivityTimeoutMs: number;
  readonly flushIntervalMs: number;
  /** Sessions of every node: a device this node sees offline may be connected to another. */
  readonly presence?: Presence;
  /** The gateway a device sits behind, if any: an offline child whose gateway is offline shows `gateway_offline`. */
  readonly gatewayOf?: (deviceId: string) => Promise<string | undefined>;
  /**
   * This node (config `node.id`): a session that opens here is announced with it at once, so a node
   * waiting for the device elsewhere (an RPC routed to a node that died) learns where it went
   * without waiting for Presence's epoch (sessionEpoch).
   */
  readonly nodeId?: string;
}

export class StatusService {
  private readonly live = new Map<string, LiveStatus>();
  private readonly dirty = new Set<string>();
  /** Reads of an earlier run's status for entries created in this run (see entry()). */
  private readonly seeding = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: StatusDeps) {}

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.deps.flushIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const now = this.deps.clock.now();
    for (const [id, s] of this.live) {
      if (s.sessions > 0) {
        s.sessions = 0;
        s.lastDisconnect = now;
        this.dirty.add(id);
      }
    }
    await this.flush();
  }

  connected(tenantId: string, deviceId: string, transport: TransportName): void {
    const s = this.entry(tenantId, deviceId);
    const now = this.deps.clock.now();
    s.sessions++;
    s.lastConnect = now;
    s.lastActivity = now;
    s.transport = transport;
    s.offlineReason = undefined;
    if (this.deps.nodeId !== undefined) s.nodeId = this.deps.nodeId;
    this.dirty.add(deviceId);
    if (s.sessions === 1) this.announce(deviceId, s);
  }

  disconnected(tenantId: string, deviceId: string, reason: OfflineReason = 'disconnected'): void {
    const s = this.entry(tenantId, deviceId);
    s.sessions = Math.max(0, s.sessions - 1);
    s.lastDisconnect = this.deps.clock.now();
    this.dirty.add(deviceId);
    if (s.sessions === 0) {
      s.offlineReason = reason;
      this.announce(deviceId, s);
    }
  }

  /** The epoch Presence gave the device's newest session here: later status writes carry it. */
  sessionEpoch(deviceId: string, nodeId: string, epoch: number): void {
    const s = this.live.get(deviceId);
    if (!s || epoch <= s.epoch) return;
    s.epoch = epoch;
    s.nodeId = nodeId;
    this.dirty.add(deviceId);
  }

  activity(tenantId: string, deviceId: string, transport: TransportName): void {
    const s = this.entry(tenantId, deviceId);
    const wasOnline = this.isOnline(s);
    s.lastActivity = this.deps.clock.now();
    s.transport = transport;
    this.dirty.add(deviceId);
    // Activity of a device that is online only through a session (MQTT, gateway child) changes nothing.
    if (!wasOnline && this.isOnline(s)) this.announce(deviceId, s);
  }

  /**
   * When the device's last session ended: in this run, else as an earlier run persisted it. The
   * device twin pushes the shared attributes changed since then to a reconnecting device.
   */
  async lastDisconnect(deviceId: string): Promise<number | undefined> {
    await this.seeding.get(deviceId);
    const live = this.live.get(deviceId);
    if (live) return live.lastDisconnect;
    return (await this.deps.store.getStatuses([deviceId]))[0]?.lastDisconnect;
  }

  forget(deviceId: string): void {
    this.live.delete(deviceId);
    this.dirty.delete(deviceId);
  }

  async getStatuses(deviceIds: readonly string[]): Promise<DeviceStatus[]> {
    const missing = deviceIds.filter((id) => !this.live.has(id));
    const stored = new Map((await this.deps.store.getStatuses(missing)).map((s) => [s.deviceId, s]));
    const views = deviceIds.map((id): DeviceStatus => {
      const s = this.live.get(id);
      if (s) return this.view(id, s);
      // Persisted by an earlier run or by another node: its sessions count only through presence.
      const old = stored.get(id);
      return old ? { ...old, online: this.recentlyActive(old.lastActivity) && onlineByActivity(old.transport) } : { deviceId: id, online: false };
    });
    const presence = this.deps.presence;
    const withPresence = !presence
      ? views
      : await Promise.all(
          views.map(async (v) => {
            if (v.online) return v;
            const held = await presence.lookup(v.deviceId);
            return held ? { ...v, online: true, nodeId: held.nodeId, transport: held.transport, offlineReason: undefined } : v;
          }),
        );
    return Promise.all(
      withPresence.map((v) => {
        if (!v.online) return this.withGatewayReason(v);
        const { offlineReason: _stale, ...online } = v;
        return online;
      }),
    );
  }

  /** Whether a device has a session here or on any node, or (HTTP, CoAP) recent activity. */
  private async reachable(deviceId: string): Promise<boolean> {
    if (this.isDeviceOnline(deviceId)) return true;
    return (await this.deps.presence?.lookup(deviceId)) !== undefined;
  }

  /**
   * An offline child of an offline gateway: that is the reason, whatever ended its own session.
   * Only devices last seen through a gateway are looked up, so listing standalone devices costs
   * no registry read.
   */
  private async withGatewayReason(v: DeviceStatus): Promise<DeviceStatus> {
    if (v.transport !== 'gateway') return v;
    const gatewayId = await this.deps.gatewayOf?.(v.deviceId);
    if (gatewayId === undefined || (await this.reachable(gatewayId))) return v;
    return { ...v, offlineReason: 'gateway_offline' };
  }

  isDeviceOnline(deviceId: string): boolean {
    const s = this.live.get(deviceId);
    return s !== undefined && this.isOnline(s);
  }

  async flush(): Promise<void> {
    if (this.dirty.size === 0) return;
    const ids = [...this.dirty];
    this.dirty.clear();
    const statuses = ids.flatMap((id) => {
      const s = this.live.get(id);
      return s ? [this.view(id, s)] : [];
    });
    try {
      await this.deps.store.saveStatuses(statuses);
    } catch (err) {
      for (const id of ids) this.dirty.add(id);
      this.deps.logger.warn({ err }, 'saving device statuses failed; will retry');
    }
  }

  private entry(tenantId: string, deviceId: string): LiveStatus {
    let s = this.live.get(deviceId);
    if (!s) {
      const created: LiveStatus = (s = { tenantId, sessions: 0, epoch: 0 });
      this.live.set(deviceId, created);
      // A new entry would drop the lastDisconnect an earlier run persisted (and the next flush
      // would overwrite it): take it over. Store reads resolve before the next flush timer fires.
      const seed = this.deps.store
        .getStatuses([deviceId])
        .then(([old]) => {
          if (old?.lastDisconnect !== undefined && created.lastDisconnect === undefined) created.lastDisconnect = old.lastDisconnect;
        })
        .catch((err: unknown) => this.deps.logger.warn({ err, deviceId }, 'reading the stored device status failed'))
        .finally(() => this.seeding.delete(deviceId));
      this.seeding.set(deviceId, seed);
    }
    return s;
  }

  private recentlyActive(lastActivity: number | undefined): boolean {
    return lastActivity !== undefined && this.deps.clock.now() - lastActivity < this.deps.inactivityTimeoutMs;
  }

  /** Devices this node counts online (a session here or recent activity): the online gauge. */
  onlineCount(): number {
    let n = 0;
    for (const s of this.live.values()) if (this.isOnline(s)) n += 1;
    return n;
  }

  private isOnline(s: LiveStatus): boolean {
    return s.sessions > 0 || (onlineByActivity(s.transport) && this.recentlyActive(s.lastActivity));
  }

  private view(deviceId: string, s: LiveStatus): DeviceStatus {
    return {
      deviceId,
      online: this.isOnline(s),
      lastActivity: s.lastActivity,
      lastConnect: s.lastConnect,
      lastDisconnect: s.lastDisconnect,
      transport: s.transport,
      ...(s.nodeId !== undefined ? { nodeId: s.nodeId } : {}),
      ...(s.epoch > 0 ? { epoch: s.epoch } : {}),
      ...(s.offlineReason !== undefined && !this.isOnline(s) ? { offlineReason: s.offlineReason } : {}),
    };
  }

  private announce(deviceId: string, s: LiveStatus): void {
    // Fire and forget: the status change is kept in memory and flushed; the event feeds rules, commands and live views.
    void this.deps.bus.publish('status', subjectFor('status', s.tenantId, deviceId), { ...this.view(deviceId, s), tenantId: s.tenantId }).catch((err: unknown) => this.deps.logger.warn({ err }, 'bus: publishing a device status failed'));
  }
}
