/**
 * GET /api/cluster: the cluster's nodes (id, addresses, last seen, ready) and the owner and lag of
 * each rule-engine partition, for `continuum cluster status` and operators. Node addresses and
 * ownership are operational details of the whole platform: administrators only (settings:read).
 */
import { Type } from '@sinclair/typebox';
import type { ClusterView } from '../ports/cluster-view.js';
import { errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const NodeView = Type.Object({
  id: Type.String(),
  addresses: Type.Array(Type.Object({ name: Type.String(), url: Type.String() })),
  lastSeen: Type.Integer({ description: 'epoch ms of its last heartbeat' }),
  ready: Type.Boolean(),
  self: Type.Boolean({ description: 'the node that answered' }),
});

const PartitionView = Type.Object({
  partition: Type.Integer({ minimum: 0 }),
  owner: Type.Union([Type.String(), Type.Null()], { description: 'null: no live owner (a takeover in progress)' }),
  epoch: Type.Union([Type.Integer(), Type.Null()], { description: "the owner's fencing epoch; null where leases have none" }),
  lag: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'events not yet processed by the owner; null: unknown' }),
});

const ClusterStatusView = Type.Object({
  name: Type.String({ description: 'the cluster name (NATS prefix)' }),
  clustered: Type.Boolean({ description: 'false: a single node (SQLite or memory store)' }),
  nodeId: Type.String({ description: 'the node that answered' }),
  nodes: Type.Array(NodeView),
  partitions: Type.Array(PartitionView),
});

export const clusterRoutes: ApiPlugin<{ cluster: ClusterView; nodeId: string }> = async (app, { cluster, nodeId }) => {
  app.get(
    '/cluster',
    {
      schema: {
        tags: ['operations'],
        operationId: 'getClusterStatus',
        summary: 'Cluster nodes (addresses, last seen, ready) and the owner and lag of each partition',
        response: { 200: ClusterStatusView, ...errorResponses },
      },
    },
    async () => {
      const [nodes, partitions] = await Promise.all([cluster.nodes(), cluster.partitions()]);
      return {
        name: cluster.name,
        clustered: cluster.clustered,
        nodeId,
        nodes: nodes.map((n) => ({ id: n.id, addresses: [...n.addresses], lastSeen: n.lastSeen, ready: n.ready, self: n.id === nodeId })),
        partitions: partitions.map((p) => ({ partition: p.partition, owner: p.owner ?? null, epoch: p.epoch ?? null, lag: p.lag ?? null })),
      };
    },
  );
};
