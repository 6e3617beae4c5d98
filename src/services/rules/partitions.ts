/**
 * The rule engine in a cluster (issue 14, item 3): it works only on the partitions its node owns
 * (services/cluster/coordinator.ts), checkpoints each partition's rule states together with its
 * stream positions under the partition's fencing epoch, acknowledges deliveries only once the
 * checkpoint covering them committed, and records every edge firing under a unique key before
 * its actions run. So a takeover redelivers exactly what no checkpoint covered; the new owner
 * skips what the last checkpoint did cover (positions), replays the rest (window samples are
 * keyed by timestamp, edges by state), and a replayed firing finds its key taken and dispatches
 * nothing. Firings recorded but never marked dispatched (the owner died between) are run by the
 * next owner; commands they create carry the firing key as idempotency key, so that run cannot
 * create a command twice either.
 */
import { devicePartition } from '../../domain/partition.js';
import type { Clock, Firing, FiringKey, Logger, PartitionOwnership, RuleCheckpoints } from '../../ports.js';
import type { RuleStateCache } from './state-cache.js';

export interface RuleClusterDeps {
  readonly nodeId: string;
  /** The lease group (the coordinator's). */
  readonly group: string;
  /** The bus's partition count (every node agrees on it). */
  readonly partitions: number;
  /** The coordinator: which partitions this node owns, under which epoch. */
  readonly ownership: PartitionOwnership & { epochOf(partition: number): number | undefined };
  readonly checkpoints: RuleCheckpoints;
}

type Change = { readonly gained: readonly number[]; readonly lost: readonly number[] };

interface Done {
  readonly event: string;
  readonly position: number | undefined;
  readonly resolve: () => void;
}

interface Owned {
  readonly epoch: number;
  /** Committed positions per event: a delivery at or below is covered by the checkpoint (skipped). */
  readonly committed: Record<string, number>;
  /** Positions received and not yet evaluated, per event (stream order). */
  readonly inFlight: Map<string, Set<number>>;
  /** Highest position evaluated per event. */
  readonly evaluated: Record<string, number>;
  /** Deliveries evaluated, waiting for the checkpoint that covers them. */
  done: Done[];
  fenced: boolean;
}

/** What a delivery handler is told: skip it (covered), hold it (not ours), or track it in the partition. */
export type Admission = { readonly kind: 'skip' } | { readonly kind: 'hold' } | { readonly kind: 'track'; readonly partition: number };

