/** Device-to-device MQTT grants: read at CONNECT, never per message. */
import type pg from 'pg';
import type { MqttGrantStore } from '../../../ports.js';
import { toGrant, type GrantRow } from '../rows/mqtt-grants.js';
import { all, one, run } from './db.js';

const COLUMNS = 'id, tenant_id, subject, actions, topic, created_at';

export function createPgMqttGrants(pool: pg.Pool): MqttGrantStore {
  return {
    async listMqttGrants(tenantId) {
      return (await all<GrantRow>(pool, `SELECT ${COLUMNS} FROM mqtt_grants WHERE tenant_id = $1 ORDER BY created_at, id COLLATE "C"`, [tenantId])).map(toGrant);
    },
    async getMqttGrant(id) {
      const r = await one<GrantRow>(pool, `SELECT ${COLUMNS} FROM mqtt_grants WHERE id = $1`, [id]);
      return r && toGrant(r);
    },
    async insertMqttGrant(g) {
      await pool.query(`INSERT INTO mqtt_grants (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`, [
        g.id, g.tenantId, JSON.stringify(g.subject), JSON.stringify(g.actions), g.topic, g.createdAt,
      ]);
    },
    async deleteMqttGrant(id) {
      return (await run(pool, 'DELETE FROM mqtt_grants WHERE id = $1', [id])) > 0;
    },
  };
}
