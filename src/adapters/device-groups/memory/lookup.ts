/**
 * Group membership in memory, for tests and installs without a groups store: named groups and
 * their member device names per tenant (the DeviceGroupLookup port, src/ports/device-groups.ts).
 */
import type { DeviceGroupLookup } from '../../../ports.js';

export class MemoryDeviceGroups implements DeviceGroupLookup {
  private readonly groups = new Map<string, string[]>();

  set(tenantId: string, group: string, deviceNames: readonly string[]): void {
    this.groups.set(`${tenantId}\u0000${group}`, [...deviceNames]);
  }

  deviceNamesInGroup(tenantId: string, groupName: string): Promise<readonly string[]> {
    return Promise.resolve([...(this.groups.get(`${tenantId}\u0000${groupName}`) ?? [])]);
  }
}

/** Every group empty: what the platform answers until the groups store supplies membership. */
export const NO_DEVICE_GROUPS: DeviceGroupLookup = { deviceNamesInGroup: () => Promise.resolve([]) };
