/** OTA package metadata, assignments per device and per profile, and deployments with their device rows. */
import type pg from 'pg';
import { PlatformError } from '../../../domain/errors.js';
import type { OtaAssignment, OtaPackage, OtaProfileAssignment, OtaType } from '../../../domain/ota.js';
import type { Deployment, DeploymentDevice } from '../../../domain/ota-deployment.js';
import type { OtaDeploymentStore, OtaStore } from '../../../ports.js';
import { checkInt, tenantNotFound } from '../shared.js';
import { all, inTx, isForeignKeyViolation, isUniqueViolation, one, run } from './db.js';

const parse = <T>(r: { doc: string }): T => JSON.parse(r.doc) as T;

interface AssignmentRow {
  tenant_id: string;
  type: OtaType;
  package_id: string;
  assigned_at: number;
}

export function createPgOta(pool: pg.Pool): OtaStore {
  const exists = async (sql: string, id: string): Promise<boolean> => (await one(pool, sql, [id])) !== undefined;
  return {
    async insertOtaPackage(p: OtaPackage): Promise<void> {
      checkInt(p.size, 'size');
      checkInt(p.createdAt, 'createdAt');
      try {
        await pool.query('INSERT INTO ota_packages (id, tenant_id, type, title, version, checksum, created_at, doc, from_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
          p.id,
          p.tenantId,
          p.type,
          p.title,
          p.version,
          p.checksum,
          p.createdAt,
          JSON.stringify(p),
          p.fromVersion ?? '',
        ]);
      } catch (err) {
        if (isForeignKeyViolation(err)) throw tenantNotFound(p.tenantId);
        if (isUniqueViolation(err, 'ota_packages_version')) throw new PlatformError('CONFLICT', `${p.type} ${p.title} ${p.version} exists`, { cause: err });
        if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `package ${p.id}`, { cause: err });
        throw err;
      }
    },
    async getOtaPackage(id: string): Promise<OtaPackage | undefined> {
      const r = await one<{ doc: string }>(pool, 'SELECT doc FROM ota_packages WHERE id = $1', [id]);
      return r && parse<OtaPackage>(r);
    },
    async listOtaPackages(tenantId: string, type?: OtaType): Promise<OtaPackage[]> {
      const rows =
        type === undefined
          ? await all<{ doc: string }>(pool, 'SELECT doc FROM ota_packages WHERE tenant_id = $1 ORDER BY created_at DESC, id COLLATE "C"', [tenantId])
          : await all<{ doc: string }>(pool, 'SELECT doc FROM ota_packages WHERE tenant_id = $1 AND type = $2 ORDER BY created_at DESC, id COLLATE "C"', [tenantId, type]);
      return rows.map((r) => parse<OtaPackage>(r));
    },
    async deleteOtaPackage(id: string): Promise<boolean> {
      try {
        return (await run(pool, 'DELETE FROM ota_packages WHERE id = $1', [id])) > 0;
      } catch (err) {
        if (isForeignKeyViolation(err)) throw new PlatformError('PACKAGE_IN_USE', `package ${id} is assigned to devices or profiles`, { cause: err });
        throw err;
      }
    },
    async countOtaPackagesByChecksum(checksum: string): Promise<number> {
      return (await one<{ n: number }>(pool, 'SELECT count(*) AS n FROM ota_packages WHERE checksum = $1', [checksum]))?.n ?? 0;
    },
    async setOtaAssignment(a: OtaAssignment): Promise<void> {
      checkInt(a.assignedAt, 'assignedAt');
      if (!(await exists('SELECT 1 FROM devices WHERE id = $1', a.deviceId))) throw new PlatformError('DEVICE_NOT_FOUND', a.deviceId);
      if (!(await exists('SELECT 1 FROM ota_packages WHERE id = $1', a.packageId))) throw new PlatformError('PACKAGE_NOT_FOUND', a.packageId);
      await pool.query(
        `INSERT INTO ota_assignments (device_id, type, tenant_id, package_id, assigned_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (device_id, type) DO UPDATE SET tenant_id = excluded.tenant_id, package_id = excluded.package_id, assigned_at = excluded.assigned_at`,
        [a.deviceId, a.type, a.tenantId, a.packageId, a.assignedAt],
      );
    },
    async getOtaAssignment(deviceId: string, type: OtaType): Promise<OtaAssignment | undefined> {
      const r = await one<AssignmentRow>(pool, 'SELECT tenant_id, type, package_id, assigned_at FROM ota_assignments WHERE device_id = $1 AND type = $2', [deviceId, type]);
      return r && { tenantId: r.tenant_id, deviceId, type: r.type, packageId: r.package_id, assignedAt: r.assigned_at };
    },
    async deleteOtaAssignment(deviceId: string, type: OtaType): Promise<boolean> {
      return ((await pool.query('DELETE FROM ota_assignments WHERE device_id = $1 AND type = $2', [deviceId, type])).rowCount ?? 0) > 0;
    },
    async setOtaProfileAssignment(a: OtaProfileAssignment): Promise<void> {
      checkInt(a.assignedAt, 'assignedAt');
      if (!(await exists('SELECT 1 FROM profiles WHERE id = $1', a.profileId))) throw new PlatformError('PROFILE_NOT_FOUND', a.profileId);
      if (!(await exists('SELECT 1 FROM ota_packages WHERE id = $1', a.packageId))) throw new PlatformError('PACKAGE_NOT_FOUND', a.packageId);
      await pool.query(
        `INSERT INTO ota_profile_assignments (profile_id, type, tenant_id, package_id, assigned_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (profile_id, type) DO UPDATE SET tenant_id = excluded.tenant_id, package_id = excluded.package_id, assigned_at = excluded.assigned_at`,
        [a.profileId, a.type, a.tenantId, a.packageId, a.assignedAt],
      );
    },
    async getOtaProfileAssignment(profileId: string, type: OtaType): Promise<OtaProfileAssignment | undefined> {
      const r = await one<AssignmentRow>(pool, 'SELECT tenant_id, type, package_id, assigned_at FROM ota_profile_assignments WHERE profile_id = $1 AND type = $2', [profileId, type]);
      return r && { tenantId: r.tenant_id, profileId, type: r.type, packageId: r.package_id, assignedAt: r.assigned_at };
    },
  };
}

