/**
 * The PostgreSQL Store: a pooled `pg` connection set, schema migrated by node-pg-migrate at
 * open, one part per group of tables (as in ../sqlite), composed here with the one operation
 * that spans them (deleting a device and everything it owns).
 */
import type { ClusterBackend, Clock, Logger, Store } from '../../../ports.js';
import { systemClock } from '../../../ports.js';
import { guardClosed } from '../shared.js';
import { createPgAlarms, deleteDeviceAlarms } from './alarms.js';
import { createPgAttributes } from './attributes.js';
import { createPgAudit } from './audit.js';
import { createPgCluster } from './cluster.js';
import { createPgCommands, deleteDeviceCommands } from './commands.js';
import { createPgCredentials } from './credentials.js';
import { createPgCustomers } from './customers.js';
import { createPgIntegrations } from './integrations.js';
import { createPgMqttGrants } from './mqtt-grants.js';
import { createPgOtaKeys } from './ota-keys.js';
import { createPgQuotas } from './quotas.js';
import { createPgSignin } from './signin.js';
import { createPgTenancy } from './tenancy.js';
import { createPool, inTx, quoteIdent, type PgOptions } from './db.js';
import { migrate } from './migrate.js';
import { createPgIds, createPgOutbox } from './outbox.js';
import { openPartitions } from './partitions.js';
import { createPgOta, createPgOtaDeployments } from './ota.js';
import { createPgRegistry } from './registry.js';
import { createPgDashboards, createPgRules, deleteDeviceRuleState } from './rules.js';
import { createPgTelemetry, deleteDeviceTelemetry } from './telemetry.js';
import { createPgUsers } from './users.js';

export { SCHEMA_VERSION } from './migrate.js';

export interface PostgresStoreOptions extends PgOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/** The Store, plus what only the PostgreSQL store offers (partition retention). */
export interface PostgresStore extends Store {
  /** Drops the telemetry partitions (whole months) that end at or before `cutoff` (epoch ms). */
  dropTelemetryBefore(cutoff: number): Promise<string[]>;
  /** Membership, partition leases, rule checkpoints and firing keys of a cluster on this database (cluster.ts). */
  readonly cluster: ClusterBackend;
}

export async function createPostgresStore(opts: PostgresStoreOptions): Promise<PostgresStore> {
  const schema = opts.schema ?? 'public';
  const pool = createPool(opts);
  // An idle connection that fails (server restart) must not crash the process; the next query reconnects.
  pool.on('error', (err) => opts.logger?.warn({ err }, 'postgres connection lost'));
  try {
    const client = await pool.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await migrate(client, schema, opts.logger);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end();
    throw err;
  }
  const partitions = await openPartitions(pool, () => (opts.clock ?? systemClock).now());
  let closed = false;

  const store: PostgresStore = {
    kind: 'postgres',
    ...createPgRegistry(pool),
    ...createPgCredentials(pool),
    ...createPgTelemetry(pool, partitions),
    ...createPgOutbox(pool),
    ...createPgAttributes(pool),
    ...createPgUsers(pool),
    ...createPgIds(pool),
    ...createPgAlarms(pool),
    ...createPgCommands(pool),
    ...createPgRules(pool),
    ...createPgDashboards(pool),
    ...createPgAudit(pool),
    ...createPgOta(pool),
    ...createPgOtaDeployments(pool),
    ...createPgIntegrations(pool),
    ...createPgSignin(pool),
    ...createPgMqttGrants(pool),
    ...createPgQuotas(pool),
    ...createPgOtaKeys(pool),
    ...createPgTenancy(pool),
    ...createPgCustomers(pool),
    async deleteDevice(id: string): Promise<boolean> {
      return inTx(pool, async (c) => {
        // Credentials go by ON DELETE CASCADE, children of a gateway are unlinked by ON DELETE SET NULL.
        const existed = ((await c.query('DELETE FROM devices WHERE id = $1', [id])).rowCount ?? 0) > 0;
        await c.query('DELETE FROM attributes WHERE device_id = $1', [id]);
        await c.query('DELETE FROM device_status WHERE device_id = $1', [id]);
        await deleteDeviceTelemetry(c, id);
        await deleteDeviceAlarms(c, id);
        await deleteDeviceCommands(c, id);
        await deleteDeviceRuleState(c, id);
        return existed;
      });
    },
    dropTelemetryBefore: (cutoff: number) => partitions.dropBefore(cutoff),
    cluster: createPgCluster(pool),
    async ping(): Promise<void> {
      // A pooled connection the server has since dropped is replaced by the pool: this reflects the server now.
      await pool.query('SELECT 1');
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  opts.logger?.info({ schema, poolSize: opts.poolSize }, 'postgres store open');
  return guardClosed(store, () => closed);
}
