/**
 * OTA package metadata and per-device assignments (issue 16). The bytes are not here: they are
 * in the PackageBlobStore, keyed by `checksum`. Tables: migration 15 below, listed in schema.ts;
 * migration 24 (ota-keys.ts) rebuilt ota_packages with the signature, minimum version, URL and delta columns.
 */
import Database from 'better-sqlite3';
import { PlatformError } from '../../../domain/errors.js';
import type { OtaAssignment, OtaPackage, OtaProfileAssignment, OtaType } from '../../../domain/ota.js';
import type { OtaStore } from '../../../ports.js';
import { checkInt, tenantNotFound } from '../shared.js';
import { isUniqueViolation, type Db } from './sql.js';

/**
 * A device's assignment goes with the device (CASCADE); a package cannot be deleted while a
 * device or profile is assigned it (no cascade: the delete fails and is answered PACKAGE_IN_USE).
 */
export const V15_OTA = `
  CREATE TABLE ota_packages (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    type       TEXT NOT NULL CHECK (type IN ('firmware', 'software')),
    title      TEXT NOT NULL,
    version    TEXT NOT NULL,
    profile_id TEXT,
    hardware   TEXT,
    size       INTEGER NOT NULL,
    checksum   TEXT NOT NULL,                    -- hex SHA-256: the blob's key
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, type, title, version)
  ) STRICT;
  CREATE INDEX ota_packages_checksum ON ota_packages (checksum);

  CREATE TABLE ota_assignments (
    device_id   TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    package_id  TEXT NOT NULL REFERENCES ota_packages (id),
    assigned_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, type)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX ota_assignments_package ON ota_assignments (package_id);

  CREATE TABLE ota_profile_assignments (
    profile_id  TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    tenant_id   TEXT NOT NULL,
    package_id  TEXT NOT NULL REFERENCES ota_packages (id),
    assigned_at INTEGER NOT NULL,
    PRIMARY KEY (profile_id, type)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX ota_profile_assignments_package ON ota_profile_assignments (package_id);
`;

interface PackageRow {
  id: string;
  tenant_id: string;
  type: OtaType;
  title: string;
  version: string;
  profile_id: string | null;
  hardware: string | null;
  size: number;
  checksum: string;
  created_at: number;
  from_version: string;
  min_version: string | null;
  url: string | null;
  signed_by: string | null;
  signature: string | null;
}

interface ProfileAssignmentRow {
  profile_id: string;
  type: OtaType;
  tenant_id: string;
  package_id: string;
  assigned_at: number;
}

interface AssignmentRow {
  device_id: string;
  type: OtaType;
  tenant_id: string;
  package_id: string;
  assigned_at: number;
}

const COLUMNS = 'id, tenant_id, type, title, version, profile_id, hardware, size, checksum, created_at, from_version, min_version, url, signed_by, signature';

const toPackage = (r: PackageRow): OtaPackage => ({
  id: r.id,
  tenantId: r.tenant_id,
  type: r.type,
  title: r.title,
  version: r.version,
  ...(r.profile_id !== null ? { profileId: r.profile_id } : {}),
  ...(r.hardware !== null ? { hardware: r.hardware } : {}),
  size: r.size,
  checksum: r.checksum,
  createdAt: r.created_at,
  ...(r.from_version !== '' ? { fromVersion: r.from_version } : {}),
  ...(r.min_version !== null ? { minVersion: r.min_version } : {}),
  ...(r.url !== null ? { url: r.url } : {}),
  ...(r.signed_by !== null ? { signedBy: r.signed_by } : {}),
  ...(r.signature !== null ? { signature: r.signature } : {}),
});

const toAssignment = (r: AssignmentRow): OtaAssignment => ({
  tenantId: r.tenant_id,
  deviceId: r.device_id,
  type: r.type,
  packageId: r.package_id,
  assignedAt: r.assigned_at,
});