/** The integer fields (the SQLite store keeps them in STRICT INTEGER columns): a fraction is refused. */
function checkDevice(v: DeploymentDevice): void {
  for (const [what, n] of [['wave', v.wave], ['attempts', v.attempts], ['startAfter', v.startAfter], ['stateSince', v.stateSince]] as const) checkInt(n, what);
}

const upsertDevices = (c: pg.PoolClient, devices: readonly DeploymentDevice[]): Promise<unknown> => {
  devices.forEach(checkDevice);
  return c.query(
    `INSERT INTO ota_deployment_devices (deployment_id, device_id, wave, doc)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[])
     ON CONFLICT (deployment_id, device_id) DO UPDATE SET wave = excluded.wave, doc = excluded.doc`,
    [devices.map((v) => v.deploymentId), devices.map((v) => v.deviceId), devices.map((v) => checkInt(v.wave, 'wave')), devices.map((v) => JSON.stringify(v))],
  );
};

export function createPgOtaDeployments(pool: pg.Pool): OtaDeploymentStore {
  return {
    async insertOtaDeployment(d: Deployment, devices: readonly DeploymentDevice[]): Promise<void> {
      checkInt(d.createdAt, 'createdAt');
      devices.forEach(checkDevice);
      await inTx(pool, async (c) => {
        try {
          await c.query('INSERT INTO ota_deployments (id, tenant_id, status, created_at, doc) VALUES ($1, $2, $3, $4, $5)', [d.id, d.tenantId, d.status, d.createdAt, JSON.stringify(d)]);
        } catch (err) {
          if (isForeignKeyViolation(err)) throw tenantNotFound(d.tenantId);
          throw err;
        }
        if (devices.length > 0) await upsertDevices(c, devices);
      });
    },
    async getOtaDeployment(id: string): Promise<Deployment | undefined> {
      const r = await one<{ doc: string }>(pool, 'SELECT doc FROM ota_deployments WHERE id = $1', [id]);
      return r && parse<Deployment>(r);
    },
    async listOtaDeployments(tenantId: string): Promise<Deployment[]> {
      return (await all<{ doc: string }>(pool, 'SELECT doc FROM ota_deployments WHERE tenant_id = $1 ORDER BY created_at DESC, id COLLATE "C"', [tenantId])).map((r) => parse<Deployment>(r));
    },
    async listActiveOtaDeployments(): Promise<Deployment[]> {
      return (await all<{ doc: string }>(pool, "SELECT doc FROM ota_deployments WHERE status IN ('running', 'paused') ORDER BY created_at, id COLLATE \"C\"")).map((r) => parse<Deployment>(r));
    },
    async updateOtaDeployment(d: Deployment): Promise<void> {
      await pool.query('UPDATE ota_deployments SET status = $2, doc = $3 WHERE id = $1', [d.id, d.status, JSON.stringify(d)]);
    },
    async listOtaDeploymentDevices(deploymentId: string): Promise<DeploymentDevice[]> {
      return (await all<{ doc: string }>(pool, 'SELECT doc FROM ota_deployment_devices WHERE deployment_id = $1 ORDER BY wave, device_id COLLATE "C"', [deploymentId])).map((r) =>
        parse<DeploymentDevice>(r),
      );
    },
    async getOtaDeploymentDevice(deploymentId: string, deviceId: string): Promise<DeploymentDevice | undefined> {
      const r = await one<{ doc: string }>(pool, 'SELECT doc FROM ota_deployment_devices WHERE deployment_id = $1 AND device_id = $2', [deploymentId, deviceId]);
      return r && parse<DeploymentDevice>(r);
    },
    async updateOtaDeploymentDevices(devices: readonly DeploymentDevice[]): Promise<void> {
      devices.forEach(checkDevice); // before any connection is taken: bad input fails here, whole
      if (devices.length > 0) await inTx(pool, (c) => upsertDevices(c, devices));
    },
  };
}
