/** OTA packages and assignments in Maps, with the SQLite store's answers (sqlite/ota.ts). */
import { PlatformError } from '../../../domain/errors.js';
import type { OtaAssignment, OtaPackage, OtaProfileAssignment, OtaType } from '../../../domain/ota.js';
import type { OtaStore } from '../../../ports.js';
import { checkInt } from '../shared.js';

export interface MemoryOtaDeps {
  readonly tenantExists: (id: string) => boolean;
  readonly tenantNotFound: (id: string) => Error;
  readonly deviceExists: (id: string) => boolean;
  readonly profileExists: (id: string) => boolean;
}

const newestFirst = (a: OtaPackage, b: OtaPackage): number => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function createMemoryOta(deps: MemoryOtaDeps): OtaStore & { deleteDevice(id: string): void } {
  const packages = new Map<string, OtaPackage>();
  /** `${deviceId}\n${type}` → assignment. */
  const assignments = new Map<string, OtaAssignment>();
  /** `${profileId}\n${type}` → assignment. */
  const profileAssignments = new Map<string, OtaProfileAssignment>();
  const key = (deviceId: string, type: OtaType): string => `${deviceId}\n${type}`;
  return {
    async insertOtaPackage(p: OtaPackage): Promise<void> {
      checkInt(p.size, 'size');
      checkInt(p.createdAt, 'createdAt');
      if (!deps.tenantExists(p.tenantId)) throw deps.tenantNotFound(p.tenantId);
      if (packages.has(p.id)) throw new PlatformError('CONFLICT', `package ${p.id}`);
      for (const q of packages.values()) {
        if (q.tenantId === p.tenantId && q.type === p.type && q.title === p.title && q.version === p.version && q.fromVersion === p.fromVersion) {
          throw new PlatformError('CONFLICT', `${p.type} ${p.title} ${p.version}${p.fromVersion !== undefined ? ` from ${p.fromVersion}` : ''} exists`);
        }
      }
      // Absent optional fields stay absent, as SQLite's NULL columns read back.
      packages.set(p.id, JSON.parse(JSON.stringify(p)) as OtaPackage);
    },
    async getOtaPackage(id: string): Promise<OtaPackage | undefined> {
      const p = packages.get(id);
      return p && { ...p };
    },
    async listOtaPackages(tenantId: string, type?: OtaType): Promise<OtaPackage[]> {
      return [...packages.values()]
        .filter((p) => p.tenantId === tenantId && (type === undefined || p.type === type))
        .sort(newestFirst)
        .map((p) => ({ ...p }));
    },
    async deleteOtaPackage(id: string): Promise<boolean> {
      for (const a of [...assignments.values(), ...profileAssignments.values()]) {
        if (a.packageId === id) throw new PlatformError('PACKAGE_IN_USE', `package ${id} is assigned to devices or profiles`);
      }
      return packages.delete(id);
    },
    async countOtaPackagesByChecksum(checksum: string): Promise<number> {
      let n = 0;
      for (const p of packages.values()) if (p.checksum === checksum) n++;
      return n;
    },
    async setOtaAssignment(a: OtaAssignment): Promise<void> {
      checkInt(a.assignedAt, 'assignedAt');
      if (!deps.deviceExists(a.deviceId)) throw new PlatformError('DEVICE_NOT_FOUND', a.deviceId);
      if (!packages.has(a.packageId)) throw new PlatformError('PACKAGE_NOT_FOUND', a.packageId);
      assignments.set(key(a.deviceId, a.type), { ...a });
    },
    async getOtaAssignment(deviceId: string, type: OtaType): Promise<OtaAssignment | undefined> {
      const a = assignments.get(key(deviceId, type));
      return a && { ...a };
    },
    async deleteOtaAssignment(deviceId: string, type: OtaType): Promise<boolean> {
      return assignments.delete(key(deviceId, type));
    },
    async setOtaProfileAssignment(a: OtaProfileAssignment): Promise<void> {
      checkInt(a.assignedAt, 'assignedAt');
      if (!deps.profileExists(a.profileId)) throw new PlatformError('PROFILE_NOT_FOUND', a.profileId);
      if (!packages.has(a.packageId)) throw new PlatformError('PACKAGE_NOT_FOUND', a.packageId);
      profileAssignments.set(key(a.profileId, a.type), { ...a });
    },
    async getOtaProfileAssignment(profileId: string, type: OtaType): Promise<OtaProfileAssignment | undefined> {
      const a = profileAssignments.get(key(profileId, type));
      return a && { ...a };
    },
    deleteDevice(id: string): void {
      for (const type of ['firmware', 'software'] as const) assignments.delete(key(id, type));
    },
  };
}
