/**
 * Cluster ports (issue 14, item 3): which nodes are alive, which node owns which partition of a
 * work-queue group (leases with a fencing epoch), and the rule engine's per-partition checkpoints
 * and firing keys. ports.ts re-exports this file. Time is the implementation's: the PostgreSQL
 * one uses the database clock (`now()`), so the nodes' clocks never decide who owns what.
 * Semantics pinned by test/adapters/cluster/contract.ts; docs/ARCHITECTURE.md, "Cluster".
 */

/** A node that heartbeated within its ttl. */
export interface LiveNode {
  readonly nodeId: string;
  /** Free-form facts the node reports (addresses, version): shown by `cluster status`. */
  readonly info: Readonly<Record<string, string>>;
  /** When the node first heartbeated in its current life (epoch ms, store clock). */
  readonly since: number;
}

export interface ClusterMembership {
  /** Records that the node is alive for `ttlMs` more (from the store's clock). */
  heartbeat(nodeId: string, ttlMs: number, info?: Readonly<Record<string, string>>): Promise<void>;
  /** A clean leave: the node is gone at once. */
  leave(nodeId: string): Promise<void>;
  /** Nodes whose heartbeat has not expired, ordered by node id. */
  liveNodes(): Promise<LiveNode[]>;
  /**
   * Removes the nodes whose heartbeat expired and resolves with their ids: each gone node is
   * reported once, to one caller, which cleans up after it (presence, leases).
   */
  reapGone(): Promise<string[]>;
}

/** The holder of one partition of a group. */
export interface PartitionLease {
  readonly partition: number;
  readonly nodeId: string;
  /** Increases every time the partition changes hands (or is taken after a release or expiry). */
  readonly epoch: number;
  /** Whether the lease is past its ttl (the holder stopped renewing; anyone may take it). */
  readonly expired: boolean;
}

export interface PartitionLeases {
  /**
   * Takes the partition for `ttlMs` if it is free, expired, or already this node's, and resolves
   * with the epoch (a new, greater one unless the node already held it); undefined when another
   * node holds an unexpired lease.
   */
  acquire(group: string, partition: number, nodeId: string, ttlMs: number): Promise<number | undefined>;
  /**
   * Extends the node's leases (partition → epoch it holds) by `ttlMs`; resolves with the
   * partitions it still holds under those epochs (the rest were taken away: fenced).
   */
  renew(group: string, held: ReadonlyMap<number, number>, nodeId: string, ttlMs: number): Promise<number[]>;
  /** Gives the partition up if the node still holds it under this epoch (the next taker bumps the epoch). */
  release(group: string, partition: number, nodeId: string, epoch: number): Promise<void>;
  /** The leases of the group, expired ones included, by partition. */
  owners(group: string): Promise<PartitionLease[]>;
}

/** Rule states of one partition and how far in the partition's streams they reach. */
export interface RuleCheckpoint {
  readonly partition: number;
  /** The epoch under which the writer holds the partition. */
  readonly epoch: number;
  /** Stream sequence per event (`telemetry`, `attributes`, `status`): every message up to it is in `states`. */
  readonly positions: Readonly<Record<string, number>>;
  /** RuleStateRecord's shape (ports.ts; not imported: ports.ts re-exports this file). */
  readonly states: readonly { readonly ruleId: string; readonly deviceId: string; readonly state: string; readonly updatedAt: number }[];
}

/** One edge of one rule on one device for one message: at most one dispatch in the cluster, ever. */
export interface FiringKey {
  readonly ruleId: string;
  readonly deviceId: string;
  readonly edge: string;
  /** The timestamp of the message that moved the edge (the scheduled minute for schedule rules). */
  readonly ts: number;
}

/** A firing with what its dispatch needs (the rendered actions and their context, JSON). */
export interface Firing {
  readonly key: FiringKey;
  readonly payload: string;
}

export interface RuleCheckpoints {
  /**
   * In one transaction: checks that `nodeId` still holds the group's partition under
   * `checkpoint.epoch` (an expired lease nobody took yet still counts: the taker's epoch bump
   * serializes after this write), writes the states and the positions. Resolves false, having
   * written nothing, when the partition was taken: the writer is fenced.
   */
  commit(group: string, nodeId: string, checkpoint: RuleCheckpoint): Promise<boolean>;
  /** The positions of the partition's last committed checkpoint ({} before the first). */
  positions(group: string, partition: number): Promise<Record<string, number>>;
  /**
   * Records the firing under the partition's epoch; true when it is new (dispatch it), false
   * when it was recorded before (by this node or a deposed owner). Fenced like commit: a node
   * that no longer holds the partition under `epoch` gets false and dispatches nothing.
   */
  recordFiring(group: string, partition: number, nodeId: string, epoch: number, firing: Firing): Promise<boolean>;
  /** Marks a recorded firing's actions as run. */
  markDispatched(key: FiringKey): Promise<void>;
  /** Firings of the partition recorded but never marked dispatched (their recorder died): the new owner runs them. */
  undispatched(group: string, partition: number): Promise<Firing[]>;
  /** Forgets firings recorded before `before` (epoch ms, store clock): they can no longer be replayed. */
  pruneFirings(before: number): Promise<number>;
}

/** What a cluster backend provides (memory: one process; PostgreSQL: the cluster's). */
export interface ClusterBackend {
  readonly membership: ClusterMembership;
  readonly leases: PartitionLeases;
  readonly checkpoints: RuleCheckpoints;
}
