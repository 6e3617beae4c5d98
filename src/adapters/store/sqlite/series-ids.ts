/**
 * Integer surrogates for device UUIDs (ts_device) and key names (ts_key), the first two columns
 * of every telemetry row, with read-through caches. A surrogate created inside an append
 * transaction is held apart (`created*`) and cached only once the transaction commits, so a row
 * the transaction inserted never reaches the caches if it rolls back.
 */
import type { Db } from './sql.js';

export interface SeriesIds {
  /** The device's surrogate if it has one (reads). */
  knownDevice(uuid: string): number | undefined;
  /** The key's surrogate if it has one (reads). */
  knownKey(key: string): number | undefined;
  /** Inside the append transaction: the device's surrogate, created if new. */
  deviceFor(uuid: string): number;
  /** Inside the append transaction: the key's surrogate, created if new. */
  keyFor(key: string): number;
  /** Before an append transaction: nothing created yet. */
  begin(): void;
  /** After it committed: what it created joins the caches. */
  committed(): void;
  /** The device is gone (its ts_device row is deleted by the caller). */
  forgetDevice(uuid: string): void;
}

export function createSeriesIds(db: Db): SeriesIds {
  const s = {
    deviceId: db.prepare<[string], number>('SELECT id FROM ts_device WHERE uuid = ?').pluck(),
    newDevice: db.prepare<[string], number>('INSERT INTO ts_device (uuid) VALUES (?) RETURNING id').pluck(),
    keyId: db.prepare<[string], number>('SELECT id FROM ts_key WHERE key = ?').pluck(),
    newKey: db.prepare<[string], number>('INSERT INTO ts_key (key) VALUES (?) RETURNING id').pluck(),
  };
  const deviceIds = new Map<string, number>();
  const keyIds = new Map<string, number>();
  let createdDevices = new Map<string, number>();
  let createdKeys = new Map<string, number>();

  return {
    knownDevice(uuid) {
      let id = deviceIds.get(uuid);
      if (id === undefined) {
        id = s.deviceId.get(uuid);
        if (id !== undefined) deviceIds.set(uuid, id);
      }
      return id;
    },
    knownKey(key) {
      let id = keyIds.get(key);
      if (id === undefined) {
        id = s.keyId.get(key);
        if (id !== undefined) keyIds.set(key, id);
      }
      return id;
    },
    deviceFor(uuid) {
      let id = deviceIds.get(uuid) ?? createdDevices.get(uuid);
      if (id !== undefined) return id;
      id = s.deviceId.get(uuid);
      if (id !== undefined) deviceIds.set(uuid, id);
      else createdDevices.set(uuid, (id = s.newDevice.get(uuid) as number));
      return id;
    },
    keyFor(key) {
      let id = keyIds.get(key) ?? createdKeys.get(key);
      if (id !== undefined) return id;
      id = s.keyId.get(key);
      if (id !== undefined) keyIds.set(key, id);
      else createdKeys.set(key, (id = s.newKey.get(key) as number));
      return id;
    },
    begin() {
      if (createdDevices.size > 0) createdDevices = new Map();
      if (createdKeys.size > 0) createdKeys = new Map();
    },
    committed() {
      for (const [uuid, id] of createdDevices) deviceIds.set(uuid, id);
      for (const [key, id] of createdKeys) keyIds.set(key, id);
      this.begin();
    },
    forgetDevice(uuid) {
      deviceIds.delete(uuid);
    },
  };
}
