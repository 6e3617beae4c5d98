/**
 * Cluster mode (issue 14, "Operations"): `cluster.enabled` (flag --cluster, env CONTINUUM_CLUSTER=1,
 * or `cluster: {enabled: true}` in the file) is shorthand for what every node of a cluster needs:
 * store.kind postgres, bus.kind nats, and bus.nats.prefix = cluster.name, so the streams, subjects
 * and buckets of one cluster never mix with another's on a shared NATS server.
 *
 * The URLs have no safe default in a cluster: a node that silently used the built-in
 * postgres://…/continuum or nats://127.0.0.1:4222 could join the wrong cluster, so both must be
 * given (flag, environment or file). The node id may come from the data dir (apps/node-id.ts).
 */
import type { Config } from './config-schema.js';
import type { SettingOrigin } from './config-file.js';

/** A problem in the cluster settings: one line each, as the config errors are phrased. */
export class ClusterConfigError extends Error {
  override name = 'ClusterConfigError';
}

function given(origins: ReadonlyMap<string, SettingOrigin>, path: string): boolean {
  const source = origins.get(path)?.source;
  return source !== undefined && source !== 'default';
}

/**
 * The config with cluster mode applied (unchanged when it is off); records where each derived
 * setting came from. Throws ClusterConfigError listing every missing or contradicting setting.
 */
export function applyClusterMode(config: Config, origins: Map<string, SettingOrigin>): Config {
  if (!config.cluster.enabled) return config;
  const problems: string[] = [];
  if (!given(origins, 'store.postgres.url')) problems.push('cluster mode needs the PostgreSQL URL: --postgres postgres://USER@HOST:5432/DB (env CONTINUUM_POSTGRES_URL, file store.postgres.url)');
  if (!given(origins, 'bus.nats.url')) problems.push('cluster mode needs the NATS URL: --nats nats://HOST:4222 (env CONTINUUM_NATS_URL, file bus.nats.url)');
  if (given(origins, 'store.kind') && config.store.kind !== 'postgres') problems.push(`cluster mode runs on PostgreSQL; store.kind is ${JSON.stringify(config.store.kind)} (drop --store)`);
  if (given(origins, 'bus.kind') && config.bus.kind !== 'nats') problems.push(`cluster mode runs on NATS JetStream; bus.kind is ${JSON.stringify(config.bus.kind)} (drop --bus)`);
  if (given(origins, 'bus.nats.prefix') && config.bus.nats.prefix !== config.cluster.name) {
    problems.push(`bus.nats.prefix ${JSON.stringify(config.bus.nats.prefix)} differs from cluster.name ${JSON.stringify(config.cluster.name)}: set only --cluster-name`);
  }
  if (problems.length > 0) throw new ClusterConfigError(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  const derived: SettingOrigin = { source: origins.get('cluster.enabled')?.source ?? 'override', where: 'cluster mode' };
  for (const path of ['store.kind', 'bus.kind', 'bus.nats.prefix']) if (!given(origins, path)) origins.set(path, derived);
  return {
    ...config,
    store: { ...config.store, kind: 'postgres' },
    bus: { ...config.bus, kind: 'nats', nats: { ...config.bus.nats, prefix: config.cluster.name } },
  };
}
