/**
 * Per-partition metrics of cluster partition ownership (issue 14), read when /metrics is
 * scraped: which partitions this node owns, under which fencing epoch, how far behind their
 * consumers are, and how many nodes are alive. docs/grafana/continuum.json charts them.
 */
import { Gauge, type Registry } from 'prom-client';

export interface PartitionMetricsSource {
  readonly partitions: number;
  /** The epoch this node owns the partition under; undefined when another node owns it. */
  epochOf(partition: number): number | undefined;
  /** Live nodes at the coordinator's last round. */
  liveNodes(): number;
  /** Unacknowledged messages per owned partition (the rule engine's telemetry consumer). */
  lag?(owned: readonly number[]): Promise<ReadonlyMap<number, number>>;
}

export function registerPartitionMetrics(registry: Registry, s: PartitionMetricsSource): void {
  const registers = [registry];
  const owned = (): number[] => Array.from({ length: s.partitions }, (_, p) => p).filter((p) => s.epochOf(p) !== undefined);
  new Gauge({
    name: 'continuum_rule_partition_owned',
    help: 'Rule-engine partitions: 1 when this node owns the partition, else 0',
    labelNames: ['partition'],
    registers,
    collect() {
      for (let p = 0; p < s.partitions; p++) this.set({ partition: String(p) }, s.epochOf(p) === undefined ? 0 : 1);
    },
  });
  new Gauge({
    name: 'continuum_rule_partition_epoch',
    help: 'Fencing epoch under which this node owns the rule-engine partition (owned partitions only)',
    labelNames: ['partition'],
    registers,
    collect() {
      this.reset();
      for (const p of owned()) this.set({ partition: String(p) }, s.epochOf(p) as number);
    },
  });
  new Gauge({
    name: 'continuum_rule_partition_lag',
    help: 'Messages of an owned rule-engine partition not yet checkpointed and acknowledged (pending + unacknowledged on its consumer)',
    labelNames: ['partition'],
    registers,
    async collect() {
      this.reset();
      if (!s.lag) return;
      for (const [p, n] of await s.lag(owned()).catch(() => new Map<number, number>())) this.set({ partition: String(p) }, n);
    },
  });
  new Gauge({
    name: 'continuum_cluster_nodes_live',
    help: 'Cluster nodes whose heartbeat has not expired, as this node saw at its last ownership round',
    registers,
    collect() {
      this.set(s.liveNodes());
    },
  });
}
