/**
 * Opening the database: pragmas, then ordered migrations tracked in `PRAGMA user_version`.
 * A migration never changes once released; a schema change is a new entry at the end.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../../../ports.js';
import { hashStoredTokens, type MigrationContext } from './migrate-tokens.js';
import { V13_MQTT_SESSIONS, V14_MQTT_RETAINED } from './broker-state.js';
import type { Db } from './sql.js';
import { BUSY_TIMEOUT_MS } from './busy.js';
import { V11_CAS_LEASES_IDS, V12_STATUS_EPOCH } from './schema-identity.js';
import { V15_OTA } from './ota.js';
import { V16_OTA_DEPLOYMENTS } from './ota-deployments.js';
import { V17_INTEGRATIONS } from './integrations.js';
import { V21_MQTT_GRANTS } from './mqtt-grants.js';
import { V22_TENANT_QUOTAS } from './quotas.js';
import { V24_OTA_SIGNING } from './ota-keys.js';
import { V25_ZONES_TRIPS } from './zones.js';
import { V18_TENANCY } from './tenancy.js';
import { V19_CUSTOMERS_GROUPS } from './customers.js';
import { V1_REGISTRY, V1_TELEMETRY, V1_USERS, V2_ALARMS_COMMANDS, V3_RULES, V4_TELEMETRY_LOG, V5_DASHBOARDS, V6_TS_HOURLY, V7_AUDIT, V8_USER_REVOCATION, V10_BUS_OUTBOX, V20_SIGNIN } from './schema-ddl.js';

export type { MigrationContext, TokenDigest } from './migrate-tokens.js';

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly up: (db: Db, ctx: MigrationContext) => void;
}

/** In order; each runs in its own transaction together with the user_version bump. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'registry, credentials, telemetry, attributes, statuses, users',
    up: (db) => db.exec(V1_REGISTRY + V1_TELEMETRY + V1_USERS),
  },
  {
    version: 2,
    description: 'alarms with their history, commands and the command outbox',
    up: (db) => db.exec(V2_ALARMS_COMMANDS),
  },
  {
    version: 3,
    description: 'rules and their per-device state',
    up: (db) => db.exec(V3_RULES),
  },
  {
    version: 4,
    description: 'append-only telemetry log merged into ts_kv in the background',
    up: (db) => db.exec(V4_TELEMETRY_LOG),
  },
  {
    version: 5,
    description: 'dashboards, and command controls on device profiles',
    up: (db) => db.exec(V5_DASHBOARDS),
  },
  {
    version: 6,
    description: 'hourly roll-ups of numeric telemetry',
    up: (db) => db.exec(V6_TS_HOURLY),
  },
  {
    version: 7,
    description: 'append-only audit log',
    up: (db) => db.exec(V7_AUDIT),
  },
  {
    version: 8,
    description: 'users: disabled flag and token version; API keys: expiry',
    up: (db) => db.exec(V8_USER_REVOCATION),
  },
  {
    version: 9,
    description: 'access tokens stored as a keyed hash and a hint, never in clear',
    up: hashStoredTokens,
  },
  {
    version: 10,
    description: 'transactional outbox of bus events (ingest → rules cannot lose an event)',
    up: (db) => db.exec(V10_BUS_OUTBOX),
  },
  {
    version: 11,
    description: 'compare-and-set versions on alarms and commands, command leases, id sequences',
    up: (db) => db.exec(V11_CAS_LEASES_IDS),
  },
  {
    version: 12,
    description: 'device statuses carry the session epoch and node id',
    up: (db) => db.exec(V12_STATUS_EPOCH),
  },
  {
    version: 13,
    description: 'MQTT broker: persistent sessions, their subscriptions and queued/in-flight messages',
    up: (db) => db.exec(V13_MQTT_SESSIONS),
  },
  {
    version: 14,
    description: 'MQTT broker: retained messages',
    up: (db) => db.exec(V14_MQTT_RETAINED),
  },
  {
    version: 15,
    description: 'OTA packages (metadata; bytes in the package blob store) and per-device assignments',
    up: (db) => db.exec(V15_OTA),
  },
  {
    version: 16,
    description: 'OTA deployments (rollouts) and each targeted device\'s rollout state',
    up: (db) => db.exec(V16_OTA_DEPLOYMENTS),
  },
  {
    version: 17,
    description: 'integrations (issue 18) and their durable export buffers',
    up: (db) => db.exec(V17_INTEGRATIONS),
  },
  {
    version: 18,
    description: 'tenants: status and creation time; built-in roles (admin → sysadmin/tenant-admin, user → operator); custom roles',
    up: (db) => db.exec(V18_TENANCY),
  },
  {
    version: 19,
    description: 'customers (a tree per tenant) with device, dashboard and user assignments; device groups and their static members',
    up: (db) => db.exec(V19_CUSTOMERS_GROUPS),
  },
  {
    version: 20,
    description: 'sign-in: OIDC identities, TOTP enrolments, a role per API key',
    up: (db) => db.exec(V20_SIGNIN),
  },
  {
    version: 21,
    description: 'device-to-device MQTT grants (issue 15)',
    up: (db) => db.exec(V21_MQTT_GRANTS),
  },
  {
    version: 22,
    description: 'per-tenant quotas and the daily count of stored points (issue 15)',
    up: (db) => db.exec(V22_TENANT_QUOTAS),
  },
  {
    version: 23,
    description: 'a payload decoder (user code) per device profile (issue 18)',
    up: (db) => db.exec('ALTER TABLE profiles ADD COLUMN decoder TEXT'),
  },
  {
    version: 24,
    description: 'OTA: signing keys (public), per-tenant policy; packages gain signature, minimum version, external URL and delta base',
    up: (db) => db.exec(V24_OTA_SIGNING),
  },
  {
    version: 25,
    description: 'zones (geofences) of tenants, profiles and devices; trips and trip trackers (issue 17)',
    up: (db) => db.exec(V25_ZONES_TRIPS),
  },
  {
    version: 26,
    description: 'telemetry retention (days) per device profile (issue 18)',
    up: (db) => db.exec('ALTER TABLE profiles ADD COLUMN retention_days INTEGER'),
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

export function migrate(db: Db, logger?: Logger, ctx: MigrationContext = {}): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema version ${current} is newer than this build understands (${SCHEMA_VERSION})`);
  }
  let previous = 0;
  let applied = false;
  for (const m of MIGRATIONS) {
    // PRAGMA takes no bound parameters; the version is our own constant, checked here.
    if (!Number.isSafeInteger(m.version) || m.version <= previous) throw new Error(`migration versions out of order at ${m.version}`);
    previous = m.version;
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db, ctx);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied = true;
    logger?.info({ version: m.version, description: m.description }, 'store schema migrated');
  }
  // Old page images (e.g. clear access tokens before v9) must not stay in the WAL file.
  if (applied) db.pragma('wal_checkpoint(TRUNCATE)');
}

export interface OpenOptions {
  readonly file: string;
  readonly synchronous: 'NORMAL' | 'FULL';
  readonly logger?: Logger;
  /** How access tokens are hashed, for databases still holding them in clear (schema v9). */
  readonly tokenDigest?: MigrationContext['tokenDigest'];
}

