/**
 * Schema v1 of the PostgreSQL store: the registry, credentials, users, telemetry (ts_kv range-
 * partitioned by month on ts, partitions made by partitions.ts), hourly roll-ups, latest values,
 * attributes, statuses, the bus outbox, id blocks, alarms, commands, rules and their state,
 * dashboards and the audit log. Text that is listed in order (names, keys) is ordered with
 * COLLATE "C" in the queries: byte order, as the SQLite and memory stores answer.
 * Every timestamp is epoch milliseconds in a bigint.
 */
import type { MigrationBuilder } from 'node-pg-migrate';

const REGISTRY = `
  CREATE TABLE tenants (id text PRIMARY KEY, name text NOT NULL);
  CREATE TABLE profiles (
    id               text PRIMARY KEY,
    tenant_id        text NOT NULL REFERENCES tenants (id),
    name             text NOT NULL,
    codec            text NOT NULL,
    telemetry_keys   text NOT NULL,
    provision_key    text CONSTRAINT profiles_provision_key UNIQUE,
    provision_secret text,
    controls         text,
    created_at       bigint NOT NULL,
    CONSTRAINT profiles_name UNIQUE (tenant_id, name)
  );
  CREATE TABLE devices (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id),
    name       text NOT NULL,
    name_fold  text NOT NULL,
    label      text,
    label_fold text,
    profile_id text NOT NULL REFERENCES profiles (id),
    is_gateway boolean NOT NULL,
    gateway_id text REFERENCES devices (id) ON DELETE SET NULL,
    created_at bigint NOT NULL,
    CONSTRAINT devices_name UNIQUE (tenant_id, name)
  );
  CREATE INDEX devices_gateway ON devices (gateway_id);
  CREATE INDEX devices_profile ON devices (profile_id);
  CREATE TABLE credentials (
    device_id     text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    type          text NOT NULL,
    cred_key      text NOT NULL CONSTRAINT credentials_key UNIQUE,
    token_hash    text,
    token_hint    text,
    client_id     text,
    username      text,
    password_hash text,
    fingerprint   text,
    CONSTRAINT credentials_pkey PRIMARY KEY (device_id, type)
  );
  CREATE INDEX credentials_client ON credentials (client_id) WHERE client_id IS NOT NULL;
  CREATE INDEX credentials_username ON credentials (username) WHERE username IS NOT NULL;
`;

const USERS = `
  CREATE TABLE users (
    id            text PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants (id),
    email         text NOT NULL,
    email_key     text NOT NULL CONSTRAINT users_email UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL,
    created_at    bigint NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    token_version bigint NOT NULL DEFAULT 0
  );
  CREATE INDEX users_tenant ON users (tenant_id, created_at);
  CREATE TABLE api_keys (
    id         text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL,
    key_hash   text NOT NULL CONSTRAINT api_keys_hash UNIQUE,
    created_at bigint NOT NULL,
    expires_at bigint
  );
  CREATE INDEX api_keys_user ON api_keys (user_id);
  CREATE TABLE settings (name text PRIMARY KEY, value text NOT NULL);
`;

// t: 0 number (n), 1 boolean (n = 0/1), 2 string (s), 3 JSON text (s).
const TELEMETRY = `
  CREATE TABLE ts_kv (
    device_id text NOT NULL,
    key       text NOT NULL,
    ts        bigint NOT NULL,
    t         smallint NOT NULL,
    n         double precision,
    s         text,
    PRIMARY KEY (device_id, key, ts)
  ) PARTITION BY RANGE (ts);
  CREATE TABLE ts_latest (
    device_id text NOT NULL,
    key       text NOT NULL,
    ts        bigint NOT NULL,
    t         smallint NOT NULL,
    n         double precision,
    s         text,
    PRIMARY KEY (device_id, key)
  );
  CREATE TABLE ts_hourly (
    device_id text NOT NULL,
    key       text NOT NULL,
    hour      bigint NOT NULL,
    cnt       bigint NOT NULL,
    sum       double precision NOT NULL,
    min       double precision NOT NULL,
    max       double precision NOT NULL,
    PRIMARY KEY (device_id, key, hour)
  );
  CREATE TABLE bus_outbox (id bigserial PRIMARY KEY, payload text NOT NULL);
  CREATE TABLE attributes (
    device_id      text NOT NULL,
    scope          text NOT NULL,
    key            text NOT NULL,
    value          text NOT NULL,
    last_update_ts bigint NOT NULL,
    PRIMARY KEY (device_id, scope, key)
  );
  CREATE TABLE device_status (
    device_id       text PRIMARY KEY,
    online          boolean NOT NULL,
    last_activity   bigint,
    last_connect    bigint,
    last_disconnect bigint,
    transport       text,
    node_id         text,
    epoch           bigint NOT NULL DEFAULT 0
  );
  CREATE TABLE id_sequences (name text PRIMARY KEY, next bigint NOT NULL);
`;

