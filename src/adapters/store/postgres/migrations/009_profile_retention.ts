/** Telemetry retention in days per device profile (issue 18); null keeps telemetry for ever. */
import type { MigrationBuilder } from 'node-pg-migrate';

export function up(pgm: MigrationBuilder): void {
  pgm.sql('ALTER TABLE profiles ADD COLUMN retention_days integer');
}

export function down(pgm: MigrationBuilder): void {
  pgm.sql('ALTER TABLE profiles DROP COLUMN retention_days');
}
