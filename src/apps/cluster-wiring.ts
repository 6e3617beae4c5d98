/**
 * What the operations side of a node needs from the composition root (issue 14, "Operations"):
 * the readiness checks of the servers it depends on (/readyz) and the ClusterView behind
 * GET /api/cluster. Kept out of platform.ts so the cluster's membership can replace the view here.
 */
import type { Config } from './config.js';
import type { ClusterView } from '../ports/cluster-view.js';
import type { Bus, Clock, ListeningAddress, Store } from '../ports.js';
import { ReadinessService, type DependencyCheck, type ReadinessReport } from '../services/readiness.js';
import { SingleNodeClusterView } from '../services/cluster-view.js';

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
  /** The shared membership's view, once the cluster provides one; default: this node alone. */
  readonly view?: ClusterView;
}): ClusterOps {
  const { config, store, bus } = deps;
  const checks: DependencyCheck[] = [];
  // Named after the backend, as operators know them: {postgres: 'ok', nats: 'down'}.
  if (store.ping) checks.push({ name: store.kind, check: () => store.ping?.() ?? Promise.resolve() });
  if (bus.ping) checks.push({ name: config.bus.kind, check: () => bus.ping?.() ?? Promise.resolve() });
  const readiness = new ReadinessService(checks);
  const view =
    deps.view ??
    new SingleNodeClusterView({
      name: config.bus.kind === 'nats' ? config.bus.nats.prefix : config.cluster.name,
      clustered: config.cluster.enabled,
      nodeId: deps.nodeId,
      partitions: config.bus.kind === 'nats' ? config.bus.nats.partitions : 1,
      clock: deps.clock,
      addresses: deps.addresses,
      ready: async () => deps.started() && (await readiness.report()).ready,
    });
  return { dependencies: () => readiness.report(), cluster: { view, nodeId: deps.nodeId } };
}