function isForeignKeyViolation(err: unknown): boolean {
  return err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

export function createSqliteOta(db: Db): OtaStore {
  const s = {
    tenantExists: db.prepare('SELECT 1 FROM tenants WHERE id = ?').pluck(),
    insert: db.prepare(
      `INSERT INTO ota_packages (${COLUMNS}) VALUES (@id, @tenantId, @type, @title, @version, @profileId, @hardware, @size, @checksum, @createdAt, @fromVersion, @minVersion, @url, @signedBy, @signature)`,
    ),
    get: db.prepare<[string], PackageRow>(`SELECT ${COLUMNS} FROM ota_packages WHERE id = ?`),
    list: db.prepare<[string], PackageRow>(`SELECT ${COLUMNS} FROM ota_packages WHERE tenant_id = ? ORDER BY created_at DESC, id`),
    listType: db.prepare<[string, string], PackageRow>(`SELECT ${COLUMNS} FROM ota_packages WHERE tenant_id = ? AND type = ? ORDER BY created_at DESC, id`),
    delete: db.prepare('DELETE FROM ota_packages WHERE id = ?'),
    countChecksum: db.prepare<[string], number>('SELECT count(*) FROM ota_packages WHERE checksum = ?').pluck(),
    deviceExists: db.prepare('SELECT 1 FROM devices WHERE id = ?').pluck(),
    assign: db.prepare(
      `INSERT INTO ota_assignments (device_id, type, tenant_id, package_id, assigned_at) VALUES (@deviceId, @type, @tenantId, @packageId, @assignedAt)
       ON CONFLICT (device_id, type) DO UPDATE SET tenant_id = excluded.tenant_id, package_id = excluded.package_id, assigned_at = excluded.assigned_at`,
    ),
    profileExists: db.prepare('SELECT 1 FROM profiles WHERE id = ?').pluck(),
    assignProfile: db.prepare(
      `INSERT INTO ota_profile_assignments (profile_id, type, tenant_id, package_id, assigned_at) VALUES (@profileId, @type, @tenantId, @packageId, @assignedAt)
       ON CONFLICT (profile_id, type) DO UPDATE SET tenant_id = excluded.tenant_id, package_id = excluded.package_id, assigned_at = excluded.assigned_at`,
    ),
    getProfileAssignment: db.prepare<[string, string], ProfileAssignmentRow>(
      'SELECT profile_id, type, tenant_id, package_id, assigned_at FROM ota_profile_assignments WHERE profile_id = ? AND type = ?',
    ),
    deleteAssignment: db.prepare<[string, string]>('DELETE FROM ota_assignments WHERE device_id = ? AND type = ?'),
    getAssignment: db.prepare<[string, string], AssignmentRow>('SELECT device_id, type, tenant_id, package_id, assigned_at FROM ota_assignments WHERE device_id = ? AND type = ?'),
  };
  return {
    async insertOtaPackage(p: OtaPackage): Promise<void> {
      checkInt(p.size, 'size');
      checkInt(p.createdAt, 'createdAt');
      if (!s.tenantExists.get(p.tenantId)) throw tenantNotFound(p.tenantId);
      try {
        s.insert.run({
          ...p,
          profileId: p.profileId ?? null,
          hardware: p.hardware ?? null,
          fromVersion: p.fromVersion ?? '',
          minVersion: p.minVersion ?? null,
          url: p.url ?? null,
          signedBy: p.signedBy ?? null,
          signature: p.signature ?? null,
        });
      } catch (err) {
        if (isUniqueViolation(err, 'ota_packages.tenant_id, ota_packages.type, ota_packages.title, ota_packages.version, ota_packages.from_version')) {
          throw new PlatformError('CONFLICT', `${p.type} ${p.title} ${p.version}${p.fromVersion !== undefined ? ` from ${p.fromVersion}` : ''} exists`, { cause: err });
        }
        if (isUniqueViolation(err)) throw new PlatformError('CONFLICT', `package ${p.id}`, { cause: err });
        throw err;
      }
    },
    async getOtaPackage(id: string): Promise<OtaPackage | undefined> {
      const r = s.get.get(id);
      return r && toPackage(r);
    },
    async listOtaPackages(tenantId: string, type?: OtaType): Promise<OtaPackage[]> {
      return (type === undefined ? s.list.all(tenantId) : s.listType.all(tenantId, type)).map(toPackage);
    },
    async deleteOtaPackage(id: string): Promise<boolean> {
      try {
        return s.delete.run(id).changes > 0;
      } catch (err) {
        if (isForeignKeyViolation(err)) throw new PlatformError('PACKAGE_IN_USE', `package ${id} is assigned to devices or profiles`, { cause: err });
        throw err;
      }
    },
    async countOtaPackagesByChecksum(checksum: string): Promise<number> {
      return s.countChecksum.get(checksum) ?? 0;
    },
    async setOtaAssignment(a: OtaAssignment): Promise<void> {
      checkInt(a.assignedAt, 'assignedAt');
      if (!s.deviceExists.get(a.deviceId)) throw new PlatformError('DEVICE_NOT_FOUND', a.deviceId);
      if (!s.get.get(a.packageId)) throw new PlatformError('PACKAGE_NOT_FOUND', a.packageId);
      s.assign.run({ ...a });
    },
    async getOtaAssignment(deviceId: string, type: OtaType): Promise<OtaAssignment | undefined> {
      const r = s.getAssignment.get(deviceId, type);
      return r && toAssignment(r);
    },
    async deleteOtaAssignment(deviceId: string, type: OtaType): Promise<boolean> {
      return s.deleteAssignment.run(deviceId, type).changes > 0;
    },
    async setOtaProfileAssignment(a: OtaProfileAssignment): Promise<void> {
      checkInt(a.assignedAt, 'assignedAt');
      if (!s.profileExists.get(a.profileId)) throw new PlatformError('PROFILE_NOT_FOUND', a.profileId);
      if (!s.get.get(a.packageId)) throw new PlatformError('PACKAGE_NOT_FOUND', a.packageId);
      s.assignProfile.run({ ...a });
    },
    async getOtaProfileAssignment(profileId: string, type: OtaType): Promise<OtaProfileAssignment | undefined> {
      const r = s.getProfileAssignment.get(profileId, type);
      return r && { tenantId: r.tenant_id, profileId: r.profile_id, type: r.type, packageId: r.package_id, assignedAt: r.assigned_at };
    },
  };
}
