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
import { V18_TENANCY } from './tenancy.js';
import { V19_CUSTOMERS_GROUPS } from './customers.js';

export type { MigrationContext, TokenDigest } from './migrate-tokens.js';

export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly up: (db: Db, ctx: MigrationContext) => void;
}

const V1_REGISTRY = `
  CREATE TABLE tenants (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
  ) STRICT;

  CREATE TABLE profiles (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id),
    name             TEXT NOT NULL,
    codec            TEXT NOT NULL,
    telemetry_keys   TEXT NOT NULL,              -- JSON array of TelemetryKeySpec
    provision_key    TEXT UNIQUE,
    provision_secret TEXT,
    created_at       INTEGER NOT NULL,
    UNIQUE (tenant_id, name)
  ) STRICT;

  -- name_fold / label_fold: lower-cased in JS for case-insensitive search (Unicode, not only ASCII).
  CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    name_fold  TEXT NOT NULL,
    label      TEXT,
    label_fold TEXT,
    profile_id TEXT NOT NULL REFERENCES profiles (id),
    is_gateway INTEGER NOT NULL,
    gateway_id TEXT REFERENCES devices (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, name)                     -- also serves ORDER BY name within a tenant
  ) STRICT;
  CREATE INDEX devices_gateway ON devices (gateway_id);
  CREATE INDEX devices_profile ON devices (profile_id);

  -- cred_key is what must be unique across devices: token, fingerprint or (client id, user name).
  CREATE TABLE credentials (
    device_id     TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    type          TEXT NOT NULL,
    cred_key      TEXT NOT NULL UNIQUE,
    token         TEXT,
    client_id     TEXT,
    username      TEXT,
    password_hash TEXT,
    fingerprint   TEXT,
    PRIMARY KEY (device_id, type)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX credentials_client ON credentials (client_id) WHERE client_id IS NOT NULL;
  CREATE INDEX credentials_username ON credentials (username) WHERE username IS NOT NULL;
`;

// Telemetry, attributes and statuses are keyed by device id without a foreign key on purpose: a
// group commit or status flush that races a device deletion must not fail for every other device
// in the batch. deleteDevice removes them explicitly in its transaction.
const V1_TELEMETRY = `
  CREATE TABLE ts_device (
    id   INTEGER PRIMARY KEY,                    -- the surrogate ts_kv stores
    uuid TEXT NOT NULL UNIQUE
  ) STRICT;

  CREATE TABLE ts_key (
    id  INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE
  ) STRICT;

  -- t: 0 number, 1 boolean (v = 0/1), 2 string, 3 JSON text. ANY in a STRICT table keeps v as bound.
  CREATE TABLE ts_kv (
    device INTEGER NOT NULL,
    key    INTEGER NOT NULL,
    ts     INTEGER NOT NULL,
    t      INTEGER NOT NULL,
    v      ANY NOT NULL,
    PRIMARY KEY (device, key, ts)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE ts_latest (
    device INTEGER NOT NULL,
    key    INTEGER NOT NULL,
    ts     INTEGER NOT NULL,
    t      INTEGER NOT NULL,
    v      ANY NOT NULL,
    PRIMARY KEY (device, key)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE attributes (
    device_id      TEXT NOT NULL,
    scope          TEXT NOT NULL,
    key            TEXT NOT NULL,
    value          TEXT NOT NULL,                -- JSON
    last_update_ts INTEGER NOT NULL,
    PRIMARY KEY (device_id, scope, key)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE device_status (
    device_id       TEXT PRIMARY KEY,
    online          INTEGER NOT NULL,
    last_activity   INTEGER,
    last_connect    INTEGER,
    last_disconnect INTEGER,
    transport       TEXT
  ) STRICT, WITHOUT ROWID;
`;

const V1_USERS = `
  CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id),
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL UNIQUE,          -- lower-cased email
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_at    INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX api_keys_user ON api_keys (user_id);

  CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;
`;

// Alarms and commands: keyed by device id without a foreign key, like telemetry (see above);
// deleteDevice removes them. One open alarm per (device, type) is the partial unique index.
const V2_ALARMS_COMMANDS = `
  CREATE TABLE alarms (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    type            TEXT NOT NULL,
    severity        TEXT NOT NULL,
    status          TEXT NOT NULL,               -- active | acknowledged | cleared
    repeat_count    INTEGER NOT NULL,
    details         TEXT NOT NULL,               -- JSON
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    acknowledged_at INTEGER,
    cleared_at      INTEGER
  ) STRICT;
  CREATE UNIQUE INDEX alarms_open ON alarms (device_id, type) WHERE status != 'cleared';
  CREATE INDEX alarms_tenant ON alarms (tenant_id, created_at);
  CREATE INDEX alarms_device ON alarms (device_id, created_at);

  CREATE TABLE alarm_events (
    seq      INTEGER PRIMARY KEY,                -- insertion order
    alarm_id TEXT NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
    ts       INTEGER NOT NULL,
    action   TEXT NOT NULL,
    severity TEXT NOT NULL,
    actor    TEXT,
    details  TEXT                                -- JSON
  ) STRICT;
  CREATE INDEX alarm_events_alarm ON alarm_events (alarm_id, seq);

  CREATE TABLE commands (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    method      TEXT NOT NULL,
    params      TEXT NOT NULL,                   -- JSON
    oneway      INTEGER NOT NULL,
    persistent  INTEGER NOT NULL,
    status      TEXT NOT NULL,
    response    TEXT,                            -- JSON; NULL = no answer
    error       TEXT,
    retries     INTEGER NOT NULL,
    max_retries INTEGER NOT NULL,
    timeout_ms  INTEGER NOT NULL,
    origin      TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX commands_tenant ON commands (tenant_id, created_at);
  CREATE INDEX commands_device ON commands (device_id, created_at);
  -- The outbox: small however long the history grows.
  CREATE INDEX commands_pending ON commands (device_id, created_at)
    WHERE persistent = 1 AND status IN ('QUEUED', 'SENT', 'DELIVERED');
`;

