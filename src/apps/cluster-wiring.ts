/**
 * What the operations side of a node needs from the composition root (issue 14, "Operations"):
 * the readiness checks of the servers it depends on (/readyz) and the ClusterView behind
 * GET /api/cluster. Kept out of platform.ts so the cluster's membership can replace the view here.
 */
import type { Config } from './config.js';
import type { ClusterNodeView, ClusterView } from '../ports/cluster-view.js';
import { PlatformError } from '../domain/errors.js';
import type { Bus, Clock, ListeningAddress, Logger, Presence, Store } from '../ports.js';
import { ReadinessService, type DependencyCheck, type ReadinessReport } from '../services/readiness.js';
import { MembershipClusterView, SingleNodeClusterView, type SharedClusterState } from '../services/cluster-view.js';

export interface ClusterOps {
  readonly dependencies: () => Promise<ReadinessReport>;
  readonly cluster: { readonly view: ClusterView; readonly nodeId: string };
}

export function createClusterOps(deps: {
  readonly config: Config;
  readonly store: Store;
  readonly bus: Bus;
  readonly nodeId: string;
  readonly clock: Pick<Clock, 'now'>;
  readonly addresses: () => readonly ListeningAddress[];
  /** Started and not stopping (the platform's own flag). */
  readonly started: () => boolean;
  /** A cluster node's shared membership and partition leases (rule-cluster.ts); absent: this node alone. */
  readonly shared?: SharedClusterState;
}): ClusterOps {
  const { config, store, bus } = deps;
  const checks: DependencyCheck[] = [];
  // Named after the backend, as operators know them: {postgres: 'ok', nats: 'down'}.
  if (store.ping) checks.push({ name: store.kind, check: () => store.ping?.() ?? Promise.resolve() });
  if (bus.ping) checks.push({ name: config.bus.kind, check: () => bus.ping?.() ?? Promise.resolve() });
  const readiness = new ReadinessService(checks);
  const local = new SingleNodeClusterView({
    name: config.bus.kind === 'nats' ? config.bus.nats.prefix : config.cluster.name,
    clustered: config.cluster.enabled,
    nodeId: deps.nodeId,
    partitions: config.bus.kind === 'nats' ? config.bus.nats.partitions : 1,
    clock: deps.clock,
    addresses: deps.addresses,
    ready: async () => deps.started() && (await readiness.report()).ready,
  });
  const self = { nodeId: deps.nodeId, view: async () => (await local.nodes())[0] as ClusterNodeView };
  const view: ClusterView = deps.shared ? new MembershipClusterView({ ...deps.shared, self }) : local;
  return { dependencies: () => readiness.report(), cluster: { view, nodeId: deps.nodeId } };
}

/**
 * What a node does when the membership tells it (on one node) that another node's heartbeat
 * expired: the gone node's presence entries go (commands wait in the outbox instead of being
 * routed to it) and this node takes over the persistent MQTT sessions it held. Both steps are
 * idempotent (a session moves once, in one UPDATE), so a second call, or a call on another node,
 * finds nothing left. Resolves with the devices whose presence expired.
 */
export function nodeGoneHandler(deps: {
  readonly nodeId: string;
  readonly presence: Pick<Presence, 'expireNode'>;
  /** Late-bound: the MQTT transport is built after the cluster wiring. */
  readonly broker: () => { adoptNode(nodeId: string): Promise<unknown> };
  readonly logger: Logger;
}): (gone: string) => Promise<string[]> {
  return async (gone) => {
    if (gone === deps.nodeId) throw new PlatformError('BAD_REQUEST', 'a node cannot declare itself gone');
    const expired = await deps.presence.expireNode(gone);
    await deps.broker().adoptNode(gone);
    deps.logger.warn({ nodeId: gone, devices: expired.length }, 'cluster node gone: its presence expired, its MQTT sessions taken over');
    return expired.map((e) => e.deviceId);
  };
}
