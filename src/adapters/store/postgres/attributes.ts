/** Attributes per device and scope (JSON text), and device statuses merged by session epoch. */
import type pg from 'pg';
import type { AttributeEntry, AttributeScope, DeviceStatus } from '../../../domain/device.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { AttributeStore, StatusStore } from '../../../ports.js';
import { attributeJson, checkInt, checkScope, makeStatus } from '../shared.js';
import { toAttributeEntry, toStatus, type AttributeRow, type StatusRow } from '../rows/attributes.js';
import { all, inTx } from './db.js';

const optInt = (v: number | undefined, what: string): number | null => (v === undefined ? null : checkInt(v, what));

export function createPgAttributes(pool: pg.Pool): AttributeStore & StatusStore {
  return {
    async setAttributes(deviceId: string, scope: AttributeScope, values: Record<string, JsonValue>, ts: number): Promise<void> {
      checkScope(scope);
      checkInt(ts, 'ts');
      const entries = Object.entries(values).map(([key, value]) => [key, attributeJson(key, value)] as const);
      if (entries.length === 0) return;
      await pool.query(
        `INSERT INTO attributes (device_id, scope, key, value, last_update_ts)
         SELECT $1, $2, k, v, $5 FROM unnest($3::text[], $4::text[]) AS e (k, v)
         ON CONFLICT (device_id, scope, key) DO UPDATE SET value = excluded.value, last_update_ts = excluded.last_update_ts`,
        [deviceId, scope, entries.map((e) => e[0]), entries.map((e) => e[1]), ts],
      );
    },

    async getAttributes(deviceId: string, scope: AttributeScope, keys?: readonly string[]): Promise<AttributeEntry[]> {
      checkScope(scope);
      if (keys && keys.length === 0) return [];
      const rows = keys
        ? await all<AttributeRow>(
            pool,
            'SELECT key, value, last_update_ts FROM attributes WHERE device_id = $1 AND scope = $2 AND key = ANY($3::text[]) ORDER BY key COLLATE "C"',
            [deviceId, scope, [...keys]],
          )
        : await all<AttributeRow>(
            pool,
            'SELECT key, value, last_update_ts FROM attributes WHERE device_id = $1 AND scope = $2 ORDER BY key COLLATE "C"',
            [deviceId, scope],
          );
      return rows.map(toAttributeEntry);
    },

    async deleteAttributes(deviceId: string, scope: AttributeScope, keys: readonly string[]): Promise<void> {
      checkScope(scope);
      await pool.query('DELETE FROM attributes WHERE device_id = $1 AND scope = $2 AND key = ANY($3::text[])', [deviceId, scope, [...keys]]);
    },

    async saveStatuses(statuses: readonly DeviceStatus[]): Promise<void> {
      if (statuses.length === 0) return;
      const rows = statuses.map((s) => makeStatus(s));
      // The session fields follow the greater epoch (the incoming row on a tie); last_activity keeps the newest.
      // One statement per status, in order, in one transaction: a device listed twice is merged twice, as it would be one by one.
      await inTx(pool, async (c) => {
        for (const st of rows) {
          await c.query(
            `INSERT INTO device_status AS d (device_id, online, last_activity, last_connect, last_disconnect, transport, node_id, epoch)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (device_id) DO UPDATE SET
               last_activity = greatest(excluded.last_activity, d.last_activity),
               online = CASE WHEN excluded.epoch >= d.epoch THEN excluded.online ELSE d.online END,
               last_connect = CASE WHEN excluded.epoch >= d.epoch THEN excluded.last_connect ELSE d.last_connect END,
               last_disconnect = CASE WHEN excluded.epoch >= d.epoch THEN excluded.last_disconnect ELSE d.last_disconnect END,
               transport = CASE WHEN excluded.epoch >= d.epoch THEN excluded.transport ELSE d.transport END,
               node_id = CASE WHEN excluded.epoch >= d.epoch THEN excluded.node_id ELSE d.node_id END,
               epoch = greatest(excluded.epoch, d.epoch)`,
            [
              st.deviceId,
              st.online,
              optInt(st.lastActivity, 'lastActivity'),
              optInt(st.lastConnect, 'lastConnect'),
              optInt(st.lastDisconnect, 'lastDisconnect'),
              st.transport ?? null,
              st.nodeId ?? null,
              st.epoch ?? 0,
            ],
          );
        }
      });
    },

    async getStatuses(deviceIds: readonly string[]): Promise<DeviceStatus[]> {
      if (deviceIds.length === 0) return [];
      const rows = await all<StatusRow>(
        pool,
        `SELECT s.device_id, online, last_activity, last_connect, last_disconnect, transport, node_id, epoch
         FROM unnest($1::text[]) WITH ORDINALITY AS q (id, i) JOIN device_status s ON s.device_id = q.id ORDER BY q.i`,
        [[...deviceIds]],
      );
      return rows.map(toStatus);
    },
  };
}
