/** The Presence port: which node holds which device's session (ports.ts re-exports this file). */
import type { TransportName } from '../domain/device.js';

/** One node's session(s) of a device. */
export interface PresenceEntry {
  readonly deviceId: string;
  readonly tenantId: string;
  /** The node holding the session (config `node.id`). */
  readonly nodeId: string;
  /**
   * Orders the device's sessions across nodes: a session accepted later has a greater epoch.
   * Assigned by Presence.connect; status writes carry it (StatusStore.saveStatuses).
   */
  readonly epoch: number;
  readonly transport: TransportName;
  /** When the session was accepted (epoch ms). */
  readonly since: number;
}

/**
 * Which node holds which device's session: the SessionHub records its sessions here, and
 * `isOnline` and RPC routing ask it, so a node knows about sessions other nodes hold. The memory
 * implementation serves one process; a cluster puts it in a shared store (JetStream KV,
 * PostgreSQL) with the same semantics.
 */
export interface Presence {
  /**
   * Records that `nodeId` holds a session of the device (replacing that node's earlier entry for
   * it) under a new epoch greater than every epoch the device had before, and resolves with it.
   */
  connect(session: Omit<PresenceEntry, 'epoch'>): Promise<PresenceEntry>;
  /**
   * Removes the node's entry for the device if it still has this epoch (a late disconnect of an
   * older session leaves a newer one alone); true when it removed one.
   */
  disconnect(deviceId: string, nodeId: string, epoch: number): Promise<boolean>;
  /** The device's newest session on any node; undefined when none holds one. */
  lookup(deviceId: string): Promise<PresenceEntry | undefined>;
  listByNode(nodeId: string): Promise<PresenceEntry[]>;
  /** Forgets every entry of a node that is gone (crashed, partitioned away); resolves with them. */
  expireNode(nodeId: string): Promise<PresenceEntry[]>;
}