const SYNCHRONOUS = { NORMAL: 'NORMAL', FULL: 'FULL' } as const;
/** While opening and migrating (nothing is being served yet); afterwards see busy.ts. */
const OPEN_BUSY_TIMEOUT_MS = 5000;

export function openDatabase(opts: OpenOptions): Db {
  const synchronous = SYNCHRONOUS[opts.synchronous];
  if (synchronous === undefined) throw new Error(`synchronous must be NORMAL or FULL, got ${String(opts.synchronous)}`);
  if (opts.file !== ':memory:' && opts.file !== '') mkdirSync(dirname(opts.file), { recursive: true });
  const db = new Database(opts.file, { timeout: OPEN_BUSY_TIMEOUT_MS });
  try {
    // WAL: readers never block the writer, and a commit is one sequential append to the -wal file.
    db.pragma('journal_mode = WAL');
    // With WAL, NORMAL syncs only at checkpoints: a commit is in the OS page cache when it returns,
    // so it survives the process being killed (SIGKILL, crash) but the last commits may be lost on
    // power failure or an OS crash. FULL fsyncs the WAL on every commit and survives power loss too.
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma(`busy_timeout = ${OPEN_BUSY_TIMEOUT_MS}`);
    // Checkpoint every ~40 MiB of WAL instead of SQLite's 4 MiB: telemetry batches dirty one leaf
    // page per series, so frequent checkpoints rewrite (and, under NORMAL, fsync) the same pages
    // over and over. Measured +30% append throughput (bench/store-append.ts). The file is cut back
    // to 64 MiB after a checkpoint.
    db.pragma('wal_autocheckpoint = 10000');
    db.pragma('journal_size_limit = 67108864');
    db.pragma('foreign_keys = ON');
    db.pragma('temp_store = MEMORY');
    db.pragma('cache_size = -65536'); // 64 MiB page cache
    migrate(db, opts.logger, opts.tokenDigest ? { tokenDigest: opts.tokenDigest } : {});
    // From here on the event loop serves devices: a locked file must not hold it (busy.ts).
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
