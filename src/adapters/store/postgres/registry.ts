/**
 * Tenants, device profiles and devices. A device and its credentials go in one transaction; the
 * bulk import runs one savepoint per row so a bad row fails alone.
 */
import type pg from 'pg';
import type { Device, DeviceCredential, DeviceProfile, Tenant } from '../../../domain/device.js';
import { PlatformError } from '../../../domain/errors.js';
import type { DeviceQuery, Page, RegistryStore } from '../../../ports.js';
import { clampLimit, fold, makeDevice, makeProfile, profileKeysJson, tenantNotFound } from '../shared.js';
import { DEVICE_COLUMNS, PROFILE_COLUMNS, toDevice, toProfile, type DeviceRow, type ProfileRow } from '../rows/registry.js';
import { insertCredential } from './credentials.js';
import { all, inSavepoint, inTx, isUniqueViolation, one, run, type Queryable } from './db.js';

type Row = { device: Device; credentials: readonly DeviceCredential[] };

async function exists(c: Queryable, sql: string, id: string): Promise<boolean> {
  return (await one(c, sql, [id])) !== undefined;
}

/** Profile and gateway must exist: precise errors instead of a bare foreign key failure. */
async function checkReferences(c: Queryable, d: Device): Promise<void> {
  if (!(await exists(c, 'SELECT 1 FROM profiles WHERE id = $1', d.profileId))) throw new PlatformError('PROFILE_NOT_FOUND', d.profileId);
  if (d.gatewayId !== undefined && !(await exists(c, 'SELECT 1 FROM devices WHERE id = $1', d.gatewayId))) {
    throw new PlatformError('DEVICE_NOT_FOUND', `gateway ${d.gatewayId}`);
  }
}

function deviceWriteError(err: unknown, d: Device): unknown {
  if (isUniqueViolation(err, 'devices_name')) return new PlatformError('DEVICE_NAME_TAKEN', d.name, { cause: err });
  if (isUniqueViolation(err, 'devices_pkey')) return new PlatformError('CONFLICT', `device ${d.id}`, { cause: err });
  return err;
}

const foldOrNull = (s: string | undefined): string | null => (s === undefined ? null : fold(s));

/** Checks already made in this transaction (bulk import: one query per tenant/profile, not per row). */
interface Known {
  tenants: Set<string>;
  profiles: Set<string>;
}

