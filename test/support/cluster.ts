/**
 * Test support: a Continuum cluster on this machine (issue 14). N `continuum start` child
 * processes (port 0, ports.json) on one PostgreSQL database of the test's own
 * (postgres-support.ts createTestDatabase) and one NATS stream prefix of its own — on the
 * machine's nats-server (R1), or on a three-server JetStream cluster the test starts (R3,
 * nats-cluster.ts). Helpers kill -9 a node, restart it on its data dir, and cut the database off
 * from the nodes and back.
 *
 * The nodes are started with the flags that exist today (`--store postgres --postgres URL
 * --bus nats --nats URL --node-id ID`) and the bus prefix/replicas/partitions by environment
 * (CONTINUUM_BUS_NATS_*). When `continuum start --cluster` lands, only `nodeArgs` changes.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'nats';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../adapters/store/postgres-support.js';
import { NATS_URL } from '../adapters/bus/nats-support.js';
import { startNatsCluster, type NatsCluster } from './nats-cluster.js';
import { apiClient, METRICS_TOKEN, spawnServer, tempDir, waitForExit, type ApiClient, type ServerProcess } from './platform.js';

const ADMIN_URL = process.env.CONTINUUM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ClusterNode {
  readonly id: string;
  readonly dataDir: string;
  server: ServerProcess;
  /** False after kill() until restart(). */
  alive: boolean;
  readonly baseUrl: string;
  readonly mqttPort: number;
}

export interface ClusterOptions {
  /** Continuum processes (default 3). */
  readonly nodes?: number;
  /** 'machine': the shared nats-server on 127.0.0.1:4222, R1. 'own': three servers of the test's own, R3. */
  readonly nats?: 'machine' | 'own';
  /** Bus partitions (default 8: enough to spread devices, few consumers to create per group). */
  readonly partitions?: number;
  /** More environment for every node. */
  readonly env?: Record<string, string>;
}

export interface Cluster {
  readonly nodes: ClusterNode[];
  readonly db: TestDatabase;
  /** The database's name (continuum_test_<random>). */
  readonly dbName: string;
  readonly prefix: string;
  /** Present with `nats: 'own'`. */
  readonly nats?: NatsCluster;
  /** The admin's REST client on node `index`. */
  api(index: number): Promise<ApiClient>;
  /** MQTT ports of the nodes that are alive. */
  liveMqttPorts(): number[];
  /** SIGKILL node `index` (no shutdown hooks run) and wait for it to exit. */
  kill(index: number): Promise<void>;
  /** Starts node `index` again on its data dir and node id (new ports); a live one is killed first. */
  restart(index: number): Promise<ClusterNode>;
  /** A query on the test database, outside the platform. */
  sql<T extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
  /** The database refuses every new connection and every open one is terminated (as a restart does to them). */
  cutDatabase(): Promise<void>;
  /** The database accepts connections again. */
  restoreDatabase(): Promise<void>;
  /**
   * Messages the work-queue groups still have to handle (pending + unacknowledged on the durable
   * consumers of every stream of the prefix). Broadcast subscriptions are ephemeral ordered
   * consumers: a killed node's stay behind until the server drops them, so they do not count.
   */
  busBacklog(): Promise<number>;
  /** SIGTERM every live node, then the bus prefix, the database and the temp dirs go. */
  stop(): Promise<void>;
}

