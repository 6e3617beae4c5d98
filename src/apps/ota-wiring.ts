/**
 * OTA as the composition root builds it (issue 16): package bytes beside the database
 * (content-addressed files) or in memory with the memory store, signing keys, assignments and
 * the device side, and rollouts that move from stored state on a timer.
 */
import { join, resolve } from 'node:path';
import { createFsBlobStore } from '../adapters/blobs/fs/fs-blobs.js';
import { createMemoryBlobStore } from '../adapters/blobs/memory/memory-blobs.js';
import type { Device } from '../domain/device.js';
import type { Bus, Clock, Logger, Store } from '../ports.js';
import type { AttributeService } from '../services/attributes.js';
import type { AuditService } from '../services/audit.js';
import { OtaDeviceService } from '../services/ota-devices.js';
import { OtaPackageService } from '../services/ota-packages.js';
import { OtaRolloutService } from '../services/ota-rollouts.js';
import { OtaSigningService } from '../services/ota-signing.js';
import type { RegistryService } from '../services/registry.js';
import type { Config } from './config.js';

export interface OtaWiringDeps {
  readonly config: Config;
  readonly store: Store;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly audit: AuditService;
  readonly registry: Pick<RegistryService, 'getProfile' | 'onProfileJoined'>;
  readonly attributes: Pick<AttributeService, 'setOta' | 'removeOta'>;
  readonly requireDevice: (id: string, tenantId: string) => Promise<Device>;
  /** External package URLs pass the outbound policy's save-time check (called only at upload). */
  readonly checkUrl: (url: URL) => void;
}

export interface OtaWiring {
  readonly packages: OtaPackageService;
  readonly devices: OtaDeviceService;
  readonly signing: OtaSigningService;
  readonly rollouts: OtaRolloutService;
}

export function createOta(deps: OtaWiringDeps): OtaWiring {
  const { config, store, clock, registry, attributes, requireDevice } = deps;
  const blobs = config.store.kind === 'memory' ? createMemoryBlobStore() : createFsBlobStore(join(resolve(config.dataDir), 'ota'));
  const signing = new OtaSigningService({ store, clock });
  const packages = new OtaPackageService({ store, blobs, clock, getProfile: (id) => registry.getProfile(id), maxPackageBytes: config.ota.maxPackageBytes, signing, checkUrl: deps.checkUrl });
  const devices = new OtaDeviceService({
    store,
    packages,
    requireDevice,
    setShared: (tenantId, deviceId, values) => attributes.setOta(tenantId, deviceId, values),
    removeShared: (tenantId, deviceId, keys) => attributes.removeOta(tenantId, deviceId, keys),
    clock,
    maxChunkBytes: config.ota.maxChunkBytes,
  });
  const rollouts = new OtaRolloutService({ store, packages, assign: (t, d, p) => devices.assign(t, d, p), requireDevice, bus: deps.bus, clock, logger: deps.logger.child({ component: 'ota' }), audit: deps.audit, tickMs: config.ota.rolloutTickMs });
  // A device created in, imported into or moved into a profile with a package learns it at once.
  const log = deps.logger.child({ component: 'ota' });
  registry.onProfileJoined((joined) => {
    devices.joinedProfile(joined).then(
      (told) => told > 0 && log.info({ devices: joined.length, told }, 'ota: devices joined a profile with a package; told of it'),
      (err: unknown) => log.warn({ err: (err as Error).message, devices: joined.map((d) => d.id).slice(0, 10) }, 'ota: telling devices that joined a profile of its package failed'),
    );
  });
  return { packages, devices, signing, rollouts };
}
