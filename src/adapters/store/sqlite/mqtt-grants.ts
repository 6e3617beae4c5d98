/**
 * Device-to-device MQTT grants (issue 15): who (a device, a group, every device of the tenant) may
 * publish or subscribe to which topic filter template. Read at CONNECT, never per message. Migration 21.
 */
import type { MqttGrantStore } from '../../../ports.js';
import { toGrant, type GrantRow } from '../rows/mqtt-grants.js';
import type { Db } from './sql.js';

export const V21_MQTT_GRANTS = `
  CREATE TABLE mqtt_grants (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    subject    TEXT NOT NULL,                -- JSON: {"deviceId"} | {"group"} | {"all": true}
    actions    TEXT NOT NULL,                -- JSON array: "publish", "subscribe"
    topic      TEXT NOT NULL,                -- topic filter template with policy variables
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX mqtt_grants_tenant ON mqtt_grants (tenant_id, created_at);
`;

export function createSqliteMqttGrants(db: Db): MqttGrantStore {
  const list = db.prepare<[string], GrantRow>('SELECT * FROM mqtt_grants WHERE tenant_id = ? ORDER BY created_at, id');
  const get = db.prepare<[string], GrantRow>('SELECT * FROM mqtt_grants WHERE id = ?');
  const insert = db.prepare('INSERT INTO mqtt_grants (id, tenant_id, subject, actions, topic, created_at) VALUES (?, ?, ?, ?, ?, ?)');
  const remove = db.prepare<[string]>('DELETE FROM mqtt_grants WHERE id = ?');
  return {
    async listMqttGrants(tenantId) {
      return list.all(tenantId).map(toGrant);
    },
    async getMqttGrant(id) {
      const row = get.get(id);
      return row ? toGrant(row) : undefined;
    },
    async insertMqttGrant(g) {
      insert.run(g.id, g.tenantId, JSON.stringify(g.subject), JSON.stringify(g.actions), g.topic, g.createdAt);
    },
    async deleteMqttGrant(id) {
      return remove.run(id).changes > 0;
    },
  };
}
