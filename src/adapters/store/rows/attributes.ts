/** Row shapes and mappers both SQL stores (postgres/, sqlite/) share: their columns have the same names. */
import type { AttributeEntry, DeviceStatus } from '../../../domain/device.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import { makeStatus } from '../shared.js';

export interface AttributeRow {
  key: string;
  value: string;
  last_update_ts: number;
}

export interface StatusRow {
  device_id: string;
  /** PostgreSQL boolean, SQLite 0/1 (makeStatus takes either). */
  online: boolean | number;
  last_activity: number | null;
  last_connect: number | null;
  last_disconnect: number | null;
  transport: string | null;
  node_id: string | null;
  epoch: number;
}

export const toAttributeEntry = (r: AttributeRow): AttributeEntry => ({ key: r.key, value: JSON.parse(r.value) as JsonValue, lastUpdateTs: r.last_update_ts });

export const toStatus = (r: StatusRow): DeviceStatus =>
  makeStatus({
    deviceId: r.device_id,
    online: r.online,
    lastActivity: r.last_activity,
    lastConnect: r.last_connect,
    lastDisconnect: r.last_disconnect,
    transport: r.transport,
    nodeId: r.node_id,
    epoch: r.epoch,
  });