export class RulePartitions implements PartitionOwnership {
  private readonly owned_ = new Map<number, Owned>();
  private readonly listeners = new Set<(change: Change) => void | Promise<void>>();
  /** Firing records under way: a checkpoint waits for them (its states include the edge they record). */
  private readonly recording = new Set<Promise<unknown>>();
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly deps: RuleClusterDeps,
    private readonly states: RuleStateCache,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Runs a firing's actions again (recorded by an owner that died before dispatching it). */
    private readonly redispatch: (firing: Firing) => Promise<void>,
  ) {}

  partitionOf(deviceId: string): number {
    return devicePartition(deviceId, this.deps.partitions);
  }

  /** Takes the partitions owned now and follows the coordinator from here on. */
  async start(): Promise<void> {
    this.unwatch = this.deps.ownership.onChange((change) => this.changed(change));
    await this.changed({ gained: [...this.deps.ownership.owned()], lost: [] });
  }

  stop(): void {
    this.unwatch?.();
  }

  owned(): Iterable<number> {
    return [...this.owned_].filter(([, o]) => !o.fenced).map(([p]) => p);
  }

  onChange(listener: (change: Change) => void | Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether the device's partition is worked on here (timers and schedules of other devices are not). */
  owns(deviceId: string): boolean {
    const o = this.owned_.get(this.partitionOf(deviceId));
    return o !== undefined && !o.fenced;
  }

  admit(deviceId: string, event: string, position: number | undefined): Admission {
    const partition = this.partitionOf(deviceId);
    const o = this.owned_.get(partition);
    if (o === undefined || o.fenced) return { kind: 'hold' };
    // No delivery is skipped for being at or below the checkpoint: the checkpoint's floor counts only
    // deliveries the engine admitted, and one the bus still held back (or an earlier owner held
    // unevaluated) can lie below it — skipping it lost its edge (regression: kill-node-rules, two of
    // nine devices never alarmed). Evaluating a delivery twice is harmless for windows (keyed by
    // timestamp) and edges (fire on a change); firing keys keep actions once.
    if (position !== undefined) {
      let set = o.inFlight.get(event);
      if (!set) o.inFlight.set(event, (set = new Set()));
      set.add(position);
    }
    return { kind: 'track', partition };
  }

  /**
   * Settles a tracked delivery once its evaluation finished and a checkpoint covering it
   * committed; rejects (redelivery) when the evaluation failed.
   */
  settle(partition: number, event: string, position: number | undefined, work: Promise<void> | undefined): Promise<void> {
    const o = this.owned_.get(partition) as Owned;
    const evaluated = (): Promise<void> => {
      if (position !== undefined) {
        o.inFlight.get(event)?.delete(position);
        o.evaluated[event] = Math.max(o.evaluated[event] ?? 0, position);
      }
      return new Promise<void>((resolve) => o.done.push({ event, position, resolve }));
    };
    if (work === undefined) return evaluated();
    return work.then(evaluated, (err: unknown) => {
      if (position !== undefined) o.inFlight.get(event)?.delete(position);
      throw err;
    });
  }

  /**
   * Records a firing under its partition's epoch before its actions run: true when it is new
   * here (run the actions), false when it was recorded before or the partition is not ours.
   * A failing record (the store) is retried while the partition is ours.
   */
  record(key: FiringKey, payload: string): Promise<boolean> {
    const partition = this.partitionOf(key.deviceId);
    const attempt = async (n: number): Promise<boolean> => {
      const o = this.owned_.get(partition);
      if (o === undefined || o.fenced) return false;
      try {
        return await this.deps.checkpoints.recordFiring(this.deps.group, partition, this.deps.nodeId, o.epoch, { key, payload });
      } catch (err) {
        this.logger.warn({ err, partition, attempt: n }, 'recording a rule firing failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** n)));
        return attempt(n + 1);
      }
    };
    const p = attempt(1);
    this.recording.add(p);
    void p.finally(() => this.recording.delete(p));
    return p;
  }

  markDispatched(key: FiringKey): void {
    void this.deps.checkpoints.markDispatched(key).catch((err: unknown) => this.logger.warn({ err }, 'marking a rule firing dispatched failed'));
  }

  /** Commits every owned partition that has changed states or deliveries waiting; states of partitions not ours are dropped. */
  async flush(): Promise<void> {
    if (this.recording.size > 0) await Promise.allSettled([...this.recording]);
    const foreign = this.states.takeDirty((d) => !this.owned_.has(this.partitionOf(d)), this.clock.now());
    if (foreign.records.length > 0) this.states.forgetDevices((d) => !this.owned_.has(this.partitionOf(d)));
    await Promise.all([...this.owned_].map(([p, o]) => this.commit(p, o)));
  }

  private async commit(partition: number, o: Owned): Promise<void> {
    if (o.fenced) return;
    const done = o.done;
    const taken = this.states.takeDirty((d) => this.partitionOf(d) === partition, this.clock.now());
    if (done.length === 0 && taken.records.length === 0) return;
    o.done = [];
    // The position is the contiguous prefix: below the oldest delivery still being evaluated.
    const positions: Record<string, number> = {};
    for (const event of new Set([...Object.keys(o.evaluated), ...o.inFlight.keys()])) {
      const pending = o.inFlight.get(event);
      const floor = pending && pending.size > 0 ? Math.min(...pending) - 1 : (o.evaluated[event] ?? 0);
      if (floor > (o.committed[event] ?? 0)) positions[event] = floor;
    }
    let ok: boolean;
    try {
      ok = await this.deps.checkpoints.commit(this.deps.group, this.deps.nodeId, { partition, epoch: o.epoch, positions, states: taken.records });
    } catch (err) {
      taken.undo();
      o.done = done.concat(o.done);
      this.logger.warn({ err, partition }, 'rule checkpoint failed; will retry');
      return;
    }
    if (!ok) {
      // Deposed: nothing was written; the deliveries stay unsettled and go to the new owner.
      o.fenced = true;
      this.states.forgetDevices((d) => this.partitionOf(d) === partition);
      this.logger.warn({ partition, epoch: o.epoch }, 'rule checkpoint fenced: the partition has a new owner');
      return;
    }
    Object.assign(o.committed, positions);
    for (const d of done) d.resolve();
  }

  private async changed(change: Change): Promise<void> {
    const lost = change.lost.filter((p) => this.owned_.has(p));
    if (lost.length > 0) {
      // Last checkpoint of what is evaluated, then the bus stops pulling and gives the rest back.
      await Promise.all(lost.map((p) => this.commit(p, this.owned_.get(p) as Owned)));
      for (const p of lost) (this.owned_.get(p) as Owned).fenced = true;
      await this.tell({ gained: [], lost });
      for (const p of lost) this.owned_.delete(p);
      this.states.forgetDevices((d) => lost.includes(this.partitionOf(d)));
    }
    const gained: number[] = [];
    for (const p of change.gained) {
      const epoch = this.deps.ownership.epochOf(p);
      if (epoch === undefined || this.owned_.has(p)) continue;
      try {
        const committed = await this.deps.checkpoints.positions(this.deps.group, p);
        // What a previous owner of this node wrote may be older than the store: read it again.
        this.states.forgetDevices((d) => this.partitionOf(d) === p);
        this.owned_.set(p, { epoch, committed: { ...committed }, inFlight: new Map(), evaluated: { ...committed }, done: [], fenced: false });
        for (const firing of await this.deps.checkpoints.undispatched(this.deps.group, p)) await this.redispatch(firing);
        gained.push(p);
      } catch (err) {
        this.owned_.delete(p);
        this.logger.error({ err, partition: p }, 'taking over a rule partition failed; it stays idle here until ownership changes');
      }
    }
    if (gained.length > 0) await this.tell({ gained, lost: [] });
  }

  private async tell(change: Change): Promise<void> {
    for (const l of [...this.listeners]) await l(change);
  }
}
