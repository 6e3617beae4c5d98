/**
 * The ClusterView of one node on its own (ports/cluster-view.ts): itself, ready as /readyz says,
 * owning every partition. Also what a cluster node shows until the shared membership is wired.
 */
import type { ClusterNodeView, ClusterPartitionView, ClusterView } from '../ports/cluster-view.js';
import type { Clock, ListeningAddress } from '../ports.js';

export interface SingleNodeClusterViewOptions {
  readonly name: string;
  readonly clustered: boolean;
  readonly nodeId: string;
  /** Partitions of the rule engine (bus.nats.partitions; 1 on the in-process bus). */
  readonly partitions: number;
  readonly clock: Pick<Clock, 'now'>;
  readonly addresses: () => readonly ListeningAddress[];
  readonly ready: () => Promise<boolean>;
}

export class SingleNodeClusterView implements ClusterView {
  readonly name: string;
  readonly clustered: boolean;

  constructor(private readonly opts: SingleNodeClusterViewOptions) {
    this.name = opts.name;
    this.clustered = opts.clustered;
  }

  async nodes(): Promise<readonly ClusterNodeView[]> {
    const addresses = this.opts.addresses().map((a) => ({ name: a.name, url: a.url }));
    return [{ id: this.opts.nodeId, addresses, lastSeen: this.opts.clock.now(), ready: await this.opts.ready() }];
  }

  async partitions(): Promise<readonly ClusterPartitionView[]> {
    // No lag figure here: this node does not measure its consumers' backlog (the partition leases do).
    return Array.from({ length: this.opts.partitions }, (_, partition) => ({ partition, owner: this.opts.nodeId }));
  }
}
