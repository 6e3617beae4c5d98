/**
 * The registry's device-creation types and the narrow views of the registry its helpers get
 * (provisioning, CSV import): they depend on this file, not on registry.ts, so the registry can
 * call them without an import cycle.
 */
import type { Device, DeviceCredential, DeviceProfile } from '../domain/device.js';
import type { Store } from '../ports.js';
import type { BasicCredentials } from '../ports/device-api.js';

export interface CreateDeviceInput {
  readonly tenantId: string;
  readonly name: string;
  readonly label?: string;
  readonly profileId?: string;
  readonly isGateway?: boolean;
  readonly gatewayId?: string;
  readonly accessToken?: string;
  readonly basic?: BasicCredentials;
  readonly certificateFingerprint?: string;
}

/** A device as created, with the access token in full: the only time it is shown (the store keeps a hash). */
export interface CreatedDevice {
  readonly device: Device;
  readonly credentials: DeviceCredential[];
  readonly accessToken?: string;
}

/** What provisioning (registry-provision.ts) uses of the registry. */
export interface ProvisioningRegistry {
  readonly store: Pick<Store, 'findProfile'>;
  findDeviceByName(tenantId: string, name: string): Promise<Device | undefined>;
  createDevice(input: CreateDeviceInput): Promise<CreatedDevice>;
}

/** The tenant's device quota (services/quotas.ts): runs a creation of `count` devices only if it fits. */
export interface DeviceQuotaGate {
  withDevices<T>(tenantId: string, count: number, create: () => Promise<T>): Promise<T>;
}

/** What the CSV import (registry-import.ts) uses of the registry. */
export interface ImportingRegistry {
  readonly store: Pick<Store, 'insertDevices'>;
  /** Runs an insert of `count` devices within the tenant's device quota. */
  withDeviceRoom<T>(tenantId: string, count: number, create: () => Promise<T>): Promise<T>;
  defaultProfile(tenantId: string): Promise<DeviceProfile>;
  findProfileByName(tenantId: string, name: string): Promise<DeviceProfile | undefined>;
  prepareDevice(input: CreateDeviceInput, profile?: DeviceProfile): Promise<CreatedDevice>;
  /** The imported devices joined their profiles (registry.ts joinedProfile). */
  joinedProfile(devices: readonly Device[]): void;
}
