/**
 * Server-side RPCs that reached an HTTP device's long poll after it had been answered. The
 * platform flushes every RPC queued for a device the moment it opens a session, but one long
 * poll carries one RPC; the rest wait here for the device's next poll, until they expire.
 */
import type { RpcRequestToDevice } from '../../../ports/device-api.js';

interface Waiting {
  readonly rpc: RpcRequestToDevice;
  readonly expiresAt: number;
}

export class RpcBacklog {
  private readonly byDevice = new Map<string, Waiting[]>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxPerDevice = 100,
    private readonly now: () => number = Date.now,
  ) {}

  add(deviceId: string, rpc: RpcRequestToDevice): void {
    const list = this.live(deviceId);
    list.push({ rpc, expiresAt: this.now() + this.ttlMs });
    if (list.length > this.maxPerDevice) list.shift();
    this.byDevice.set(deviceId, list);
    if (this.byDevice.size > 1000) this.sweep();
  }

  /** The oldest RPC still waiting for this device, if any. */
  take(deviceId: string): RpcRequestToDevice | undefined {
    const list = this.live(deviceId);
    const first = list.shift();
    if (list.length === 0) this.byDevice.delete(deviceId);
    return first?.rpc;
  }

  private live(deviceId: string): Waiting[] {
    const now = this.now();
    return (this.byDevice.get(deviceId) ?? []).filter((w) => w.expiresAt > now);
  }

  private sweep(): void {
    const now = this.now();
    for (const [deviceId, list] of this.byDevice) {
      if (list.every((w) => w.expiresAt <= now)) this.byDevice.delete(deviceId);
    }
  }
}
