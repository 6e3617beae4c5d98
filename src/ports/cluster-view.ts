/**
 * What `GET /api/cluster` and `continuum cluster status` show: the nodes of the cluster and who
 * owns each rule-engine partition. A single node answers with itself owning every partition
 * (services/cluster-view.ts); the cluster's membership and partition leases (issue 14, partition
 * ownership) implement the same interface from their shared state.
 */

export interface ClusterNodeView {
  readonly id: string;
  /** Where the node listens, as it announced: name (`http`, `mqtt`, `coap`…) → URL. */
  readonly addresses: readonly { readonly name: string; readonly url: string }[];
  /** When the node last proved alive (epoch ms): its heartbeat; this node: now. */
  readonly lastSeen: number;
  /** Whether it reported itself ready (/readyz) at its last heartbeat. */
  readonly ready: boolean;
}

export interface ClusterPartitionView {
  readonly partition: number;
  /** The node holding the partition's lease; absent while nobody does (a takeover in progress). */
  readonly owner?: string;
  /** The lease's fencing epoch, where leases have one. */
  readonly epoch?: number;
  /** Events published to the partition and not yet processed by its owner; absent when unknown. */
  readonly lag?: number;
}

export interface ClusterView {
  /** The cluster's name (the NATS prefix) and whether this node runs in cluster mode. */
  readonly name: string;
  readonly clustered: boolean;
  nodes(): Promise<readonly ClusterNodeView[]>;
  partitions(): Promise<readonly ClusterPartitionView[]>;
}
