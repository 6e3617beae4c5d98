/**
 * Presence in PostgreSQL, shared by every node of a cluster: one row per (device, node), epochs
 * from the `presence_epoch` sequence (migration 007), so a session accepted later anywhere gets a
 * greater epoch without relying on the nodes' clocks. The table is created by the store's
 * migrations; this adapter only needs a connection pool on the same database and schema.
 */
import type { Presence, PresenceEntry } from '../../../ports.js';
import type { TransportName } from '../../../domain/device.js';

/** What this adapter asks of a `pg` pool (kept minimal, so tests and the root can hand any pool). */
export interface PresenceSql {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

interface Row {
  device_id: string;
  node_id: string;
  tenant_id: string;
  epoch: string | number;
  transport: string;
  since: string | number;
}

const COLUMNS = 'device_id, node_id, tenant_id, epoch, transport, since';

function entry(row: Row): PresenceEntry {
  return {
    deviceId: row.device_id,
    tenantId: row.tenant_id,
    nodeId: row.node_id,
    epoch: Number(row.epoch),
    transport: row.transport as TransportName,
    since: Number(row.since),
  };
}

export class PostgresPresence implements Presence {
  constructor(private readonly db: PresenceSql) {}

  async connect(session: Omit<PresenceEntry, 'epoch'>): Promise<PresenceEntry> {
    // One statement: the node's earlier entry for the device is replaced under a fresh epoch.
    const r = await this.db.query<Row>(
      `INSERT INTO presence (device_id, node_id, tenant_id, epoch, transport, since)
       VALUES ($1, $2, $3, nextval('presence_epoch'), $4, $5)
       ON CONFLICT (device_id, node_id) DO UPDATE SET
         tenant_id = excluded.tenant_id, epoch = excluded.epoch, transport = excluded.transport, since = excluded.since
       RETURNING ${COLUMNS}`,
      [session.deviceId, session.nodeId, session.tenantId, session.transport, session.since],
    );
    return entry(r.rows[0] as Row);
  }

  async disconnect(deviceId: string, nodeId: string, epoch: number): Promise<boolean> {
    const r = await this.db.query('DELETE FROM presence WHERE device_id = $1 AND node_id = $2 AND epoch = $3', [deviceId, nodeId, epoch]);
    return (r.rowCount ?? 0) > 0;
  }

  async lookup(deviceId: string): Promise<PresenceEntry | undefined> {
    const r = await this.db.query<Row>(`SELECT ${COLUMNS} FROM presence WHERE device_id = $1 ORDER BY epoch DESC LIMIT 1`, [deviceId]);
    return r.rows[0] && entry(r.rows[0]);
  }

  async listByNode(nodeId: string): Promise<PresenceEntry[]> {
    const r = await this.db.query<Row>(`SELECT ${COLUMNS} FROM presence WHERE node_id = $1 ORDER BY device_id`, [nodeId]);
    return r.rows.map(entry);
  }

  async expireNode(nodeId: string): Promise<PresenceEntry[]> {
    const r = await this.db.query<Row>(`DELETE FROM presence WHERE node_id = $1 RETURNING ${COLUMNS}`, [nodeId]);
    return r.rows.map(entry).sort((a, b) => a.deviceId.localeCompare(b.deviceId));
  }
}
