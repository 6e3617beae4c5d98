/**
 * Schema v5: OTA signing keys (public only) and the per-tenant OTA policy; a delta package
 * (its `fromVersion`) may share title and version with the full image (SQLite migration 24).
 */
import type { MigrationBuilder } from 'node-pg-migrate';

export function up(pgm: MigrationBuilder): void {
  pgm.sql(`
    ALTER TABLE ota_packages ADD COLUMN from_version text NOT NULL DEFAULT '';
    ALTER TABLE ota_packages DROP CONSTRAINT ota_packages_version;
    ALTER TABLE ota_packages ADD CONSTRAINT ota_packages_version UNIQUE (tenant_id, type, title, version, from_version);
    CREATE TABLE ota_signing_keys (
      id         text PRIMARY KEY,
      tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      name       text NOT NULL,
      public_key text NOT NULL,
      created_at bigint NOT NULL,
      CONSTRAINT ota_signing_keys_name UNIQUE (tenant_id, name)
    );
    CREATE TABLE ota_settings (
      tenant_id      text PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
      require_signed boolean NOT NULL
    );
  `);
}

export function down(pgm: MigrationBuilder): void {
  pgm.sql(`
    DROP TABLE ota_settings;
    DROP TABLE ota_signing_keys;
    DELETE FROM ota_packages WHERE from_version <> '';
    ALTER TABLE ota_packages DROP CONSTRAINT ota_packages_version;
    ALTER TABLE ota_packages DROP COLUMN from_version;
    ALTER TABLE ota_packages ADD CONSTRAINT ota_packages_version UNIQUE (tenant_id, type, title, version);
  `);
}
