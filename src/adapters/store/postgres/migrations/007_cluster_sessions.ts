/**
 * Schema v7: what the MQTT side of a cluster shares between nodes (issue 14, item 4).
 * `presence`: which node holds which device's session (adapters/presence/postgres), with epochs
 * from one sequence. The sequence starts at the current time in ms, so its epochs stay above the
 * time-based epochs that device statuses written before this migration carry (the memory presence
 * gave epochs from the clock; StatusStore keeps the session fields of the greater epoch).
 * `mqtt_sessions`, `mqtt_outbound`, `mqtt_retained`: the MQTT broker's state (BrokerStateStore,
 * adapters/store/postgres/broker-state.ts), as in SQLite (migrations 13, 14) plus `node_id`, the
 * node holding the session (connected there, or kept offline there): each node loads its own at
 * start, and a session moves to the node its client reconnects to.
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
    CREATE TABLE mqtt_sessions (
      session_key     text   PRIMARY KEY,
      space           text   NOT NULL,
      client_id       text   NOT NULL,
      expiry_interval bigint NOT NULL,
      disconnected_at bigint,
      subscriptions   text   NOT NULL,
      node_id         text   NOT NULL
    );
    CREATE INDEX mqtt_sessions_node ON mqtt_sessions (node_id);
    CREATE TABLE mqtt_outbound (
      session_key text     NOT NULL,
      seq         bigint   NOT NULL,
      topic       text     NOT NULL,
      payload     bytea    NOT NULL,
      msg_qos     smallint NOT NULL,
      msg_retain  boolean  NOT NULL,
      properties  text,
      expires_at  bigint   NOT NULL,
      origin      text,
      qos         smallint NOT NULL,
      retain      boolean  NOT NULL,
      sub_ids     text,
      packet_id   integer  NOT NULL,
      state       text     NOT NULL,
      PRIMARY KEY (session_key, seq)
    );
    CREATE TABLE mqtt_retained (
      space      text     NOT NULL,
      topic      text     NOT NULL,
      payload    bytea    NOT NULL,
      qos        smallint NOT NULL,
      properties text,
      expires_at bigint   NOT NULL,
      origin     text,
      owner      text     NOT NULL,
      PRIMARY KEY (space, topic)
    );
  `);
}

export function down(pgm: MigrationBuilder): void {
  pgm.sql(`
    DROP TABLE mqtt_retained;
    DROP TABLE mqtt_outbound;
    DROP TABLE mqtt_sessions;
    DROP TABLE presence;
    DROP SEQUENCE presence_epoch;
  `);
}
