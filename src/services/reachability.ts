/**
 * Whether a device can be reached now, wherever its session is: a session on any node (Presence),
 * or, for devices without a connection to watch (HTTP, CoAP without observe), recent activity
 * seen by this node (StatusService). RPC and the command outbox ask this, not the local session
 * map, so a command sent on one node reaches a device connected to another.
 */
import type { Presence } from '../ports.js';

export interface ReachabilityDeps {
  readonly presence: Presence;
  /** This node's view: a live session here, or recent activity (StatusService.isDeviceOnline). */
  readonly isLocallyOnline: (deviceId: string) => boolean;
}

export class Reachability {
  constructor(private readonly deps: ReachabilityDeps) {}

  async isOnline(deviceId: string): Promise<boolean> {
    if (this.deps.isLocallyOnline(deviceId)) return true;
    return (await this.deps.presence.lookup(deviceId)) !== undefined;
  }

  /** The node holding the device's newest session; undefined when none does. */
  async holder(deviceId: string): Promise<string | undefined> {
    return (await this.deps.presence.lookup(deviceId))?.nodeId;
  }
}
