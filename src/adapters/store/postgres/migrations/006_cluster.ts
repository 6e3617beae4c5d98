/**
 * Schema v6: cluster membership, partition leases with fencing epochs, the rule engine's
 * per-partition checkpoints and its firing keys (issue 14, item 3; docs/ARCHITECTURE.md,
 * "Cluster"). Expiry times are the database's clock (`now()`), never a node's.
 */
import type { MigrationBuilder } from 'node-pg-migrate';

export function up(pgm: MigrationBuilder): void {
  pgm.sql(`
    CREATE TABLE cluster_nodes (
      node_id    text PRIMARY KEY,
      info       jsonb NOT NULL DEFAULT '{}',
      since      timestamptz NOT NULL,
      expires_at timestamptz NOT NULL
    );
    CREATE TABLE partition_leases (
      grp        text NOT NULL,
      partition  integer NOT NULL,
      node_id    text,
      epoch      bigint NOT NULL,
      expires_at timestamptz NOT NULL,
      PRIMARY KEY (grp, partition)
    );
    CREATE TABLE partition_checkpoints (
      grp        text NOT NULL,
      partition  integer NOT NULL,
      positions  jsonb NOT NULL,
      epoch      bigint NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (grp, partition)
    );
    CREATE TABLE rule_firings (
      rule_id     text NOT NULL,
      device_id   text NOT NULL,
      edge        text NOT NULL,
      ts          bigint NOT NULL,
      grp         text NOT NULL,
      partition   integer NOT NULL,
      epoch       bigint NOT NULL,
      payload     text NOT NULL,
      dispatched  boolean NOT NULL DEFAULT false,
      recorded_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (rule_id, device_id, edge, ts)
    );
    CREATE INDEX rule_firings_pending ON rule_firings (grp, partition) WHERE NOT dispatched;
    CREATE INDEX rule_firings_recorded ON rule_firings (recorded_at);
  `);
}

export function down(pgm: MigrationBuilder): void {
  pgm.sql(`
    DROP TABLE rule_firings;
    DROP TABLE partition_checkpoints;
    DROP TABLE partition_leases;
    DROP TABLE cluster_nodes;
  `);
}
