/**
 * Presence in one process's memory: exact for a single node, and what tests use to play several
 * nodes (give each node's SessionHub the same instance). A cluster shares it through a store
 * instead (JetStream KV or PostgreSQL, with the same semantics: an atomic per-device epoch).
 */
import type { Clock, Presence, PresenceEntry } from '../../../ports.js';

export class MemoryPresence implements Presence {
  /** deviceId → nodeId → that node's entry. */
  private readonly devices = new Map<string, Map<string, PresenceEntry>>();
  /** The last epoch each device was given, kept after disconnect so epochs never go back. */
  private readonly epochs = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  async connect(session: Omit<PresenceEntry, 'epoch'>): Promise<PresenceEntry> {
    // Epochs are times (ms), bumped past the device's last one: strictly increasing per device,
    // and across restarts of a memory presence still above what an earlier run wrote to the store.
    const epoch = Math.max(this.clock.now(), (this.epochs.get(session.deviceId) ?? 0) + 1);
    this.epochs.set(session.deviceId, epoch);
    const entry: PresenceEntry = { ...session, epoch };
    let nodes = this.devices.get(session.deviceId);
    if (!nodes) this.devices.set(session.deviceId, (nodes = new Map()));
    nodes.set(session.nodeId, entry);
    return { ...entry };
  }

  async disconnect(deviceId: string, nodeId: string, epoch: number): Promise<boolean> {
    const nodes = this.devices.get(deviceId);
    if (nodes?.get(nodeId)?.epoch !== epoch) return false;
    nodes.delete(nodeId);
    if (nodes.size === 0) this.devices.delete(deviceId);
    return true;
  }

  async lookup(deviceId: string): Promise<PresenceEntry | undefined> {
    let newest: PresenceEntry | undefined;
    for (const entry of this.devices.get(deviceId)?.values() ?? []) if (!newest || entry.epoch > newest.epoch) newest = entry;
    return newest && { ...newest };
  }

  async listByNode(nodeId: string): Promise<PresenceEntry[]> {
    const found: PresenceEntry[] = [];
    for (const nodes of this.devices.values()) {
      const entry = nodes.get(nodeId);
      if (entry) found.push({ ...entry });
    }
    return found;
  }

  async expireNode(nodeId: string): Promise<PresenceEntry[]> {
    const gone = await this.listByNode(nodeId);
    for (const entry of gone) await this.disconnect(entry.deviceId, nodeId, entry.epoch);
    return gone;
  }
}
