/**
 * The embedded MQTT broker's persistent state in the SQLite store (the BrokerStateStore port):
 * persistent sessions with their subscriptions, their queued and in-flight QoS 1/2 messages, and
 * retained messages. The broker writes behind, one `apply` per event-loop turn, each one
 * transaction; with synchronous NORMAL a committed batch survives a killed process (see
 * docs/MQTT.md for what a crash loses).
 *
 * Messages are stored per session (topic and payload copied into each row): a message bound for
 * many offline persistent sessions costs one row each, a trade for simple, independent rows.
 */
import type { BrokerStateChange, BrokerStateSnapshot, BrokerStateStore } from '../../../ports.js';
import { bit, type Db } from './sql.js';
import { outboundFrom, retainedFrom, sessionFrom, type OutboundRow, type RetainedRow, type SessionRow } from '../rows/broker-state.js';

/** Migration 13: persistent sessions and their outbound messages. */
export const V13_MQTT_SESSIONS = `
  CREATE TABLE mqtt_sessions (
    session_key     TEXT PRIMARY KEY,
    space           TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    expiry_interval INTEGER NOT NULL,              -- seconds; 4294967295 = never
    disconnected_at INTEGER,                       -- epoch ms; NULL while connected
    subscriptions   TEXT NOT NULL                  -- JSON array of BrokerSubscriptionRecord
  ) STRICT;
  CREATE TABLE mqtt_outbound (
    session_key TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    topic       TEXT NOT NULL,
    payload     BLOB NOT NULL,
    msg_qos     INTEGER NOT NULL,
    msg_retain  INTEGER NOT NULL,
    properties  TEXT,
    expires_at  INTEGER NOT NULL,
    origin      TEXT,
    qos         INTEGER NOT NULL,
    retain      INTEGER NOT NULL,
    sub_ids     TEXT,                              -- JSON array
    packet_id   INTEGER NOT NULL,                  -- 0 = queued, not sent yet
    state       TEXT NOT NULL,
    PRIMARY KEY (session_key, seq)
  ) STRICT;
`;

/** Migration 14: retained messages per topic space. */
export const V14_MQTT_RETAINED = `
  CREATE TABLE mqtt_retained (
    space       TEXT NOT NULL,
    topic       TEXT NOT NULL,
    payload     BLOB NOT NULL,
    qos         INTEGER NOT NULL,
    properties  TEXT,
    expires_at  INTEGER NOT NULL,
    origin      TEXT,
    owner       TEXT NOT NULL,
    PRIMARY KEY (space, topic)
  ) STRICT;
`;

/** Shares the store's connection; the store closes it (apply rejects afterwards). */
export function createSqliteBrokerState(db: Db): BrokerStateStore {
  const putSession = db.prepare(
    `INSERT INTO mqtt_sessions (session_key, space, client_id, expiry_interval, disconnected_at, subscriptions)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (session_key) DO UPDATE SET space = excluded.space, client_id = excluded.client_id,
       expiry_interval = excluded.expiry_interval, disconnected_at = excluded.disconnected_at, subscriptions = excluded.subscriptions`,
  );
  const deleteSession = db.prepare('DELETE FROM mqtt_sessions WHERE session_key = ?');
  const deleteSessionOutbound = db.prepare('DELETE FROM mqtt_outbound WHERE session_key = ?');
  const putOutbound = db.prepare(
    `INSERT OR REPLACE INTO mqtt_outbound
       (session_key, seq, topic, payload, msg_qos, msg_retain, properties, expires_at, origin, qos, retain, sub_ids, packet_id, state)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const deleteOutbound = db.prepare('DELETE FROM mqtt_outbound WHERE session_key = ? AND seq = ?');
  const putRetained = db.prepare(
    `INSERT OR REPLACE INTO mqtt_retained (space, topic, payload, qos, properties, expires_at, origin, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const deleteRetained = db.prepare('DELETE FROM mqtt_retained WHERE space = ? AND topic = ?');

  function applyOne(c: BrokerStateChange): void {
    switch (c.op) {
      case 'putSession': {
        const s = c.session;
        putSession.run(s.key, s.space, s.clientId, s.expiryInterval, s.disconnectedAt ?? null, JSON.stringify(s.subscriptions));
        return;
      }
      case 'deleteSession':
        deleteSession.run(c.key);
        deleteSessionOutbound.run(c.key);
        return;
      case 'putOutbound': {
        const o = c.outbound;
        const m = o.message;
        putOutbound.run(
          o.sessionKey, o.seq, m.topic, m.payload, m.qos, bit(m.retain), m.properties ?? null, m.expiresAt, m.origin ?? null,
          o.qos, bit(o.retain), o.subscriptionIds ? JSON.stringify(o.subscriptionIds) : null, o.packetId, o.state,
        );
        return;
      }
      case 'deleteOutbound':
        deleteOutbound.run(c.sessionKey, c.seq);
        return;
      case 'putRetained': {
        const { space, message: m, owner } = c.retained;
        putRetained.run(space, m.topic, m.payload, m.qos, m.properties ?? null, m.expiresAt, m.origin ?? null, owner);
        return;
      }
      case 'deleteRetained':
        deleteRetained.run(c.space, c.topic);
        return;
    }
  }

  const applyTx = db.transaction((changes: readonly BrokerStateChange[]) => {
    for (const c of changes) applyOne(c);
  });

  function load(): BrokerStateSnapshot {
    const sessions = (db.prepare('SELECT * FROM mqtt_sessions').all() as SessionRow[]).map((r) => sessionFrom(r));
    // Only rows of a kept session (deleteSession removes both; this guards a hand-edited file).
    const outbound = (db.prepare('SELECT o.* FROM mqtt_outbound o JOIN mqtt_sessions s USING (session_key) ORDER BY o.session_key, o.seq').all() as OutboundRow[]).map((r) => outboundFrom(r));
    const retained = (db.prepare('SELECT * FROM mqtt_retained').all() as RetainedRow[]).map((r) => retainedFrom(r));
    return { sessions, outbound, retained };
  }

  return {
    kind: 'sqlite',
    load: () => Promise.resolve().then(load),
    apply(changes: readonly BrokerStateChange[]): Promise<void> {
      if (!db.open) return Promise.reject(new Error('the store is closed'));
      try {
        applyTx(changes);
        return Promise.resolve();
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
    // Nothing is buffered here (the broker batches and flushes before the store closes).
    close: () => Promise.resolve(),
  };
}