/** Streams, consumers (with their streams) and KV / object-store buckets named by `prefix`. */
export async function deleteNatsPrefix(servers: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: servers.split(','), timeout: 5000 });
  try {
    const jsm = await nc.jetstreamManager();
    const owned = (name: string): boolean => name.startsWith(prefix) || name.startsWith(`KV_${prefix}`) || name.startsWith(`OBJ_${prefix}`);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (owned(name)) names.push(name);
    for (const name of names) await jsm.streams.delete(name);
  } finally {
    await nc.close();
  }
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const count = options.nodes ?? 3;
  const prefix = `cc${randomBytes(4).toString('hex')}`;
  const nats = options.nats === 'own' ? await startNatsCluster(3) : undefined;
  const natsUrl = nats?.url ?? NATS_URL;
  const db = await createTestDatabase();
  const dbName = new URL(db.url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const env = {
    CONTINUUM_BUS_NATS_PREFIX: prefix,
    CONTINUUM_BUS_NATS_REPLICAS: nats ? '3' : '1',
    CONTINUUM_BUS_NATS_PARTITIONS: String(options.partitions ?? 8),
    // A killed node's unacknowledged work comes back after ack_wait: 5 s, not the default 30.
    CONTINUUM_BUS_NATS_ACK_WAIT_MS: '5000',
    CONTINUUM_METRICS_TOKEN: METRICS_TOKEN,
    // Every node hashes device tokens with the same key (each data dir would otherwise make its own).
    CONTINUUM_AUTH_CREDENTIAL_KEY: randomBytes(32).toString('base64'),
    ...options.env,
  };
  const dirs: string[] = [];
  const nodes: ClusterNode[] = [];

  const launch = async (id: string, dataDir: string): Promise<ClusterNode> => {
    rmSync(join(dataDir, 'ports.json'), { force: true });
    const args = ['--store', 'postgres', '--postgres', db.url, '--bus', 'nats', '--nats', natsUrl, '--node-id', id];
    const server = await spawnServer(dataDir, args, env, 120_000);
    return { id, dataDir, server, alive: true, baseUrl: `http://127.0.0.1:${server.ports.http}`, mqttPort: server.ports.mqtt };
  };

  const cluster: Cluster = {
    nodes,
    db,
    dbName,
    prefix,
    ...(nats ? { nats } : {}),
    api: (index) => apiClient(nodes[index]!.baseUrl),
    liveMqttPorts: () => nodes.filter((n) => n.alive).map((n) => n.mqttPort),
    async kill(index) {
      const node = nodes[index]!;
      node.alive = false;
      node.server.child.kill('SIGKILL');
      await waitForExit(node.server.child);
    },
    async restart(index) {
      const old = nodes[index]!;
      if (old.alive) await cluster.kill(index);
      nodes[index] = await launch(old.id, old.dataDir);
      return nodes[index];
    },
    async busBacklog() {
      const nc = await connect({ servers: natsUrl.split(','), timeout: 5000 });
      try {
        const jsm = await nc.jetstreamManager();
        let backlog = 0;
        for await (const stream of jsm.streams.names()) {
          if (!stream.startsWith(prefix)) continue;
          for await (const c of jsm.consumers.list(stream)) if (c.config.durable_name) backlog += c.num_pending + c.num_ack_pending;
        }
        return backlog;
      } finally {
        await nc.close();
      }
    },
    async sql<T extends pg.QueryResultRow>(text: string, values: unknown[] = []) {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        return (await client.query<T>(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    async cutDatabase() {
      // Only this test's database: the machine's PostgreSQL serves every other test running now,
      // so it is not restarted. A terminated backend gets 57P01 admin_shutdown, as in a restart.
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [dbName]);
    },
    async restoreDatabase() {
      await admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
    },
    async stop() {
      await Promise.all(
        nodes.map(async (n) => {
          if (!n.alive) return;
          n.alive = false;
          n.server.child.kill('SIGTERM');
          const timer = setTimeout(() => n.server.child.kill('SIGKILL'), 15_000);
          await waitForExit(n.server.child);
          clearTimeout(timer);
        }),
      );
      const errors: unknown[] = [];
      const attempt = async (what: () => Promise<unknown>): Promise<void> => {
        await what().catch((err: unknown) => errors.push(err));
      };
      await attempt(() => admin.query(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`));
      await attempt(() => admin.end());
      if (nats) await attempt(() => nats.stop());
      else await attempt(() => deleteNatsPrefix(natsUrl, prefix));
      await attempt(() => db.drop());
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      if (errors.length > 0) throw new AggregateError(errors, 'cluster clean-up');
    },
  };

  try {
    // One after another: the first runs the migrations and creates the admin, the others find
    // both (no two nodes racing to create the first user).
    for (let i = 0; i < count; i++) {
      const dir = tempDir('continuum-node-');
      dirs.push(dir);
      nodes.push(await launch(`node-${String.fromCharCode(97 + i)}`, dir));
    }
  } catch (err) {
    await cluster.stop().catch(() => undefined);
    throw err;
  }
  return cluster;
}
