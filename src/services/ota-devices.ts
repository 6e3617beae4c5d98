/**
 * OTA for one device (issue 16): direct assignment (stored, and announced through the shared
 * attributes `fw_*` / `sw_*` the attribute service pushes to subscribed sessions), the chunks a
 * device downloads (only of the package assigned to it), and its update status, read from what
 * the device reports as telemetry (`fw_state`, `fw_error`, `current_fw_version`, …): the state
 * history is those stored points, so it survives restarts with nothing more to write.
 */
import type { Device, DeviceIdentity } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import { chunkRange, otaAttributes, otaPrefix, otaTelemetryKeys, OTA_ATTRIBUTE_KEYS, OTA_TYPES, type OtaAssignment, type OtaPackage, type OtaProfileAssignment, type OtaType } from '../domain/ota.js';
import { rollbackRefusal } from '../domain/ota-signing.js';
import type { JsonValue, TsValue } from '../domain/telemetry.js';
import type { Clock, OtaStore, RegistryStore, TelemetryStore } from '../ports.js';
import type { OtaChunkHashes, OtaChunkRequest, OtaDownload } from '../ports/device-api.js';
import type { OtaPackageService } from './ota-packages.js';

export interface OtaDeviceDeps {
  readonly store: OtaStore & Pick<TelemetryStore, 'latest' | 'queryRaw'> & Pick<RegistryStore, 'listDevices' | 'getProfile'>;
  readonly packages: OtaPackageService;
  readonly requireDevice: (id: string, tenantId: string) => Promise<Device>;
  /** Sets shared attributes and pushes them to the device's sessions (AttributeService.set). */
  readonly setShared: (tenantId: string, deviceId: string, values: Record<string, JsonValue>) => Promise<void>;
  /** Removes shared `fw_*` / `sw_*` attributes and tells the device's sessions (AttributeService.removeOta). */
  readonly removeShared: (tenantId: string, deviceId: string, keys: string[]) => Promise<void>;
  readonly clock: Clock;
  /** Largest chunk a device may ask for (config ota.maxChunkBytes). */
  readonly maxChunkBytes: number;
}

export interface AssignedPackage {
  /** Assigned to the device itself, or to its profile (which applies when the device has none of its own). */
  readonly via: 'device' | 'profile';
  readonly packageId: string;
  readonly title: string;
  readonly version: string;
  readonly size: number;
  readonly checksum: string;
  readonly assignedAt: number;
}

export interface OtaStatus {
  readonly assigned: AssignedPackage | null;
  /** The last `fw_state` the device reported, with its time. */
  readonly state: string | null;
  readonly stateTs: number | null;
  readonly error: string | null;
  readonly currentTitle: string | null;
  readonly currentVersion: string | null;
  /** The device reports the assigned title and version as its current ones. */
  readonly upToDate: boolean;
  /** Reported states, newest first. */
  readonly history: { ts: number; state: string; error?: string }[];
}

export type DeviceOtaStatus = { readonly deviceId: string } & Record<OtaType, OtaStatus>;

/** Devices read per page when a profile assignment is announced to them. */
const PAGE = 500;

/** States kept in the status answer; older ones stay queryable as telemetry. */
export const HISTORY_LIMIT = 100;

const text = (v: TsValue | undefined): string | null => (v === undefined || v.value === null ? null : typeof v.value === 'string' ? v.value : JSON.stringify(v.value));

export class OtaDeviceService {
  constructor(private readonly deps: OtaDeviceDeps) {}

  /**
   * Assigns the package to the device: stored first, then the shared attributes, so a device
   * told of a package can always fetch it. A package made for a profile fits only its devices.
   */
  async assign(tenantId: string, deviceId: string, packageId: string): Promise<OtaAssignment> {
    const device = await this.deps.requireDevice(deviceId, tenantId);
    const named = await this.deps.packages.get(tenantId, packageId);
    const current = text((await this.deps.store.latest(deviceId, [otaTelemetryKeys(named.type).currentVersion]))[otaTelemetryKeys(named.type).currentVersion]);
    const pkg = await this.variantFor(named, current);
    if (pkg.profileId !== undefined && pkg.profileId !== device.profileId) {
      throw new PlatformError('BAD_REQUEST', `package ${pkg.title} ${pkg.version} is for profile ${pkg.profileId}, the device has ${device.profileId}`);
    }
    const refusal = rollbackRefusal(pkg.minVersion, current);
    if (refusal !== undefined) throw new PlatformError('ROLLBACK_REFUSED', refusal);
    const assignment: OtaAssignment = { tenantId, deviceId, type: pkg.type, packageId: pkg.id, assignedAt: this.deps.clock.now() };
    await this.deps.store.setOtaAssignment(assignment);
    await this.deps.setShared(tenantId, deviceId, otaAttributes(pkg));
    return assignment;
  }

