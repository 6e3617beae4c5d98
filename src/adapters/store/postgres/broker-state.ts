/**
 * The MQTT broker's state in PostgreSQL (the BrokerStateStore port), shared by the nodes of a
 * cluster (migration 007). Rows as in the SQLite store, plus the node holding each session: `load`
 * gives a node its own sessions and every retained message; `loadSession` moves one session to the
 * node its client reconnected to; `adoptNode` moves a gone node's sessions. Each `apply` batch is
 * one transaction.
 */
import type pg from 'pg';
import type { BrokerOutboundRecord, BrokerStateChange, BrokerStateSnapshot, BrokerStateStore } from '../../../ports.js';
import { inTx, type Queryable } from './db.js';
import { outboundFrom, retainedFrom, sessionFrom, type OutboundRow, type RetainedRow, type SessionRow } from '../rows/broker-state.js';

/**
 * Session keys (and the origins and owners made of them) separate their parts with NUL, which a
 * PostgreSQL text value cannot hold: stored with NUL as `\0` and backslash as `\\`, reversibly.
 */
function enc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\u0000/g, '\\0');
}

function dec(value: string): string {
  return value.replace(/\\(\\|0)/g, (_m, c: string) => (c === '0' ? '\u0000' : '\\'));
}

async function applyOne(c: pg.PoolClient, nodeId: string, change: BrokerStateChange): Promise<void> {
  switch (change.op) {
    case 'putSession': {
      const s = change.session;
      // Writing a session claims it for this node (the node its client is connected to, or left).
      await c.query(
        `INSERT INTO mqtt_sessions (session_key, space, client_id, expiry_interval, disconnected_at, subscriptions, node_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (session_key) DO UPDATE SET space = excluded.space, client_id = excluded.client_id, expiry_interval = excluded.expiry_interval,
           disconnected_at = excluded.disconnected_at, subscriptions = excluded.subscriptions, node_id = excluded.node_id`,
        [enc(s.key), s.space, enc(s.clientId), s.expiryInterval, s.disconnectedAt ?? null, JSON.stringify(s.subscriptions), nodeId],
      );
      return;
    }
    case 'deleteSession':
      await c.query('DELETE FROM mqtt_sessions WHERE session_key = $1', [enc(change.key)]);
      await c.query('DELETE FROM mqtt_outbound WHERE session_key = $1', [enc(change.key)]);
      return;
    case 'putOutbound': {
      const o = change.outbound;
      const m = o.message;
      await c.query(
        `INSERT INTO mqtt_outbound (session_key, seq, topic, payload, msg_qos, msg_retain, properties, expires_at, origin, qos, retain, sub_ids, packet_id, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (session_key, seq) DO UPDATE SET topic = excluded.topic, payload = excluded.payload, msg_qos = excluded.msg_qos,
           msg_retain = excluded.msg_retain, properties = excluded.properties, expires_at = excluded.expires_at, origin = excluded.origin,
           qos = excluded.qos, retain = excluded.retain, sub_ids = excluded.sub_ids, packet_id = excluded.packet_id, state = excluded.state`,
        [enc(o.sessionKey), o.seq, m.topic, m.payload, m.qos, m.retain, m.properties ?? null, m.expiresAt, m.origin === undefined ? null : enc(m.origin), o.qos, o.retain,
          o.subscriptionIds ? JSON.stringify(o.subscriptionIds) : null, o.packetId, o.state],
      );
      return;
    }
    case 'deleteOutbound':
      await c.query('DELETE FROM mqtt_outbound WHERE session_key = $1 AND seq = $2', [enc(change.sessionKey), change.seq]);
      return;
    case 'putRetained': {
      const { space, message: m, owner } = change.retained;
      await c.query(
        `INSERT INTO mqtt_retained (space, topic, payload, qos, properties, expires_at, origin, owner) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (space, topic) DO UPDATE SET payload = excluded.payload, qos = excluded.qos, properties = excluded.properties,
           expires_at = excluded.expires_at, origin = excluded.origin, owner = excluded.owner`,
        [space, m.topic, m.payload, m.qos, m.properties ?? null, m.expiresAt, m.origin === undefined ? null : enc(m.origin), enc(owner)],
      );
      return;
    }
    case 'deleteRetained':
      await c.query('DELETE FROM mqtt_retained WHERE space = $1 AND topic = $2', [change.space, change.topic]);
      return;
  }
}

async function outboundOf(db: Queryable, keys: readonly string[]): Promise<BrokerOutboundRecord[]> {
  if (keys.length === 0) return [];
  const r = await db.query<OutboundRow>('SELECT * FROM mqtt_outbound WHERE session_key = ANY($1) ORDER BY session_key, seq', [keys.map(enc)]);
  return r.rows.map((row) => outboundFrom(row, dec));
}

/** This node's broker state in the shared database; the pool is the caller's (it ends it). */
export function createPgBrokerState(pool: pg.Pool, nodeId: string): BrokerStateStore {
  let closed = false;
  const open = (): void => {
    if (closed) throw new Error('the broker state store is closed');
  };
  return {
    kind: 'postgres',
    async load(): Promise<BrokerStateSnapshot> {
      open();
      const sessions = (await pool.query<SessionRow>('SELECT * FROM mqtt_sessions WHERE node_id = $1', [nodeId])).rows.map((r) => sessionFrom(r, dec));
      const outbound = await outboundOf(pool, sessions.map((s) => s.key));
      const retained = (await pool.query<RetainedRow>('SELECT * FROM mqtt_retained')).rows.map((r) => retainedFrom(r, dec));
      return { sessions, outbound, retained };
    },
    async loadSession(key: string) {
      open();
      return inTx(pool, async (c) => {
        const row = (await c.query<SessionRow>('UPDATE mqtt_sessions SET node_id = $2 WHERE session_key = $1 RETURNING *', [enc(key), nodeId])).rows[0];
        return row && { session: sessionFrom(row, dec), outbound: await outboundOf(c, [key]) };
      });
    },
    async adoptNode(gone: string): Promise<BrokerStateSnapshot> {
      open();
      return inTx(pool, async (c) => {
        const sessions = (await c.query<SessionRow>('UPDATE mqtt_sessions SET node_id = $2 WHERE node_id = $1 RETURNING *', [gone, nodeId])).rows.map((r) => sessionFrom(r, dec));
        return { sessions, outbound: await outboundOf(c, sessions.map((s) => s.key)), retained: [] };
      });
    },
    async apply(changes: readonly BrokerStateChange[]): Promise<void> {
      open();
      if (changes.length === 0) return;
      await inTx(pool, async (c) => {
        for (const change of changes) await applyOne(c, nodeId, change);
      });
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
}
