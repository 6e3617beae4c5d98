/**
 * Schema: zones (geofences) of tenants, profiles and devices, trips and the trip trackers'
 * state (issue 17; SQLite migration 25).
 */
import type { MigrationBuilder } from 'node-pg-migrate';

export function up(pgm: MigrationBuilder): void {
  pgm.sql(`
    CREATE TABLE zones (
      id         text PRIMARY KEY,
      tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      name       text NOT NULL,
      owner_type text NOT NULL,
      owner_id   text NOT NULL,
      geometry   text NOT NULL,
      margin_m   double precision NOT NULL,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      CONSTRAINT zones_name UNIQUE (tenant_id, owner_type, owner_id, name)
    );
    CREATE TABLE trips (
      id        text PRIMARY KEY,
      tenant_id text NOT NULL,
      device_id text NOT NULL,
      start_ts  bigint NOT NULL,
      end_ts    bigint NOT NULL,
      open      boolean NOT NULL,
      summary   text NOT NULL,
      track     text NOT NULL
    );
    CREATE INDEX trips_device_start ON trips (device_id, start_ts);
    CREATE TABLE trip_trackers (
      device_id text PRIMARY KEY,
      state     text NOT NULL
    );
  `);
}

export function down(pgm: MigrationBuilder): void {
  pgm.sql('DROP TABLE trip_trackers; DROP TABLE trips; DROP TABLE zones;');
}