  /**
   * Removes the device's own assignment of that type. Its shared attributes follow what applies
   * now: the profile's package when the profile has one (announced, as a profile assignment does),
   * otherwise none (every `fw_*` / `sw_*` attribute, `fw_url` too, is removed). False when the
   * device had no assignment of its own (nothing changes).
   */
  async unassign(tenantId: string, deviceId: string, type: OtaType): Promise<boolean> {
    const device = await this.deps.requireDevice(deviceId, tenantId);
    if (!(await this.deps.store.deleteOtaAssignment(deviceId, type))) return false;
    const fromProfile = await this.deps.store.getOtaProfileAssignment(device.profileId, type);
    const pkg = fromProfile && (await this.deps.packages.get(tenantId, fromProfile.packageId).catch(() => undefined));
    const values = pkg ? otaAttributes(pkg) : {};
    const stale = [...OTA_ATTRIBUTE_KEYS].filter((k) => k.startsWith(`${otaPrefix(type)}_`) && !(k in values));
    await this.deps.removeShared(tenantId, deviceId, stale);
    if (pkg) await this.deps.setShared(tenantId, deviceId, values);
    return true;
  }

  /**
   * Assigns the package to every device of the profile: stored for the profile (devices without
   * an assignment of their own download it), then announced through the shared attributes of
   * each such device. Devices that join the profile later can download it at once; they are told
   * (attributes) at the profile's next assignment or by a direct one. Returns how many were told.
   */
  async assignProfile(tenantId: string, profileId: string, packageId: string): Promise<OtaProfileAssignment & { devices: number }> {
    const profile = await this.deps.store.getProfile(profileId);
    if (!profile || profile.tenantId !== tenantId) throw new PlatformError('PROFILE_NOT_FOUND', profileId);
    const pkg = await this.deps.packages.get(tenantId, packageId);
    // One package for every device: a delta would reach devices that cannot apply it.
    if (pkg.fromVersion !== undefined) throw new PlatformError('BAD_REQUEST', 'a delta package cannot be assigned to a profile: assign its full image (devices or deployments get the delta when they run its base version)');
    if (pkg.profileId !== undefined && pkg.profileId !== profileId) {
      throw new PlatformError('BAD_REQUEST', `package ${pkg.title} ${pkg.version} is for profile ${pkg.profileId}`);
    }
    const assignment: OtaProfileAssignment = { tenantId, profileId, type: pkg.type, packageId: pkg.id, assignedAt: this.deps.clock.now() };
    await this.deps.store.setOtaProfileAssignment(assignment);
    let told = 0;
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.deps.store.listDevices({ tenantId, profileId, limit: PAGE, offset });
      for (const device of page.items) {
        if (await this.deps.store.getOtaAssignment(device.id, pkg.type)) continue; // its own assignment wins
        await this.deps.setShared(tenantId, device.id, otaAttributes(pkg));
        told++;
      }
      if (page.items.length < PAGE) break;
    }
    return { ...assignment, devices: told };
  }

  /**
   * Delta packages: naming either the full image or one of its deltas, the device gets the delta
   * whose `fromVersion` is the version it reports now, else the full image (a delta never goes to
   * a device on another version: it could not apply it). A named delta without a full image of
   * the same title and version is assigned only to devices on its base version.
   */
  private async variantFor(named: OtaPackage, current: string | null): Promise<OtaPackage> {
    const siblings = (await this.deps.store.listOtaPackages(named.tenantId, named.type)).filter((p) => p.title === named.title && p.version === named.version);
    const delta = current === null ? undefined : siblings.find((p) => p.fromVersion === current);
    if (delta) return delta;
    const full = siblings.find((p) => p.fromVersion === undefined);
    if (full) return full;
    throw new PlatformError('BAD_REQUEST', `${named.title} ${named.version} is a delta from ${named.fromVersion ?? '?'}; the device runs ${current ?? 'an unreported version'} and there is no full image`);
  }

  /** The device's own assignment, else its profile's; undefined when neither (or another tenant's). */
  private async effective(deviceId: string, profileId: string, tenantId: string, type: OtaType): Promise<{ pkg: OtaPackage; via: 'device' | 'profile'; assignedAt: number } | undefined> {
    const own = await this.deps.store.getOtaAssignment(deviceId, type);
    const assignment = own ?? (await this.deps.store.getOtaProfileAssignment(profileId, type));
    const pkg = assignment && (await this.deps.store.getOtaPackage(assignment.packageId));
    if (!assignment || !pkg || pkg.tenantId !== tenantId || assignment.tenantId !== tenantId) return undefined;
    return { pkg, via: own ? 'device' : 'profile', assignedAt: assignment.assignedAt };
  }

  /** The package assigned to the device (or its profile), of its own tenant; PACKAGE_NOT_FOUND when none. */
  async assignedPackage(deviceId: string, profileId: string, tenantId: string, type: OtaType): Promise<OtaPackage> {
    const found = await this.effective(deviceId, profileId, tenantId, type);
    if (!found) throw new PlatformError('PACKAGE_NOT_FOUND', `no ${type} assigned to this device`);
    return found.pkg;
  }

  /**
   * One chunk, as ThingsBoard serves it: of the package assigned to the device (title and
   * version, when the request names them, must be that package's, else PACKAGE_NOT_FOUND);
   * empty past the end; chunk size 0 = the whole package (within maxChunkBytes).
   */
  async chunk(identity: DeviceIdentity, request: OtaChunkRequest): Promise<Buffer> {
    const pkg = await this.requested(identity, request);
    const { offset, length } = chunkRange(pkg.size, request.chunkSize, request.chunk, this.deps.maxChunkBytes);
    return this.deps.packages.read(pkg, offset, length);
  }

  /** The whole assigned package, streamed: no chunk-size bound applies (nothing is held in memory). */
  async download(identity: DeviceIdentity, request: Pick<OtaChunkRequest, 'type' | 'title' | 'version'>): Promise<OtaDownload> {
    const pkg = await this.requested(identity, request);
    const data = await this.deps.packages.data(identity.tenantId, pkg.id);
    return { size: pkg.size, checksum: pkg.checksum, body: data.body };
  }

  /**
   * Devices that joined a profile (created, imported or moved into it) learn the profile's
   * package like the devices that were there when it was assigned: their `fw_*`/`sw_*` shared
   * attributes are set, unless a device has its own assignment (which wins).
   */
  async joinedProfile(devices: readonly Device[]): Promise<number> {
    let told = 0;
    for (const device of devices) {
      for (const type of OTA_TYPES) {
        if (await this.deps.store.getOtaAssignment(device.id, type)) continue;
        const found = await this.effective(device.id, device.profileId, device.tenantId, type);
        if (!found) continue;
        await this.deps.setShared(device.tenantId, device.id, otaAttributes(found.pkg));
        told++;
      }
    }
    return told;
  }

  /** The per-chunk SHA-256 manifest of the assigned package at the device's chunk size. */
  async chunkHashes(identity: DeviceIdentity, request: Pick<OtaChunkRequest, 'type' | 'title' | 'version' | 'chunkSize'>): Promise<OtaChunkHashes> {
    return this.deps.packages.chunkHashesOf(await this.requested(identity, request), request.chunkSize);
  }

  /** The assigned package, when the request's title and version (if given) are its own. */
  private async requested(identity: DeviceIdentity, request: Pick<OtaChunkRequest, 'type' | 'title' | 'version'>): Promise<OtaPackage> {
    const pkg = await this.assignedPackage(identity.deviceId, identity.profileId, identity.tenantId, request.type);
    if ((request.title !== undefined && request.title !== pkg.title) || (request.version !== undefined && request.version !== pkg.version)) {
      throw new PlatformError('PACKAGE_NOT_FOUND', `${request.type} ${request.title ?? '*'} ${request.version ?? '*'} is not the one assigned`);
    }
    return pkg;
  }

  async status(tenantId: string, deviceId: string): Promise<DeviceOtaStatus> {
    const device = await this.deps.requireDevice(deviceId, tenantId);
    const [firmware, software] = await Promise.all(OTA_TYPES.map((type) => this.statusOf(tenantId, device, type)));
    return { deviceId, firmware: firmware as OtaStatus, software: software as OtaStatus };
  }

  private async statusOf(tenantId: string, device: Device, type: OtaType): Promise<OtaStatus> {
    const deviceId = device.id;
    const keys = otaTelemetryKeys(type);
    const found = await this.effective(deviceId, device.profileId, tenantId, type);
    const assigned = found
      ? { via: found.via, packageId: found.pkg.id, title: found.pkg.title, version: found.pkg.version, size: found.pkg.size, checksum: found.pkg.checksum, assignedAt: found.assignedAt }
      : null;
    const latest = await this.deps.store.latest(deviceId, [keys.state, keys.error, keys.currentTitle, keys.currentVersion]);
    const raw = await this.deps.store.queryRaw({ deviceId, keys: [keys.state, keys.error], from: 0, to: Number.MAX_SAFE_INTEGER, limit: HISTORY_LIMIT, order: 'desc' });
    const errors = new Map((raw[keys.error] ?? []).map((p) => [p.ts, text(p)]));
    const history = (raw[keys.state] ?? []).map((p) => {
      const error = errors.get(p.ts);
      return { ts: p.ts, state: text(p) ?? '', ...(error ? { error } : {}) };
    });
    const currentTitle = text(latest[keys.currentTitle]);
    const currentVersion = text(latest[keys.currentVersion]);
    const stateTs = latest[keys.state]?.ts ?? null;
    // The error goes with the state it was reported beside (a stale one from an earlier failure is not shown).
    const error = stateTs !== null && latest[keys.error]?.ts === stateTs ? text(latest[keys.error]) : null;
    return {
      assigned,
      state: text(latest[keys.state]),
      stateTs,
      error,
      currentTitle,
      currentVersion,
      upToDate: assigned !== null && currentVersion === assigned.version && (currentTitle === null || currentTitle === assigned.title),
      history,
    };
  }
}