async function insertOne(c: pg.PoolClient, row: Row, known: Known): Promise<void> {
  const d = makeDevice(row.device);
  if (!known.tenants.has(d.tenantId)) {
    if (!(await exists(c, 'SELECT 1 FROM tenants WHERE id = $1', d.tenantId))) throw tenantNotFound(d.tenantId);
    known.tenants.add(d.tenantId);
  }
  if (!known.profiles.has(d.profileId) || d.gatewayId !== undefined) {
    await checkReferences(c, d);
    known.profiles.add(d.profileId);
  }
  try {
    await c.query(
      `INSERT INTO devices (id, tenant_id, name, name_fold, label, label_fold, profile_id, is_gateway, gateway_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [d.id, d.tenantId, d.name, fold(d.name), d.label ?? null, foldOrNull(d.label), d.profileId, d.isGateway, d.gatewayId ?? null, d.createdAt],
    );
  } catch (err) {
    throw deviceWriteError(err, d);
  }
  for (const cred of row.credentials) await insertCredential(c, { ...cred, deviceId: d.id });
}

export function createPgRegistry(pool: pg.Pool): Omit<RegistryStore, 'deleteDevice'> {
  const fresh = (): Known => ({ tenants: new Set(), profiles: new Set() });
  return {
    async ensureTenant(tenant: Tenant): Promise<void> {
      await pool.query('INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [tenant.id, tenant.name]);
    },

    async saveProfile(profile: DeviceProfile): Promise<void> {
      const p = makeProfile({ ...profile, telemetryKeysJson: profileKeysJson(profile) });
      if (!(await exists(pool, 'SELECT 1 FROM tenants WHERE id = $1', p.tenantId))) throw tenantNotFound(p.tenantId);
      try {
        await pool.query(
          `INSERT INTO profiles (${PROFILE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name, codec = excluded.codec,
             telemetry_keys = excluded.telemetry_keys, provision_key = excluded.provision_key,
             provision_secret = excluded.provision_secret, controls = excluded.controls, decoder = excluded.decoder, retention_days = excluded.retention_days,
             created_at = excluded.created_at`,
          [
            p.id,
            p.tenantId,
            p.name,
            p.codec,
            profileKeysJson(p),
            p.provisionKey ?? null,
            p.provisionSecret ?? null,
            profile.controls ? JSON.stringify(profile.controls) : null,
            profile.decoder ?? null,
            profile.retentionDays ?? null,
            p.createdAt,
          ],
        );
      } catch (err) {
        if (isUniqueViolation(err, 'profiles_name')) throw new PlatformError('CONFLICT', `profile "${p.name}"`, { cause: err });
        if (isUniqueViolation(err, 'profiles_provision_key')) throw new PlatformError('CONFLICT', 'provision key already used by another profile', { cause: err });
        throw err;
      }
    },

    async getProfile(id: string): Promise<DeviceProfile | undefined> {
      const r = await one<ProfileRow>(pool, `SELECT ${PROFILE_COLUMNS} FROM profiles WHERE id = $1`, [id]);
      return r && toProfile(r);
    },

    async findProfile(by: { tenantId: string; name: string } | { provisionKey: string }): Promise<DeviceProfile | undefined> {
      const r =
        'provisionKey' in by
          ? await one<ProfileRow>(pool, `SELECT ${PROFILE_COLUMNS} FROM profiles WHERE provision_key = $1`, [by.provisionKey])
          : await one<ProfileRow>(pool, `SELECT ${PROFILE_COLUMNS} FROM profiles WHERE tenant_id = $1 AND name = $2`, [by.tenantId, by.name]);
      return r && toProfile(r);
    },

    async listProfiles(tenantId: string): Promise<DeviceProfile[]> {
      return (await all<ProfileRow>(pool, `SELECT ${PROFILE_COLUMNS} FROM profiles WHERE tenant_id = $1 ORDER BY name COLLATE "C"`, [tenantId])).map(toProfile);
    },

    async deleteProfile(id: string): Promise<boolean> {
      // devices.profile_id REFERENCES profiles: a profile still in use fails here, not silently.
      return (await run(pool, 'DELETE FROM profiles WHERE id = $1', [id])) > 0;
    },

    async insertDevice(device: Device, creds: readonly DeviceCredential[]): Promise<void> {
      await inTx(pool, (c) => insertOne(c, { device, credentials: creds }, fresh()));
    },

    async insertDevices(rows: readonly Row[]): Promise<Map<number, Error>> {
      return inTx(pool, async (c) => {
        const errors = new Map<number, Error>();
        const known = fresh();
        for (const [i, row] of rows.entries()) {
          try {
            await inSavepoint(c, () => insertOne(c, row, known));
          } catch (err) {
            // Only per-row data errors are reported per row; anything else (connection, timeout) aborts all.
            if (!(err instanceof PlatformError)) throw err;
            errors.set(i, err);
          }
        }
        return errors;
      });
    },

    async updateDevice(device: Device): Promise<void> {
      await inTx(pool, async (c) => {
        const old = await one<DeviceRow>(c, `SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1 FOR UPDATE`, [device.id]);
        if (!old) throw new PlatformError('DEVICE_NOT_FOUND', device.id);
        await checkReferences(c, device);
        // Tenant and creation time never change.
        const d = makeDevice({ ...device, tenantId: old.tenant_id, createdAt: old.created_at });
        try {
          await c.query(
            `UPDATE devices SET name = $1, name_fold = $2, label = $3, label_fold = $4, profile_id = $5, is_gateway = $6, gateway_id = $7
             WHERE id = $8`,
            [d.name, fold(d.name), d.label ?? null, foldOrNull(d.label), d.profileId, d.isGateway, d.gatewayId ?? null, d.id],
          );
        } catch (err) {
          throw deviceWriteError(err, d);
        }
      });
    },

    async getDevice(id: string): Promise<Device | undefined> {
      const r = await one<DeviceRow>(pool, `SELECT ${DEVICE_COLUMNS} FROM devices WHERE id = $1`, [id]);
      return r && toDevice(r);
    },

    async findDeviceByName(tenantId: string, name: string): Promise<Device | undefined> {
      const r = await one<DeviceRow>(pool, `SELECT ${DEVICE_COLUMNS} FROM devices WHERE tenant_id = $1 AND name = $2`, [tenantId, name]);
      return r && toDevice(r);
    },

    async listDevices(q: DeviceQuery): Promise<Page<Device>> {
      const params: unknown[] = [q.tenantId];
      const where = ['tenant_id = $1'];
      if (q.gatewayId !== undefined) where.push(`gateway_id = $${params.push(q.gatewayId)}`);
      if (q.profileId !== undefined) where.push(`profile_id = $${params.push(q.profileId)}`);
      // A customer user's scope; customer_id is written only by the customers part.
      if (q.customerIds !== undefined) where.push(`customer_id = ANY($${params.push(q.customerIds)})`);
      // A group-scoped custom role: the group's members.
      if (q.ids !== undefined) where.push(`id = ANY($${params.push(q.ids)})`);
      if (q.search) {
        // strpos, not LIKE: % and _ in the search are ordinary characters.
        const p = params.push(fold(q.search));
        where.push(`(strpos(name_fold, $${p}) > 0 OR strpos(label_fold, $${p}) > 0)`);
      }
      const sqlWhere = where.join(' AND ');
      const total = (await one<{ n: number }>(pool, `SELECT count(*) AS n FROM devices WHERE ${sqlWhere}`, params))?.n ?? 0;
      const limit = params.push(clampLimit(q.limit));
      const offset = params.push(clampLimit(q.offset));
      const items = await all<DeviceRow>(pool, `SELECT ${DEVICE_COLUMNS} FROM devices WHERE ${sqlWhere} ORDER BY name COLLATE "C" LIMIT $${limit} OFFSET $${offset}`, params);
      return { items: items.map(toDevice), total };
    },
  };
}
