/**
 * The ClusterView of one node on its own (ports/cluster-view.ts): itself, ready as /readyz says,
 * owning every partition. Also what a cluster node shows until the shared membership is wired.
 */
import type { ClusterNodeView, ClusterPartitionView, ClusterView } from '../ports/cluster-view.js';
import type { Clock, ClusterMembership, ListeningAddress, PartitionLeases } from '../ports.js';

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

/** What a cluster node announces with its heartbeat (membership info), read back by MembershipClusterView. */
export function heartbeatInfo(addresses: readonly ListeningAddress[], ready: boolean, now: number): Record<string, string> {
  return { addresses: JSON.stringify(addresses.map((a) => ({ name: a.name, url: a.url }))), ready: String(ready), heartbeatAt: String(now) };
}

/**
 * The ClusterView of a cluster node: the live nodes of the shared membership (with what each
 * announced in its heartbeat, heartbeatInfo: up to one heartbeat interval old) and the rule
 * engine's partition leases. This node answers for itself as of now (`self`).
 */
export interface SharedClusterState {
  /** The cluster's name (the NATS prefix). */
  readonly name: string;
  readonly membership: ClusterMembership;
  readonly leases: PartitionLeases;
  /** The lease group of the rule engine's partitions, and how many there are. */
  readonly group: string;
  readonly partitions: number;
}

export class MembershipClusterView implements ClusterView {
  readonly clustered = true;
  readonly name: string;

  constructor(private readonly o: SharedClusterState & { self: { nodeId: string; view: () => Promise<ClusterNodeView> } }) {
    this.name = o.name;
  }

  async nodes(): Promise<readonly ClusterNodeView[]> {
    const self = this.o.self;
    return Promise.all(
      (await this.o.membership.liveNodes()).map(async (n) =>
        n.nodeId === self.nodeId
          ? self.view()
          : { id: n.nodeId, addresses: parseAddresses(n.info.addresses), lastSeen: Number(n.info.heartbeatAt ?? n.since), ready: n.info.ready === 'true' },
      ),
    );
  }

  async partitions(): Promise<readonly ClusterPartitionView[]> {
    const leases = new Map((await this.o.leases.owners(this.o.group)).map((l) => [l.partition, l]));
    return Array.from({ length: this.o.partitions }, (_, partition) => {
      const lease = leases.get(partition);
      return lease && !lease.expired ? { partition, owner: lease.nodeId, epoch: lease.epoch } : { partition };
    });
  }
}

function parseAddresses(text: string | undefined): { name: string; url: string }[] {
  try {
    const parsed: unknown = JSON.parse(text ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((a): a is { name: string; url: string } => typeof a?.name === 'string' && typeof a?.url === 'string') : [];
  } catch {
    return []; // another build's info: no addresses rather than no status
  }
}
