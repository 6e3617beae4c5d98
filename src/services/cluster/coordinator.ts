/**
 * Partition ownership for one work-queue group on one node (issue 14, item 3): each partition is
 * owned by exactly one live node at a time, under a lease with a fencing epoch
 * (ports/cluster.ts). Every ttl/3 the coordinator heartbeats, renews its leases, takes free or
 * expired partitions up to its fair share (ceil(partitions / live nodes)) and gives one excess
 * partition away per round, so a joining node gets work without a stop-the-world rebalance.
 *
 * Safety rests on two rules. (1) Work on a partition stops before its lease can expire: the
 * lease runs for ttl from the database's clock at renewal, which is after the renewal was sent;
 * so ownership is dropped locally when ttl × 2/3 passed on this node's monotonic clock since the
 * last successful renewal was *sent*, by a watchdog timer that does not wait for a stuck query.
 * (2) Whatever a deposed owner still writes is fenced by the epoch (RuleCheckpoints.commit,
 * recordFiring), so even a paused process (GC, SIGSTOP) that missed (1) cannot corrupt state.
 */
import type { ClusterMembership, Logger, PartitionLeases, PartitionOwnership } from '../../ports.js';

type Change = { readonly gained: readonly number[]; readonly lost: readonly number[] };
type Listener = (change: Change) => void | Promise<void>;

export interface CoordinatorOptions {
  readonly nodeId: string;
  /** The lease group (one per sharded consumer, e.g. `rules`). */
  readonly group: string;
  readonly partitions: number;
  /** Lease and heartbeat time to live, ms; renewed every ttl/3. Default 15 s. */
  readonly ttlMs?: number;
  readonly membership: ClusterMembership;
  readonly leases: PartitionLeases;
  readonly logger: Logger;
  /** Shown by `cluster status` (addresses, version). */
  readonly info?: Readonly<Record<string, string>>;
  /** Told of a node whose heartbeat expired (once, on one node): clean up after it (presence). */
  readonly onNodeGone?: (nodeId: string) => void | Promise<void>;
  /** Monotonic milliseconds (tests pass their own); default performance.now. */
  readonly monotonic?: () => number;
}

export class PartitionCoordinator implements PartitionOwnership {
  private readonly ttl: number;
  /** partition → epoch it is held under. */
  private readonly held = new Map<number, number>();
  private readonly listeners = new Set<Listener>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private liveCount = 1;

  constructor(private readonly o: CoordinatorOptions) {
    this.ttl = o.ttlMs ?? 15_000;
    this.now = o.monotonic ?? (() => performance.now());
  }

