/**
 * Schema v3, the PostgreSQL side of sqlite migrations 17–22: integrations and their durable
 * export buffers, tenant status and custom roles, customers and device groups (assignments are
 * columns on devices, dashboards and users), OIDC identities and TOTP enrolments, a role per API
 * key, device-to-device MQTT grants, tenant quotas and the daily count of stored points.
 * Users keep whatever role they were created with (a PostgreSQL database has no v1 'admin'/'user'
 * rows to rename: the store was written after the roles were).
 */
import type { MigrationBuilder } from 'node-pg-migrate';

export function up(pgm: MigrationBuilder): void {
  pgm.sql(`
    CREATE TABLE integrations (
      id         text PRIMARY KEY,
      tenant_id  text NOT NULL REFERENCES tenants (id),
      type       text NOT NULL,
      name       text NOT NULL,
      enabled    boolean NOT NULL,
      config     text NOT NULL,
      filter     text NOT NULL,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      CONSTRAINT integrations_name UNIQUE (tenant_id, name)
    );
    CREATE TABLE integration_exports (
      integration_id text NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
      seq            bigint NOT NULL,
      event          text NOT NULL,
      tenant_id      text NOT NULL,
      device_id      text NOT NULL,
      device_name    text NOT NULL,
      ts             bigint NOT NULL,
      enqueued_at    bigint NOT NULL,
      payload        text NOT NULL,
      PRIMARY KEY (integration_id, seq)
    );

    ALTER TABLE tenants ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended'));
    ALTER TABLE tenants ADD COLUMN created_at bigint NOT NULL DEFAULT 0;
    CREATE TABLE roles (
      id          text PRIMARY KEY,
      tenant_id   text NOT NULL REFERENCES tenants (id),
      name        text NOT NULL,
      permissions text NOT NULL,
      scope       text,
      created_at  bigint NOT NULL,
      CONSTRAINT roles_name UNIQUE (tenant_id, name)
    );

    CREATE TABLE customers (
      id         text PRIMARY KEY,
      tenant_id  text NOT NULL REFERENCES tenants (id),
      parent_id  text REFERENCES customers (id),
      name       text NOT NULL,
      created_at bigint NOT NULL,
      CONSTRAINT customers_name UNIQUE (tenant_id, name)
    );
    CREATE INDEX customers_parent ON customers (parent_id);
    ALTER TABLE devices ADD COLUMN customer_id text REFERENCES customers (id) ON DELETE SET NULL;
    CREATE INDEX devices_customer ON devices (customer_id) WHERE customer_id IS NOT NULL;
    ALTER TABLE dashboards ADD COLUMN customer_id text REFERENCES customers (id) ON DELETE SET NULL;
    ALTER TABLE users ADD COLUMN customer_id text REFERENCES customers (id) ON DELETE SET NULL;
    CREATE TABLE device_groups (
      id         text PRIMARY KEY,
      tenant_id  text NOT NULL REFERENCES tenants (id),
      name       text NOT NULL,
      filter     text,
      created_at bigint NOT NULL,
      CONSTRAINT device_groups_name UNIQUE (tenant_id, name)
    );
    CREATE TABLE group_members (
      group_id  text NOT NULL REFERENCES device_groups (id) ON DELETE CASCADE,
      device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
      PRIMARY KEY (group_id, device_id)
    );
    CREATE INDEX group_members_device ON group_members (device_id);

    CREATE TABLE user_identities (
      issuer     text NOT NULL,
      subject    text NOT NULL,
      user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at bigint NOT NULL,
      PRIMARY KEY (issuer, subject)
    );
    CREATE INDEX user_identities_user ON user_identities (user_id);
    CREATE TABLE user_totp (
      user_id         text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
      secret          text NOT NULL,
      confirmed_at    bigint,
      last_step       bigint NOT NULL DEFAULT 0,
      recovery_hashes text NOT NULL DEFAULT '[]'
    );
    ALTER TABLE api_keys ADD COLUMN role text;

    CREATE TABLE mqtt_grants (
      id         text PRIMARY KEY,
      tenant_id  text NOT NULL REFERENCES tenants (id),
      subject    text NOT NULL,
      actions    text NOT NULL,
      topic      text NOT NULL,
      created_at bigint NOT NULL
    );
    CREATE INDEX mqtt_grants_tenant ON mqtt_grants (tenant_id, created_at);

    CREATE TABLE tenant_quotas (
      tenant_id               text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
      max_devices             bigint,
      max_messages_per_second bigint,
      max_points_per_day      bigint,
      max_rules               bigint
    );
    CREATE TABLE tenant_usage_daily (
      tenant_id text NOT NULL,
      day       text NOT NULL,
      points    bigint NOT NULL,
      PRIMARY KEY (tenant_id, day)
    );
  `);
}

export function down(pgm: MigrationBuilder): void {
  pgm.sql(`
    DROP TABLE tenant_usage_daily, tenant_quotas, mqtt_grants, user_totp, user_identities, group_members, device_groups, roles,
      integration_exports, integrations;
    ALTER TABLE api_keys DROP COLUMN role;
    ALTER TABLE users DROP COLUMN customer_id;
    ALTER TABLE dashboards DROP COLUMN customer_id;
    ALTER TABLE devices DROP COLUMN customer_id;
    DROP TABLE customers;
    ALTER TABLE tenants DROP COLUMN created_at;
    ALTER TABLE tenants DROP COLUMN status;
  `);
}
