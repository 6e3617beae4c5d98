/** Schema v3: a payload decoder (user code, TTN convention) per device profile (issue 18). */
import type { MigrationBuilder } from 'node-pg-migrate';

export function up(pgm: MigrationBuilder): void {
  pgm.sql('ALTER TABLE profiles ADD COLUMN decoder text');
}

export function down(pgm: MigrationBuilder): void {
  pgm.sql('ALTER TABLE profiles DROP COLUMN decoder');
}
