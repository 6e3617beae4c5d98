/**
 * Tenants, device profiles and devices. Device credentials are written through the credentials
 * part so a device and its credentials go in one transaction (bulk import: one savepoint per row).
 */
import type { Device, DeviceCredential, DeviceProfile, Tenant } from '../../../domain/device.js';
import { PlatformError } from '../../../domain/errors.js';
import type { DeviceQuery, Page, RegistryStore } from '../../../ports.js';
import { clampLimit, fold, makeDevice, makeProfile, profileKeysJson, tenantNotFound } from '../shared.js';
import { DEVICE_COLUMNS, PROFILE_COLUMNS, toDevice, toProfile, type DeviceRow, type ProfileRow } from '../rows/registry.js';
import type { SqliteCredentials } from './credentials.js';
import { bit, isUniqueViolation, type Db, type Statement } from './sql.js';

/** Registry methods, plus the row delete that the store's deleteDevice transaction composes. */
export type SqliteRegistry = Omit<RegistryStore, 'deleteDevice'> & { deleteDeviceRow(id: string): boolean };

export function createSqliteRegistry(db: Db, credentials: SqliteCredentials): SqliteRegistry {
  const s = {
    ensureTenant: db.prepare('INSERT INTO tenants (id, name) VALUES (?, ?) ON CONFLICT (id) DO NOTHING'),
    tenantExists: db.prepare('SELECT 1 FROM tenants WHERE id = ?').pluck(),
    saveProfile: db.prepare(
      `INSERT INTO profiles (${PROFILE_COLUMNS}) VALUES (@id, @tenantId, @name, @codec, @keys, @provisionKey, @provisionSecret, @controls, @decoder, @retentionDays, @createdAt)
       ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name, codec = excluded.codec,
         telemetry_keys = excluded.telemetry_keys, provision_key = excluded.provision_key,
         provision_secret = excluded.provision_secret, controls = excluded.controls, decoder = excluded.decoder, retention_days = excluded.retention_days,
         created_at = excluded.created_at`,
    ),
    getProfile: db.prepare<[string], ProfileRow>(`SELECT ${PROFILE_COLUMNS} FROM profiles WHERE id = ?`),
    profileExists: db.prepare('SELECT 1 FROM profiles WHERE id = ?').pluck(),
    profileByName: db.prepare<[string, string], ProfileRow>(`SELECT ${PROFILE_COLUMNS} FROM profiles WHERE tenant_id = ? AND name = ?`),
    profileByKey: db.prepare<[string], ProfileRow>(`SELECT ${PROFILE_COLUMNS} FROM profiles WHERE provision_key = ?`),
    listProfiles: db.prepare<[string], ProfileRow>(`SELECT ${PROFILE_COLUMNS} FROM profiles WHERE tenant_id = ? ORDER BY name`),
    deleteProfile: db.prepare('DELETE FROM profiles WHERE id = ?'),
    insertDevice: db.prepare(
      `INSERT INTO devices (id, tenant_id, name, name_fold, label, label_fold, profile_id, is_gateway, gateway_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updateDevice: db.prepare(
      `UPDATE devices SET name = ?, name_fold = ?, label = ?, label_fold = ?, profile_id = ?, is_gateway = ?, gateway_id = ?
       WHERE id = ?`,
    ),
    deleteDevice: db.prepare('DELETE FROM devices WHERE id = ?'),
    getDevice: db.prepare<[string], DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = ?`),
    deviceExists: db.prepare('SELECT 1 FROM devices WHERE id = ?').pluck(),
    deviceByName: db.prepare<[string, string], DeviceRow>(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE tenant_id = ? AND name = ?`),
  };

  /** listDevices statements by filter combination; the SQL text is built from constants only. */
  const listStatements = new Map<string, { items: Statement; count: Statement }>();
  function listStatement(q: DeviceQuery, search: string | undefined): { items: Statement; count: Statement } {
    const where = ['tenant_id = @tenantId'];
    if (q.gatewayId !== undefined) where.push('gateway_id = @gatewayId');
    if (q.profileId !== undefined) where.push('profile_id = @profileId');
    if (q.customerIds !== undefined) where.push('customer_id IN (SELECT value FROM json_each(@customerIds))');
    if (q.ids !== undefined) where.push('id IN (SELECT value FROM json_each(@ids))');
    if (search !== undefined) where.push('(instr(name_fold, @search) > 0 OR instr(label_fold, @search) > 0)');
    const sqlWhere = where.join(' AND ');
    let found = listStatements.get(sqlWhere);
    if (!found) {
      found = {
        items: db.prepare(`SELECT ${DEVICE_COLUMNS} FROM devices WHERE ${sqlWhere} ORDER BY name LIMIT @limit OFFSET @offset`),
        count: db.prepare(`SELECT count(*) FROM devices WHERE ${sqlWhere}`).pluck(),
      };
      listStatements.set(sqlWhere, found);
    }
    return found;
  }

  /** Profile and gateway must exist: precise errors instead of a bare FOREIGN KEY failure. */
  function checkReferences(d: Device): void {
    if (!s.profileExists.get(d.profileId)) throw new PlatformError('PROFILE_NOT_FOUND', d.profileId);
    if (d.gatewayId !== undefined && !s.deviceExists.get(d.gatewayId)) throw new PlatformError('DEVICE_NOT_FOUND', `gateway ${d.gatewayId}`);
  }

  function deviceWriteError(err: unknown, d: Device): unknown {
    if (isUniqueViolation(err, 'devices.tenant_id, devices.name')) return new PlatformError('DEVICE_NAME_TAKEN', d.name, { cause: err });
    if (isUniqueViolation(err, 'devices.id')) return new PlatformError('CONFLICT', `device ${d.id}`, { cause: err });
    return err;
  }

  function insertOne(device: Device, creds: readonly DeviceCredential[]): void {
    const d = makeDevice(device);
    if (!s.tenantExists.get(d.tenantId)) throw tenantNotFound(d.tenantId);
    checkReferences(d);
    try {
      s.insertDevice.run(
        d.id,
        d.tenantId,
        d.name,
        fold(d.name),
        d.label ?? null,
        d.label === undefined ? null : fold(d.label),
        d.profileId,
        bit(d.isGateway),
        d.gatewayId ?? null,
        d.createdAt,
      );
    } catch (err) {
      throw deviceWriteError(err, d);
    }
    for (const c of creds) credentials.insert({ ...c, deviceId: d.id });
  }

  // A nested better-sqlite3 transaction is a SAVEPOINT: a failed row rolls back alone.
  const insertTx = db.transaction(insertOne);
  const insertManyTx = db.transaction((rows: readonly { device: Device; credentials: readonly DeviceCredential[] }[]) => {
    const errors = new Map<number, Error>();
    rows.forEach((row, i) => {
      try {
        insertTx(row.device, row.credentials);
      } catch (err) {
        // Only per-row data errors are reported per row; anything else (disk full, I/O) aborts all.
        if (!(err instanceof PlatformError)) throw err;
        errors.set(i, err);
      }
    });
    return errors;
  });

  const updateTx = db.transaction((device: Device) => {
    const old = s.getDevice.get(device.id);
    if (!old) throw new PlatformError('DEVICE_NOT_FOUND', device.id);
    checkReferences(device);
    // Tenant and creation time never change.
    const d = makeDevice({ ...device, tenantId: old.tenant_id, createdAt: old.created_at });
    try {
      s.updateDevice.run(
        d.name,
        fold(d.name),
        d.label ?? null,
        d.label === undefined ? null : fold(d.label),
        d.profileId,
        bit(d.isGateway),
        d.gatewayId ?? null,
        d.id,
      );
    } catch (err) {
      throw deviceWriteError(err, d);
    }
  });

  return {
    async ensureTenant(tenant: Tenant): Promise<void> {
      s.ensureTenant.run(tenant.id, tenant.name);
    },

    async saveProfile(profile: DeviceProfile): Promise<void> {
      const p = makeProfile({ ...profile, telemetryKeysJson: profileKeysJson(profile) });
      if (!s.tenantExists.get(p.tenantId)) throw tenantNotFound(p.tenantId);
      try {
        s.saveProfile.run({
          id: p.id,
          tenantId: p.tenantId,
          name: p.name,
          codec: p.codec,
          keys: profileKeysJson(p),
          provisionKey: p.provisionKey ?? null,
          provisionSecret: p.provisionSecret ?? null,
          controls: profile.controls ? JSON.stringify(profile.controls) : null,
          decoder: profile.decoder ?? null,
          retentionDays: profile.retentionDays ?? null,
          createdAt: p.createdAt,
        });
      } catch (err) {
        if (isUniqueViolation(err, 'profiles.tenant_id, profiles.name')) throw new PlatformError('CONFLICT', `profile "${p.name}"`, { cause: err });
        if (isUniqueViolation(err, 'profiles.provision_key')) {
          throw new PlatformError('CONFLICT', 'provision key already used by another profile', { cause: err });
        }
        throw err;
      }
    },

    async getProfile(id: string): Promise<DeviceProfile | undefined> {
      const r = s.getProfile.get(id);
      return r && toProfile(r);
    },

    async findProfile(by: { tenantId: string; name: string } | { provisionKey: string }): Promise<DeviceProfile | undefined> {
      const r = 'provisionKey' in by ? s.profileByKey.get(by.provisionKey) : s.profileByName.get(by.tenantId, by.name);
      return r && toProfile(r);
    },

    async listProfiles(tenantId: string): Promise<DeviceProfile[]> {
      return s.listProfiles.all(tenantId).map(toProfile);
    },

    async deleteProfile(id: string): Promise<boolean> {
      // devices.profile_id REFERENCES profiles: a profile still in use fails here, not silently.
      return s.deleteProfile.run(id).changes > 0;
    },

    async insertDevice(device: Device, creds: readonly DeviceCredential[]): Promise<void> {
      insertTx(device, creds);
    },

    async insertDevices(rows: readonly { device: Device; credentials: readonly DeviceCredential[] }[]): Promise<Map<number, Error>> {
      return insertManyTx(rows);
    },

    async updateDevice(device: Device): Promise<void> {
      updateTx(device);
    },

    deleteDeviceRow(id: string): boolean {
      // Credentials go by ON DELETE CASCADE, children of a gateway are unlinked by ON DELETE SET NULL.
      return s.deleteDevice.run(id).changes > 0;
    },

    async getDevice(id: string): Promise<Device | undefined> {
      const r = s.getDevice.get(id);
      return r && toDevice(r);
    },

    async findDeviceByName(tenantId: string, name: string): Promise<Device | undefined> {
      const r = s.deviceByName.get(tenantId, name);
      return r && toDevice(r);
    },

    async listDevices(q: DeviceQuery): Promise<Page<Device>> {
      const search = q.search ? fold(q.search) : undefined;
      const st = listStatement(q, search);
      const params: Record<string, string | number> = { tenantId: q.tenantId };
      if (q.gatewayId !== undefined) params.gatewayId = q.gatewayId;
      if (q.profileId !== undefined) params.profileId = q.profileId;
      if (q.customerIds !== undefined) params.customerIds = JSON.stringify(q.customerIds);
      if (q.ids !== undefined) params.ids = JSON.stringify(q.ids);
      if (search !== undefined) params.search = search;
      const total = st.count.get(params) as number;
      const items = (st.items.all({ ...params, limit: clampLimit(q.limit), offset: clampLimit(q.offset) }) as DeviceRow[]).map(toDevice);
      return { items, total };
    },
  };
}
