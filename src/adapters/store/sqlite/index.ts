/**
 * The SQLite Store (better-sqlite3): one file, WAL, one connection used synchronously from the
 * event loop. Each part below owns a group of tables; this file opens the database, composes the
 * parts and runs the one operation that spans them (deleting a device and everything it owns).
 *
 * One process writes the file: the surrogate-id caches of the telemetry part assume so. Another
 * process may still lock it for a while (a `sqlite3` shell, a backup): calls then wait on timers,
 * in order, instead of blocking the event loop (busy.ts).
 */
import type { BrokerStateStore, Logger, Store } from '../../../ports.js';
import { guardClosed } from '../shared.js';
import { createSqliteAlarms } from './alarms.js';
import { createSqliteAttributes } from './attributes.js';
import { createSqliteAudit } from './audit.js';
import { createSqliteBrokerState } from './broker-state.js';
import { retryWhenBusy } from './busy.js';
import { startCheckpointer, type Checkpointer, type CheckpointerOptions } from './checkpointer.js';
import { createSqliteCommands } from './commands.js';
import { createSqliteCredentials } from './credentials.js';
import { createSqliteCustomers } from './customers.js';
import { createSqliteDashboards } from './dashboards.js';
import { createSqliteIds } from './ids.js';
import { createSqliteOta } from './ota.js';
import { createSqliteOtaKeys } from './ota-keys.js';
import { createSqliteOtaDeployments } from './ota-deployments.js';
import { createSqliteIntegrations } from './integrations.js';
import { createSqliteMqttGrants } from './mqtt-grants.js';
import { createSqliteQuotas } from './quotas.js';
import { createSqliteZones } from './zones.js';
import { createSqliteTrips } from './trips.js';
import { createSqliteOutbox } from './outbox.js';
import { createSqliteRegistry } from './registry.js';
import { createSqliteRules } from './rules.js';
import { createSqliteTenancy } from './tenancy.js';
import { openDatabase, type TokenDigest } from './schema.js';
import type { Db } from './sql.js';
import { createSqliteTelemetry, type TelemetryLogOptions } from './telemetry.js';
import { createSqliteSignin } from './signin.js';
import { createSqliteUsers } from './users.js';

export { MIGRATIONS, SCHEMA_VERSION } from './schema.js';

export interface SqliteStoreOptions {
  /** Database file; its directory is created if missing. */
  readonly file: string;
  /** NORMAL survives a killed process; FULL also survives power loss (see schema.ts). */
  readonly synchronous: 'NORMAL' | 'FULL';
  readonly logger?: Logger;
  /**
   * Hashes an access token as the registry does; needed once, to migrate a database that still
   * holds tokens in clear (schema v9, migrate-tokens.ts).
   */
  readonly tokenDigest?: TokenDigest;
  /** Merge thresholds of the telemetry log: for tests and benches only (see telemetry.ts). */
  readonly telemetryLog?: TelemetryLogOptions;
  /** WAL checkpoints on a worker thread (checkpointer.ts); `false` leaves them to SQLite's autocheckpoint. */
  readonly checkpoints?: CheckpointerOptions | false;
}

function isFile(file: string): boolean {
  return file !== ':memory:' && file !== '';
}

/** Moves checkpoints off the writer's connection (an in-memory database has no WAL to copy back). */
function checkpointsOnWorker(db: Db, opts: SqliteStoreOptions): Checkpointer | undefined {
  if (opts.checkpoints === false || !isFile(opts.file)) return undefined;
  db.pragma('wal_autocheckpoint = 0');
  return startCheckpointer(db, opts.file, {
    ...opts.checkpoints,
    onError: (err) => {
      opts.logger?.warn({ file: opts.file, err }, 'WAL checkpoint failed; retrying later');
      if (opts.checkpoints) opts.checkpoints.onError?.(err);
    },
  });
}

export function createSqliteStore(opts: SqliteStoreOptions): Store {
  return openSqliteStore(opts).store;
}

/**
 * The Store and, on the same connection and file, the MQTT broker's state (broker-state.ts): a
 * separate port, so a cluster can keep broker state elsewhere while the Store stays SQLite.
 * Closing the store closes both.
 */
export function openSqliteStore(opts: SqliteStoreOptions): { store: Store; brokerState: BrokerStateStore } {
  const db = openDatabase(opts);
  const checkpointer = checkpointsOnWorker(db, opts);
  const credentials = createSqliteCredentials(db);
  const { deleteDeviceRow, ...registry } = createSqliteRegistry(db, credentials);
  const { write: writeOutbox, flush: flushOutbox, ...outbox } = createSqliteOutbox(db);
  const { deleteDevice: deleteTelemetry, closeTelemetry, ...telemetry } = createSqliteTelemetry(
    db,
    {
      ...opts.telemetryLog,
      onMerge: (rows, ms, err) => {
        if (err !== undefined) opts.logger?.warn({ rows, err }, 'telemetry log merge failed; retrying later');
        opts.telemetryLog?.onMerge?.(rows, ms, err);
      },
    },
    writeOutbox,
  );
  const { deleteDevice: deleteAttributes, ...attributes } = createSqliteAttributes(db);
  const users = createSqliteUsers(db);
  const { deleteDevice: deleteAlarms, flushAlarms, ...alarms } = createSqliteAlarms(db);
  const { deleteDevice: deleteCommands, ...commands } = createSqliteCommands(db);
  const { deleteDevice: deleteRuleStates, ...rules } = createSqliteRules(db);
  const { insert: _insert, ...credentialStore } = credentials;
  const dashboards = createSqliteDashboards(db);
  const audit = createSqliteAudit(db);

  const deleteTx = db.transaction((id: string): boolean => {
    const existed = deleteDeviceRow(id);
    deleteAttributes(id);
    deleteTelemetry(id);
    deleteAlarms(id);
    deleteCommands(id);
    deleteRuleStates(id);
    return existed;
  });

  opts.logger?.info({ file: opts.file, synchronous: opts.synchronous }, 'sqlite store open');

  const store: Store = {
    kind: 'sqlite',
    ...registry,
    ...credentialStore,
    ...telemetry,
    ...outbox,
    ...attributes,
    ...users,
    ...createSqliteSignin(db),
    ...alarms,
    ...commands,
    ...createSqliteIds(db),
    ...rules,
    ...dashboards,
    ...createSqliteOta(db),
    ...createSqliteOtaKeys(db),
    ...createSqliteOtaDeployments(db),
    ...createSqliteIntegrations(db),
    ...createSqliteMqttGrants(db),
    ...createSqliteQuotas(db),
    ...createSqliteZones(db),
    ...createSqliteTrips(db),
    ...createSqliteTenancy(db),
    ...createSqliteCustomers(db),
    ...audit,
    async deleteDevice(id: string): Promise<boolean> {
      flushAlarms(); // queued alarm writes of this device land before it is deleted, not after
      return deleteTx(id);
    },
    async close(): Promise<void> {
      if (!db.open) return;
      await checkpointer?.close(); // first: nothing below may wait once the merge has begun
      if (!db.open) return;
      flushAlarms(); // commits alarm writes still queued for the next turn
      flushOutbox(); // deletes what was published
      closeTelemetry(); // merges the log: a closed file holds all telemetry in ts_kv
      db.close(); // the last connection to close checkpoints what is left
    },
  };
  return {
    store: guardClosed(retryWhenBusy(store, opts.logger), () => !db.open),
    brokerState: retryWhenBusy(createSqliteBrokerState(db), opts.logger),
  };
}