const ACTIONS = `
  CREATE TABLE alarms (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL,
    device_id       text NOT NULL,
    type            text NOT NULL,
    severity        text NOT NULL,
    status          text NOT NULL,
    repeat_count    bigint NOT NULL,
    details         text NOT NULL,
    created_at      bigint NOT NULL,
    updated_at      bigint NOT NULL,
    acknowledged_at bigint,
    cleared_at      bigint,
    version         bigint NOT NULL DEFAULT 1,
    seq             bigserial
  );
  CREATE UNIQUE INDEX alarms_open ON alarms (device_id, type) WHERE status <> 'cleared';
  CREATE INDEX alarms_tenant ON alarms (tenant_id, created_at);
  CREATE INDEX alarms_device ON alarms (device_id, created_at);
  CREATE TABLE alarm_events (
    seq      bigserial PRIMARY KEY,
    alarm_id text NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
    ts       bigint NOT NULL,
    action   text NOT NULL,
    severity text NOT NULL,
    actor    text,
    details  text
  );
  CREATE INDEX alarm_events_alarm ON alarm_events (alarm_id, seq);
  CREATE TABLE commands (
    id          text PRIMARY KEY,
    seq         bigserial,
    tenant_id   text NOT NULL,
    device_id   text NOT NULL,
    doc         text NOT NULL,
    status      text NOT NULL,
    persistent  boolean NOT NULL,
    created_at  bigint NOT NULL,
    version     bigint NOT NULL DEFAULT 1
  );
  CREATE INDEX commands_tenant ON commands (tenant_id, created_at, seq);
  CREATE INDEX commands_device ON commands (device_id, created_at, seq);
  CREATE INDEX commands_pending ON commands (created_at, seq)
    WHERE persistent AND status IN ('QUEUED', 'SENT', 'DELIVERED');
  CREATE TABLE rules (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id),
    name       text NOT NULL,
    doc        text NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  CREATE INDEX rules_tenant ON rules (tenant_id, name);
  CREATE TABLE rule_state (
    rule_id    text NOT NULL,
    device_id  text NOT NULL,
    state      text NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (rule_id, device_id)
  );
  CREATE INDEX rule_state_device ON rule_state (device_id);
  CREATE TABLE dashboards (
    id         text PRIMARY KEY,
    tenant_id  text NOT NULL REFERENCES tenants (id),
    name       text NOT NULL,
    doc        text NOT NULL,
    created_at bigint NOT NULL
  );
  CREATE INDEX dashboards_tenant ON dashboards (tenant_id, name);
  CREATE TABLE audit_log (
    seq         bigserial PRIMARY KEY,
    id          text NOT NULL UNIQUE,
    ts          bigint NOT NULL,
    tenant_id   text NOT NULL,
    actor       text NOT NULL,
    actor_name  text,
    action      text NOT NULL,
    outcome     text NOT NULL,
    target_type text,
    target_id   text,
    address     text,
    details     text
  );
  CREATE INDEX audit_tenant_ts ON audit_log (tenant_id, ts);
  CREATE INDEX audit_target ON audit_log (target_id) WHERE target_id IS NOT NULL;
  CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
  CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
`;

export function up(pgm: MigrationBuilder): void {
  pgm.sql(REGISTRY + USERS + TELEMETRY + ACTIONS);
}

export function down(pgm: MigrationBuilder): void {
  pgm.sql(`DROP TABLE audit_log, dashboards, rule_state, rules, commands, alarm_events, alarms, id_sequences, device_status,
    attributes, bus_outbox, ts_hourly, ts_latest, ts_kv, settings, api_keys, users, credentials, devices, profiles, tenants CASCADE;
    DROP FUNCTION audit_log_append_only();`);
}