  owned(): Iterable<number> {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** The epoch this node holds the partition under; undefined when it does not own it. */
  epochOf(partition: number): number | undefined {
    return this.held.get(partition);
  }

  /** Live nodes at the last round (this one included). */
  get liveNodes(): number {
    return this.liveCount;
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs the first round (the node owns its share when this resolves) and schedules the next ones. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.round();
    this.schedule();
  }

  /** Leaves cleanly: stops the rounds, gives every partition up (listeners first) and leaves the membership. */
  async stop(): Promise<void> {
    this.halt();
    await this.ticking;
    const held = [...this.held];
    await this.drop(held.map(([p]) => p));
    await Promise.allSettled(held.map(([p, epoch]) => this.o.leases.release(this.o.group, p, this.o.nodeId, epoch)));
    await this.o.membership.leave(this.o.nodeId).catch((err: unknown) => this.o.logger.warn({ err }, 'cluster: leaving the membership failed'));
  }

  /** Stops the rounds and forgets ownership without telling anyone (a crash, in tests). */
  halt(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
  }

  /** One round now (tests; also what the timer runs). */
  round(): Promise<void> {
    this.ticking ??= this.roundOnce().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.round().finally(() => this.schedule());
    }, Math.max(10, Math.floor(this.ttl / 3)));
    this.timer.unref();
  }

  private async roundOnce(): Promise<void> {
    const { o } = this;
    try {
      const sent = this.now();
      await o.membership.heartbeat(o.nodeId, this.ttl, o.info ?? {});
      if (this.held.size > 0) {
        const kept = new Set(await o.leases.renew(o.group, this.held, o.nodeId, this.ttl));
        const lost = [...this.held.keys()].filter((p) => !kept.has(p));
        if (lost.length > 0) {
          o.logger.warn({ group: o.group, partitions: lost }, 'cluster: partitions taken away (fenced)');
          await this.drop(lost);
        }
      }
      if (this.stopped) return;
      this.arm(sent);
      for (const gone of await o.membership.reapGone()) {
        o.logger.warn({ nodeId: gone }, 'cluster: node gone (heartbeat expired)');
        await Promise.resolve(o.onNodeGone?.(gone)).catch((err: unknown) => o.logger.warn({ err, nodeId: gone }, 'cluster: cleaning up after a gone node failed'));
      }
      const live = await o.membership.liveNodes();
      this.liveCount = Math.max(1, live.length + (live.some((n) => n.nodeId === o.nodeId) ? 0 : 1));
      const share = Math.ceil(o.partitions / this.liveCount);
      if (this.held.size < share) await this.take(share - this.held.size);
      else if (this.held.size > share) await this.giveAway();
    } catch (err) {
      // The watchdog drops ownership in time if this keeps failing.
      o.logger.warn({ err, group: o.group }, 'cluster: ownership round failed');
    }
  }

  /** Drops every partition locally when the leases could be expiring: ttl × 2/3 after the last renewal was sent. */
  private arm(sent: number): void {
    clearTimeout(this.watchdog);
    if (this.stopped) return;
    const wait = Math.max(0, sent + (this.ttl * 2) / 3 - this.now());
    this.watchdog = setTimeout(() => {
      if (this.held.size === 0) return;
      this.o.logger.error({ group: this.o.group, partitions: [...this.held.keys()] }, 'cluster: leases not renewed in time; stopping work on them');
      void this.drop([...this.held.keys()]);
    }, wait);
    this.watchdog.unref();
  }

  /** Free or expired partitions, starting at an offset of this node's so nodes do not all race for the same ones. */
  private async take(want: number): Promise<void> {
    const { o } = this;
    const taken = new Map((await o.leases.owners(o.group)).filter((l) => !l.expired).map((l) => [l.partition, l.nodeId]));
    const start = offset(o.nodeId, o.partitions);
    const gained: number[] = [];
    for (let i = 0; i < o.partitions && gained.length < want && !this.stopped; i++) {
      const p = (start + i) % o.partitions;
      if (this.held.has(p) || taken.has(p)) continue;
      const epoch = await o.leases.acquire(o.group, p, o.nodeId, this.ttl);
      if (epoch === undefined) continue;
      this.held.set(p, epoch);
      gained.push(p);
    }
    if (gained.length > 0) {
      o.logger.info({ group: o.group, partitions: gained }, 'cluster: partitions taken');
      await this.tell({ gained, lost: [] });
    }
  }

  /** One partition per round: listeners stop work on it, then the lease is released for a node below its share. */
  private async giveAway(): Promise<void> {
    const p = Math.max(...this.held.keys());
    const epoch = this.held.get(p) as number;
    await this.drop([p]);
    await this.o.leases.release(this.o.group, p, this.o.nodeId, epoch);
    this.o.logger.info({ group: this.o.group, partition: p }, 'cluster: partition given away');
  }

  private async drop(lost: readonly number[]): Promise<void> {
    const mine = lost.filter((p) => this.held.delete(p));
    if (mine.length > 0) await this.tell({ gained: [], lost: mine });
  }

  private async tell(change: Change): Promise<void> {
    for (const listener of [...this.listeners]) {
      try {
        await listener(change);
      } catch (err) {
        this.o.logger.error({ err, group: this.o.group }, 'cluster: an ownership listener failed');
      }
    }
  }
}

function offset(nodeId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < nodeId.length; i++) h = Math.imul(h ^ nodeId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % partitions;
}
