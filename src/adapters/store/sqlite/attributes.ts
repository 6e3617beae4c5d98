/** Attributes by scope (JSON values with their last update time) and device connectivity statuses. */
import type { AttributeEntry, AttributeScope, DeviceStatus } from '../../../domain/device.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { AttributeStore, StatusStore } from '../../../ports.js';
import { attributeJson, checkInt, checkScope, compareBinary, makeStatus } from '../shared.js';
import { toAttributeEntry, toStatus, type AttributeRow, type StatusRow } from '../rows/attributes.js';
import { bit, type Db } from './sql.js';

export interface SqliteAttributes extends AttributeStore, StatusStore {
  /** Removes the device's attributes and status (inside the caller's transaction). */
  deleteDevice(deviceId: string): void;
}

export function createSqliteAttributes(db: Db): SqliteAttributes {
  const s = {
    put: db.prepare(
      `INSERT INTO attributes (device_id, scope, key, value, last_update_ts) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (device_id, scope, key) DO UPDATE SET value = excluded.value, last_update_ts = excluded.last_update_ts`,
    ),
    all: db.prepare<[string, string], AttributeRow>(
      'SELECT key, value, last_update_ts FROM attributes WHERE device_id = ? AND scope = ? ORDER BY key',
    ),
    one: db.prepare<[string, string, string], AttributeRow>(
      'SELECT key, value, last_update_ts FROM attributes WHERE device_id = ? AND scope = ? AND key = ?',
    ),
    remove: db.prepare('DELETE FROM attributes WHERE device_id = ? AND scope = ? AND key = ?'),
    removeDevice: db.prepare('DELETE FROM attributes WHERE device_id = ?'),
    // Not last writer wins (StatusStore.saveStatuses, shared.ts mergeStatus): the session fields
    // follow the greater epoch, the incoming row on a tie; last_activity keeps the newest. In SET,
    // unqualified names are the stored row's values as they were before this update.
    putStatus: db.prepare(
      `INSERT INTO device_status (device_id, online, last_activity, last_connect, last_disconnect, transport, node_id, epoch)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (device_id) DO UPDATE SET
         last_activity = max(coalesce(excluded.last_activity, last_activity), coalesce(last_activity, excluded.last_activity)),
         online = iif(excluded.epoch >= epoch, excluded.online, online),
         last_connect = iif(excluded.epoch >= epoch, excluded.last_connect, last_connect),
         last_disconnect = iif(excluded.epoch >= epoch, excluded.last_disconnect, last_disconnect),
         transport = iif(excluded.epoch >= epoch, excluded.transport, transport),
         node_id = iif(excluded.epoch >= epoch, excluded.node_id, node_id),
         epoch = max(excluded.epoch, epoch)`,
    ),
    status: db.prepare<[string], StatusRow>(
      'SELECT device_id, online, last_activity, last_connect, last_disconnect, transport, node_id, epoch FROM device_status WHERE device_id = ?',
    ),
    removeStatus: db.prepare('DELETE FROM device_status WHERE device_id = ?'),
  };

  const setTx = db.transaction((deviceId: string, scope: string, entries: readonly (readonly [string, string])[], ts: number) => {
    for (const [key, json] of entries) s.put.run(deviceId, scope, key, json, ts);
  });
  const deleteTx = db.transaction((deviceId: string, scope: string, keys: readonly string[]) => {
    for (const key of keys) s.remove.run(deviceId, scope, key);
  });
  const statusTx = db.transaction((statuses: readonly DeviceStatus[]) => {
    for (const st of statuses) {
      s.putStatus.run(
        st.deviceId,
        bit(st.online),
        st.lastActivity ?? null,
        st.lastConnect ?? null,
        st.lastDisconnect ?? null,
        st.transport ?? null,
        st.nodeId ?? null,
        st.epoch ?? 0,
      );
    }
  });

  return {
    async setAttributes(deviceId: string, scope: AttributeScope, values: Record<string, JsonValue>, ts: number): Promise<void> {
      checkScope(scope);
      checkInt(ts, 'lastUpdateTs');
      const entries = Object.entries(values).map(([key, value]) => [key, attributeJson(key, value)] as const);
      setTx(deviceId, scope, entries, ts);
    },

    async getAttributes(deviceId: string, scope: AttributeScope, keys?: readonly string[]): Promise<AttributeEntry[]> {
      checkScope(scope);
      if (keys === undefined) return s.all.all(deviceId, scope).map(toAttributeEntry);
      return [...new Set(keys)]
        .flatMap((key) => {
          const r = s.one.get(deviceId, scope, key);
          return r ? [toAttributeEntry(r)] : [];
        })
        .sort((a, b) => compareBinary(a.key, b.key));
    },

    async deleteAttributes(deviceId: string, scope: AttributeScope, keys: readonly string[]): Promise<void> {
      checkScope(scope);
      deleteTx(deviceId, scope, keys);
    },

    async saveStatuses(statuses: readonly DeviceStatus[]): Promise<void> {
      statusTx(statuses.map((st) => makeStatus(st)));
    },

    async getStatuses(deviceIds: readonly string[]): Promise<DeviceStatus[]> {
      return deviceIds.flatMap((id) => {
        const r = s.status.get(id);
        return r ? [toStatus(r)] : [];
      });
    },

    deleteDevice(deviceId: string): void {
      s.removeDevice.run(deviceId);
      s.removeStatus.run(deviceId);
    },
  };
}
