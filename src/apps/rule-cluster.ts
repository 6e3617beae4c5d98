/**
 * Partition ownership for the rule engine, wired when the platform runs as a cluster node (bus
 * kind `nats` and store kind `postgres`): a PartitionCoordinator on the PostgreSQL leases, the
 * engine's cluster dependencies, and the per-partition metrics. Otherwise nothing: one process
 * owns every partition implicitly and the engine runs as it always did.
 */
import { NatsBus } from '../adapters/bus/nats/index.js';
import { registerPartitionMetrics } from '../adapters/metrics/cluster.js';
import type { PrometheusMetrics } from '../adapters/metrics/prometheus.js';
import type { Bus, ClusterBackend, Logger, Store } from '../ports.js';
import { PartitionCoordinator } from '../services/cluster/coordinator.js';
import type { SharedClusterState } from '../services/cluster-view.js';
import { RULE_GROUPS } from '../services/rules/engine.js';
import type { RuleClusterDeps } from '../services/rules/index.js';
import type { Config } from './config.js';

/** The lease group of the rule engine's partitions (all three of its work-queue groups follow it). */
export const RULE_LEASE_GROUP = 'rules';

export interface RuleCluster {
  readonly coordinator: PartitionCoordinator;
  /** What GET /api/cluster shows of the cluster (cluster-wiring.ts): the shared membership and the rule partitions' leases. */
  readonly shared: SharedClusterState;
  readonly deps: RuleClusterDeps;
  /** Takes this node's share (before the engine starts consuming). */
  start(): Promise<void>;
  /** Gives every partition back and leaves the membership (after the engine stopped). */
  stop(): Promise<void>;
}

export interface RuleClusterOptions {
  readonly config: Pick<Config, 'bus'>;
  readonly store: Store;
  readonly bus: Bus;
  readonly nodeId: string;
  readonly logger: Logger;
  readonly metrics: PrometheusMetrics;
  /** Told once (on one node) of a node whose heartbeat expired: the MQTT lane clears its presence here. */
  readonly onNodeGone?: (nodeId: string) => void | Promise<void>;
  /** What this node announces with each heartbeat (cluster status: addresses, readiness). */
  readonly info?: () => Readonly<Record<string, string>>;
}

export function createRuleCluster(o: RuleClusterOptions): RuleCluster | undefined {
  const backend = (o.store as Store & { cluster?: ClusterBackend }).cluster;
  if (o.config.bus.kind !== 'nats' || backend === undefined || o.config.bus.nats === undefined) return undefined;
  const partitions = o.config.bus.nats.partitions;
  const logger = o.logger.child({ component: 'cluster' });
  const coordinator = new PartitionCoordinator({
    nodeId: o.nodeId,
    group: RULE_LEASE_GROUP,
    partitions,
    membership: backend.membership,
    leases: backend.leases,
    logger,
    ...(o.onNodeGone ? { onNodeGone: o.onNodeGone } : {}),
    ...(o.info ? { info: o.info } : {}),
  });
  const bus = o.bus;
  registerPartitionMetrics(o.metrics.registry, {
    partitions,
    epochOf: (p) => coordinator.epochOf(p),
    liveNodes: () => coordinator.liveNodes,
    ...(bus instanceof NatsBus ? { lag: (owned: readonly number[]) => bus.groupLag('telemetry', RULE_GROUPS.telemetry, owned) } : {}),
  });
  // Firings can no longer be replayed once the streams dropped their messages: pruned after the stream's max age.
  const retentionMs = o.config.bus.nats.maxAgeSeconds * 1000;
  let prune: NodeJS.Timeout | undefined;
  return {
    coordinator,
    shared: { name: o.config.bus.nats.prefix, membership: backend.membership, leases: backend.leases, group: RULE_LEASE_GROUP, partitions },
    deps: { nodeId: o.nodeId, group: RULE_LEASE_GROUP, partitions, ownership: coordinator, checkpoints: backend.checkpoints },
    async start() {
      await coordinator.start();
      prune = setInterval(() => {
        void backend.checkpoints.pruneFirings(Date.now() - 2 * retentionMs).catch((err: unknown) => logger.warn({ err }, 'pruning rule firings failed'));
      }, 3600_000);
      prune.unref();
    },
    async stop() {
      clearInterval(prune);
      await coordinator.stop();
    },
  };
}
