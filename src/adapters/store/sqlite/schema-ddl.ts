/**
 * The SQLite schema as the migrations create it, version by version, up to those whose tables
 * belong to one part of the store (each such part keeps its DDL next to its queries: ota.ts,
 * tenancy.ts, customers.ts…). schema.ts lists the migrations in order and applies them.
 */

export const V1_REGISTRY = `
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
export const V1_TELEMETRY = `
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

export const V1_USERS = `
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
export const V2_ALARMS_COMMANDS = `
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
export const V3_RULES = `
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
export const V4_TELEMETRY_LOG = `
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
export const V5_DASHBOARDS = `
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
export const V6_TS_HOURLY = `
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
export const V7_AUDIT = `
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
export const V8_USER_REVOCATION = `
  ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE api_keys ADD COLUMN expires_at INTEGER;
  CREATE INDEX users_tenant ON users (tenant_id, created_at);
`;

/**
 * The transactional outbox (outbox.ts): events written in the transaction of the telemetry they
 * announce, deleted once published. A rowid table: ids grow in write order.
 */
export const V10_BUS_OUTBOX = `
  CREATE TABLE bus_outbox (
    id      INTEGER PRIMARY KEY,
    payload TEXT NOT NULL                        -- the relay's JSON encoding of the events
  ) STRICT;
`;

/**
 * Sign-in (issue 15, item 4): provider accounts linked to users, TOTP enrolments (the secret
 * sealed by the service, recovery codes as sha256 in a JSON array), and a role per API key.
 */
export const V20_SIGNIN = `
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
