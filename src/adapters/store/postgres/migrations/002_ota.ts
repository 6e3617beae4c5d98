/**
 * Schema v2: OTA packages (metadata; bytes in the package blob store), per-device and per-profile
 * assignments (a package assigned anywhere cannot be deleted: foreign keys without cascade), and
 * deployments with each targeted device's rollout state. Deployments and their device rows are
 * JSON documents beside the columns the queries use.
 */
import type { MigrationBuilder } from 'node-pg-migrate';

export function up(pgm: MigrationBuilder): void {
  pgm.sql(`
    CREATE TABLE ota_packages (
      id         text PRIMARY KEY,
      tenant_id  text NOT NULL REFERENCES tenants (id),
      type       text NOT NULL,
      title      text NOT NULL,
      version    text NOT NULL,
      checksum   text NOT NULL,
      created_at bigint NOT NULL,
      seq        bigserial,
      doc        text NOT NULL,
      CONSTRAINT ota_packages_version UNIQUE (tenant_id, type, title, version)
    );
    CREATE INDEX ota_packages_checksum ON ota_packages (checksum);
    CREATE TABLE ota_assignments (
      device_id   text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
      type        text NOT NULL,
      tenant_id   text NOT NULL,
      package_id  text NOT NULL REFERENCES ota_packages (id),
      assigned_at bigint NOT NULL,
      PRIMARY KEY (device_id, type)
    );
    CREATE INDEX ota_assignments_package ON ota_assignments (package_id);
    CREATE TABLE ota_profile_assignments (
      profile_id  text NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
      type        text NOT NULL,
      tenant_id   text NOT NULL,
      package_id  text NOT NULL REFERENCES ota_packages (id),
      assigned_at bigint NOT NULL,
      PRIMARY KEY (profile_id, type)
    );
    CREATE INDEX ota_profile_assignments_package ON ota_profile_assignments (package_id);
    CREATE TABLE ota_deployments (
      id         text PRIMARY KEY,
      tenant_id  text NOT NULL REFERENCES tenants (id),
      status     text NOT NULL,
      created_at bigint NOT NULL,
      doc        text NOT NULL
    );
    CREATE INDEX ota_deployments_tenant ON ota_deployments (tenant_id, created_at);
    CREATE INDEX ota_deployments_active ON ota_deployments (status) WHERE status IN ('running', 'paused');
    CREATE TABLE ota_deployment_devices (
      deployment_id text NOT NULL REFERENCES ota_deployments (id) ON DELETE CASCADE,
      device_id     text NOT NULL,
      wave          bigint NOT NULL,
      doc           text NOT NULL,
      PRIMARY KEY (deployment_id, device_id)
    );
  `);
}

export function down(pgm: MigrationBuilder): void {
  pgm.sql('DROP TABLE ota_deployment_devices, ota_deployments, ota_profile_assignments, ota_assignments, ota_packages');
}
