/**
 * The cluster ports in memory: one process's view (a single node owns everything), and the
 * reference the PostgreSQL implementation is tested against (test/adapters/cluster/contract.ts).
 * Time is the given clock's.
 */
import type { ClusterBackend, ClusterMembership, Clock, Firing, FiringKey, LiveNode, PartitionLease, PartitionLeases, RuleCheckpoint, RuleCheckpoints, RuleStore } from '../../../ports.js';

interface NodeRow {
  info: Readonly<Record<string, string>>;
  since: number;
  expiresAt: number;
}

interface LeaseRow {
  nodeId: string | undefined;
  epoch: number;
  expiresAt: number;
}

interface FiringRow {
  readonly firing: Firing;
  readonly group: string;
  readonly partition: number;
  readonly at: number;
  dispatched: boolean;
}

function firingId(k: FiringKey): string {
  return JSON.stringify([k.ruleId, k.deviceId, k.edge, k.ts]);
}

/** `ruleStates`: where commit writes rule states (the memory store); without it they are dropped. */
export function createMemoryCluster(clock: Clock, ruleStates?: Pick<RuleStore, 'saveRuleState'>): ClusterBackend {
  const nodes = new Map<string, NodeRow>();
  const leases = new Map<string, LeaseRow>();
  const positions = new Map<string, Record<string, number>>();
  const firings = new Map<string, FiringRow>();
  const leaseKey = (group: string, partition: number): string => `${group}\u0000${partition}`;
  const holds = (group: string, partition: number, nodeId: string, epoch: number): boolean => {
    const row = leases.get(leaseKey(group, partition));
    return row !== undefined && row.nodeId === nodeId && row.epoch === epoch;
  };

  const membership: ClusterMembership = {
    heartbeat(nodeId, ttlMs, info = {}) {
      const now = clock.now();
      const row = nodes.get(nodeId);
      const since = row !== undefined && row.expiresAt > now ? row.since : now;
      nodes.set(nodeId, { info: { ...info }, since, expiresAt: now + ttlMs });
      return Promise.resolve();
    },
    leave(nodeId) {
      nodes.delete(nodeId);
      return Promise.resolve();
    },
    liveNodes() {
      const now = clock.now();
      const live: LiveNode[] = [];
      for (const [nodeId, row] of nodes) if (row.expiresAt > now) live.push({ nodeId, info: row.info, since: row.since });
      return Promise.resolve(live.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)));
    },
    reapGone() {
      const now = clock.now();
      const gone: string[] = [];
      for (const [nodeId, row] of nodes) if (row.expiresAt <= now) gone.push(nodeId);
      for (const id of gone) nodes.delete(id);
      return Promise.resolve(gone.sort());
    },
  };

  const partitionLeases: PartitionLeases = {
    acquire(group, partition, nodeId, ttlMs) {
      const now = clock.now();
      const key = leaseKey(group, partition);
      const row = leases.get(key);
      if (row !== undefined && row.nodeId !== undefined && row.nodeId !== nodeId && row.expiresAt > now) return Promise.resolve(undefined);
      const epoch = row !== undefined && row.nodeId === nodeId ? row.epoch : (row?.epoch ?? 0) + 1;
      leases.set(key, { nodeId, epoch, expiresAt: now + ttlMs });
      return Promise.resolve(epoch);
    },
    renew(group, held, nodeId, ttlMs) {
      const now = clock.now();
      const kept: number[] = [];
      for (const [partition, epoch] of held) {
        const row = leases.get(leaseKey(group, partition));
        if (row === undefined || row.nodeId !== nodeId || row.epoch !== epoch) continue;
        row.expiresAt = now + ttlMs;
        kept.push(partition);
      }
      return Promise.resolve(kept.sort((a, b) => a - b));
    },
    release(group, partition, nodeId, epoch) {
      const row = leases.get(leaseKey(group, partition));
      if (row !== undefined && row.nodeId === nodeId && row.epoch === epoch) row.nodeId = undefined;
      return Promise.resolve();
    },
    owners(group) {
      const now = clock.now();
      const out: PartitionLease[] = [];
      for (const [key, row] of leases) {
        const [g, p] = key.split('\u0000') as [string, string];
        if (g !== group || row.nodeId === undefined) continue;
        out.push({ partition: Number(p), nodeId: row.nodeId, epoch: row.epoch, expired: row.expiresAt <= now });
      }
      return Promise.resolve(out.sort((a, b) => a.partition - b.partition));
    },
  };

  const checkpoints: RuleCheckpoints = {
    async commit(group, nodeId, cp: RuleCheckpoint) {
      if (!holds(group, cp.partition, nodeId, cp.epoch)) return false;
      const key = leaseKey(group, cp.partition);
      const before = positions.get(key);
      // Positions first (synchronously, with the check): nothing can take the lease in between.
      positions.set(key, { ...before, ...cp.positions });
      await ruleStates?.saveRuleState(cp.states);
      return true;
    },
    positions(group, partition) {
      return Promise.resolve({ ...positions.get(leaseKey(group, partition)) });
    },
    recordFiring(group, partition, nodeId, epoch, firing) {
      if (!holds(group, partition, nodeId, epoch)) return Promise.resolve(false);
      const id = firingId(firing.key);
      if (firings.has(id)) return Promise.resolve(false);
      firings.set(id, { firing, group, partition, at: clock.now(), dispatched: false });
      return Promise.resolve(true);
    },
    markDispatched(key) {
      const row = firings.get(firingId(key));
      if (row) row.dispatched = true;
      return Promise.resolve();
    },
    undispatched(group, partition) {
      const out: Firing[] = [];
      for (const row of firings.values()) if (!row.dispatched && row.group === group && row.partition === partition) out.push(row.firing);
      return Promise.resolve(out.sort((a, b) => a.key.ts - b.key.ts));
    },
    pruneFirings(before) {
      let n = 0;
      for (const [id, row] of firings) {
        if (row.at < before) {
          firings.delete(id);
          n++;
        }
      }
      return Promise.resolve(n);
    },
  };

  return { membership, leases: partitionLeases, checkpoints };
}
