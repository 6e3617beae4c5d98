/**
 * Schema v7: what the MQTT side of a cluster shares between nodes (issue 14, item 4).
 * `presence`: which node holds which device's session (adapters/presence/postgres), with epochs
 * from one sequence. The sequence starts at the current time in ms, so its epochs stay above the
 * time-based epochs that device statuses written before this migration carry (the memory presence
 * gave epochs from the clock; StatusStore keeps the session fields of the greater epoch).
 */
import type { MigrationBuilder } from 'node-pg-migrate';

export function up(pgm: MigrationBuilder): void {
  pgm.sql(`
    CREATE SEQUENCE presence_epoch AS bigint;
    SELECT setval('presence_epoch', (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
    CREATE TABLE presence (
      device_id text   NOT NULL,
      node_id   text   NOT NULL,
      tenant_id text   NOT NULL,
      epoch     bigint NOT NULL,
      transport text   NOT NULL,
      since     bigint NOT NULL,
      PRIMARY KEY (device_id, node_id)
    );
    CREATE INDEX presence_node ON presence (node_id);
  `);
}

export function down(pgm: MigrationBuilder): void {
  pgm.sql(`
    DROP TABLE presence;
    DROP SEQUENCE presence_epoch;
  `);
}
