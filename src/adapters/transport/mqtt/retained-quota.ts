/**
 * Limits on retained messages. Every retained message lives in memory until replaced or
 * deleted, so without a cap one client could publish retained messages to a million topics of
 * its namespace and exhaust the broker (issue 12, item 11). Usage is counted per owner (the
 * device that last set the topic; the session for clients without a device) and in total;
 * a message that would take either over its cap is not retained. Deleting (an empty retained
 * payload, [MQTT-3.3.1-6]) and replacing a topic with a message no larger always succeed.
 */

export interface RetainedLimits {
  /** Retained topics one owner may hold. */
  readonly maxPerClient: number;
  /** Bytes (topic + payload) one owner's retained messages may hold. */
  readonly maxBytesPerClient: number;
  /** Retained topics in the whole broker. */
  readonly maxTotal: number;
  /** Bytes of all retained messages in the broker. */
  readonly maxBytesTotal: number;
}

export const DEFAULT_RETAINED_LIMITS: RetainedLimits = {
  maxPerClient: 100,
  maxBytesPerClient: 1024 * 1024,
  maxTotal: 100_000,
  maxBytesTotal: 256 * 1024 * 1024,
};

/** Who holds a retained topic, and what it costs. */
export interface RetainedUse {
  readonly owner: string;
  readonly bytes: number;
}

interface Usage {
  count: number;
  bytes: number;
}

export class RetainedQuota {
  private readonly owners = new Map<string, Usage>();
  private readonly total: Usage = { count: 0, bytes: 0 };

  constructor(private readonly limits: RetainedLimits) {}

  get totalCount(): number {
    return this.total.count;
  }

  get totalBytes(): number {
    return this.total.bytes;
  }

  /** Would `next` replacing `previous` (undefined: a new topic) keep owner and broker within limits? */
  admits(next: RetainedUse, previous: RetainedUse | undefined): boolean {
    const mine = this.owners.get(next.owner) ?? { count: 0, bytes: 0 };
    const sameOwner = previous?.owner === next.owner;
    const ownCount = mine.count + (sameOwner ? 0 : 1);
    const ownBytes = mine.bytes + next.bytes - (sameOwner ? (previous as RetainedUse).bytes : 0);
    const totalCount = this.total.count + (previous ? 0 : 1);
    const totalBytes = this.total.bytes + next.bytes - (previous?.bytes ?? 0);
    // A change that shrinks nothing over a limit is refused; one that does not grow usage is always fine.
    const grows = next.bytes > (previous?.bytes ?? 0) || !sameOwner;
    if (!grows) return true;
    return ownCount <= this.limits.maxPerClient && ownBytes <= this.limits.maxBytesPerClient && totalCount <= this.limits.maxTotal && totalBytes <= this.limits.maxBytesTotal;
  }

  add(use: RetainedUse): void {
    let mine = this.owners.get(use.owner);
    if (!mine) this.owners.set(use.owner, (mine = { count: 0, bytes: 0 }));
    mine.count++;
    mine.bytes += use.bytes;
    this.total.count++;
    this.total.bytes += use.bytes;
  }

  remove(use: RetainedUse): void {
    const mine = this.owners.get(use.owner);
    if (mine) {
      mine.count--;
      mine.bytes -= use.bytes;
      if (mine.count <= 0) this.owners.delete(use.owner);
    }
    this.total.count--;
    this.total.bytes -= use.bytes;
  }
}