// Rules as JSON documents, and what each rule remembers per device (survives restarts).
const V3_RULES = `
  CREATE TABLE rules (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    name       TEXT NOT NULL,
    doc        TEXT NOT NULL,                    -- the whole rule as JSON
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX rules_tenant ON rules (tenant_id, name);

  CREATE TABLE rule_state (
    rule_id    TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    state      TEXT NOT NULL,                    -- JSON: edge, duration start, windows
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (rule_id, device_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX rule_state_device ON rule_state (device_id);
`;

// The telemetry write path (telemetry.ts): appendTelemetry appends each group commit to this rowid
// table (sequential pages, no index: an index on (device, key, ts) would dirty one page per series
// per commit again, which is the cost the log exists to avoid); a background merge moves it into
// ts_kv in sorted bulk. Rows not yet merged are also held in memory for reads and reloaded on open.
const V4_TELEMETRY_LOG = `
  CREATE TABLE ts_log (
    device INTEGER NOT NULL,
    key    INTEGER NOT NULL,
    ts     INTEGER NOT NULL,
    t      INTEGER NOT NULL,
    v      ANY NOT NULL
  ) STRICT;
`;

// User-composed dashboards (widgets as one JSON array), and the command controls a device
// profile offers on its devices (JSON array of ProfileControl, NULL = none).
const V5_DASHBOARDS = `
  CREATE TABLE dashboards (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    description TEXT,
    widgets     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX dashboards_tenant ON dashboards (tenant_id, name);

  ALTER TABLE profiles ADD COLUMN controls TEXT;
`;

// Hourly roll-ups of the numeric rows of ts_kv (rollups.ts), kept in the transaction of every
// write to ts_kv; an existing database builds them from ts_kv here, once. The hour expression is
// rollups.ts's HOUR_SQL (floor to the UTC hour, also for negative ts).
const V6_TS_HOURLY = `
  CREATE TABLE ts_hourly (
    device INTEGER NOT NULL,
    key    INTEGER NOT NULL,
    hour   INTEGER NOT NULL,                     -- ms since epoch, a multiple of 3,600,000
    cnt    INTEGER NOT NULL,                     -- numeric rows (t = 0) in the hour, > 0
    sum    REAL NOT NULL,
    min    REAL NOT NULL,
    max    REAL NOT NULL,
    PRIMARY KEY (device, key, hour)
  ) STRICT, WITHOUT ROWID;

  INSERT INTO ts_hourly (device, key, hour, cnt, sum, min, max)
    SELECT device, key, ts - ((ts % 3600000) + 3600000) % 3600000 AS hour, count(*), sum(v), min(v), max(v)
    FROM ts_kv WHERE t = 0 GROUP BY device, key, hour;
`;

// The audit log (audit.ts): append-only, so UPDATE is refused by trigger; DELETE is left to
// retention (pruneAudit). seq keeps insertion order among entries of the same millisecond.
const V7_AUDIT = `
  CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    ts          INTEGER NOT NULL,
    tenant_id   TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_name  TEXT,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    target_type TEXT,
    target_id   TEXT,
    address     TEXT,
    details     TEXT                             -- JSON, secrets redacted
  ) STRICT;
  CREATE INDEX audit_tenant_ts ON audit_log (tenant_id, ts);
  CREATE INDEX audit_target ON audit_log (target_id) WHERE target_id IS NOT NULL;
  CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

/** Revocable sign-ins (issue 12): disabled users, a token version per user, API keys that expire. */
const V8_USER_REVOCATION = `
  ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
  CREATE INDEX users_tenant ON users (tenant_id, created_at);
`;

/**
 * The transactional outbox (outbox.ts): events written in the transaction of the telemetry they
 * announce, deleted once published. A rowid table: ids grow in write order.
 */
const V10_BUS_OUTBOX = `
  CREATE TABLE bus_outbox (
    id      INTEGER PRIMARY KEY,
    payload TEXT NOT NULL                        -- the relay's JSON encoding of the events
  ) STRICT;
`;

/**
 * Sign-in (issue 15, item 4): provider accounts linked to users, TOTP enrolments (the secret
 * sealed by the service, recovery codes as sha256 in a JSON array), and a role per API key.
 */
const V20_SIGNIN = `
  CREATE TABLE user_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, subject)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX user_identities_user ON user_identities (user_id);
  CREATE TABLE user_totp (
    user_id         TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret          TEXT NOT NULL,
    confirmed_at    INTEGER,
    last_step       INTEGER NOT NULL DEFAULT 0,
    recovery_hashes TEXT NOT NULL DEFAULT '[]'
  ) STRICT;
  ALTER TABLE api_keys ADD COLUMN role TEXT;
`;

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
