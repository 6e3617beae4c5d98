/**
 * Device profiles of every tenant: creation with validation, updates, the tenant's default profile
 * and a cache by id (a profile is read on every device creation and codec lookup). The registry
 * delegates here; devices, credentials and authentication stay in registry.ts.
 */
import { randomUUID } from 'node:crypto';
import type { DeviceProfile, TelemetryKeySpec } from '../domain/device.js';
import { checkControl, type ProfileControl } from '../domain/dashboard.js';
import { PlatformError, isPlatformError } from '../domain/errors.js';
import type { Clock, Store } from '../ports.js';
import type { PayloadDecoders } from '../ports/payload-decoders.js';

export const DEFAULT_PROFILE_NAME = 'default';
export const MAX_NAME_LENGTH = 255;

export interface CreateProfileInput {
  readonly tenantId: string;
  readonly name: string;
  readonly codec?: string;
  readonly telemetryKeys?: readonly TelemetryKeySpec[];
  readonly provisionKey?: string;
  readonly provisionSecret?: string;
  readonly controls?: readonly ProfileControl[];
  /** Payload decoder source; compiled here, refused with the compiler's message. */
  readonly decoder?: string;
  /** Telemetry older than this many days is deleted (services/retention.ts); absent or 0: kept for ever. */
  readonly retentionDays?: number;
}

/** PUT /profiles/:id: the fields given replace the stored ones. */
export interface UpdateProfileInput {
  readonly name?: string;
  readonly telemetryKeys?: readonly TelemetryKeySpec[];
  readonly controls?: readonly ProfileControl[];
  /** A new decoder source, or null to remove the profile's decoder. */
  readonly decoder?: string | null;
  /** A new retention in days, or 0 or null to keep telemetry for ever. */
  readonly retentionDays?: number | null;
}

export interface ProfileRegistryDeps {
  readonly store: Store;
  readonly clock: Clock;
  /** Codecs the platform has registered; a profile must name one of them. */
  readonly codecNames: readonly string[];
  readonly decoders?: PayloadDecoders;
}

/** Whole days up to 100 years; 0 means none (telemetry kept for ever), as null does on update. */
function checkRetention(days: number): number | undefined {
  if (!Number.isInteger(days) || days < 0 || days > 36_500) throw new PlatformError('BAD_REQUEST', `retentionDays must be a whole number of days from 0 (for ever) to 36500, not ${days}`);
  return days === 0 ? undefined : days;
}

export function validateName(name: unknown, what = 'device name'): string {
  if (typeof name !== 'string' || name.trim().length === 0) throw new PlatformError('BAD_REQUEST', `${what} is required`);
  if (name.length > MAX_NAME_LENGTH) throw new PlatformError('BAD_REQUEST', `${what} longer than ${MAX_NAME_LENGTH} characters`);
  return name;
}

function checkKeySpecs(specs: readonly TelemetryKeySpec[]): void {
  const keys = new Set<string>();
  for (const spec of specs) {
    if (spec.key.length === 0 || spec.key.length > MAX_NAME_LENGTH) throw new PlatformError('BAD_REQUEST', 'telemetry key must be 1..255 characters');
    if (keys.has(spec.key)) throw new PlatformError('BAD_REQUEST', `telemetry key "${spec.key}" listed twice`);
    keys.add(spec.key);
  }
}

export class ProfileRegistry {
  private readonly profileCache = new Map<string, DeviceProfile>();
  private readonly defaultProfiles = new Map<string, Promise<DeviceProfile>>();

  constructor(private readonly deps: ProfileRegistryDeps) {}

  defaultProfile(tenantId: string): Promise<DeviceProfile> {
    let found = this.defaultProfiles.get(tenantId);
    if (!found) {
      found = this.ensureProfile(tenantId, DEFAULT_PROFILE_NAME);
      this.defaultProfiles.set(tenantId, found);
      found.catch(() => this.defaultProfiles.delete(tenantId));
    }
    return found;
  }

  /** Finds a profile by name or creates it with the json codec (gateways name child types this way). */
  async ensureProfile(tenantId: string, name: string): Promise<DeviceProfile> {
    validateName(name, 'profile name');
    const existing = await this.deps.store.findProfile({ tenantId, name });
    if (existing) return this.remember(existing);
    try {
      return await this.createProfile({ tenantId, name, codec: 'json' });
    } catch (err) {
      // Lost a race with another creator: the profile exists now.
      const again = isPlatformError(err, 'CONFLICT') ? await this.deps.store.findProfile({ tenantId, name }) : undefined;
      if (again) return this.remember(again);
      throw err;
    }
  }

  async getProfile(id: string): Promise<DeviceProfile | undefined> {
    const cached = this.profileCache.get(id);
    if (cached) return cached;
    const profile = await this.deps.store.getProfile(id);
    return profile ? this.remember(profile) : undefined;
  }

  async findProfileByName(tenantId: string, name: string): Promise<DeviceProfile | undefined> {
    const profile = await this.deps.store.findProfile({ tenantId, name });
    return profile ? this.remember(profile) : undefined;
  }

  async createProfile(input: CreateProfileInput): Promise<DeviceProfile> {
    const name = validateName(input.name, 'profile name');
    const codec = input.codec ?? 'json';
    if (!this.deps.codecNames.includes(codec)) {
      throw new PlatformError('BAD_REQUEST', `unknown codec "${codec}" (known: ${this.deps.codecNames.join(', ')})`);
    }
    if ((input.provisionKey === undefined) !== (input.provisionSecret === undefined)) {
      throw new PlatformError('BAD_REQUEST', 'provisionKey and provisionSecret go together');
    }
    if (input.provisionKey !== undefined && (input.provisionKey.length === 0 || input.provisionSecret?.length === 0)) {
      throw new PlatformError('BAD_REQUEST', 'provisionKey and provisionSecret must not be empty');
    }
    checkKeySpecs(input.telemetryKeys ?? []);
    input.controls?.forEach((c, i) => checkControl(c, `controls[${i}]`));
    if (input.decoder !== undefined) await this.checkDecoder(input.decoder);
    if (await this.deps.store.findProfile({ tenantId: input.tenantId, name })) {
      throw new PlatformError('CONFLICT', `profile "${name}" already exists`);
    }
    if (input.provisionKey !== undefined && (await this.deps.store.findProfile({ provisionKey: input.provisionKey }))) {
      throw new PlatformError('CONFLICT', 'provision key already used by another profile');
    }
    const profile: DeviceProfile = {
      id: randomUUID(),
      tenantId: input.tenantId,
      name,
      codec,
      telemetryKeys: [...(input.telemetryKeys ?? [])],
      ...(input.provisionKey !== undefined ? { provisionKey: input.provisionKey, provisionSecret: input.provisionSecret } : {}),
      ...(input.controls !== undefined ? { controls: [...input.controls] } : {}),
      ...(input.decoder !== undefined ? { decoder: input.decoder } : {}),
      ...(input.retentionDays !== undefined && checkRetention(input.retentionDays) !== undefined ? { retentionDays: input.retentionDays } : {}),
      createdAt: this.deps.clock.now(),
    };
    await this.deps.store.saveProfile(profile);
    return this.remember(profile);
  }

  /** Renames a profile or replaces its key specs or controls; the codec and provisioning stay. */
  async updateProfile(tenantId: string, id: string, input: UpdateProfileInput): Promise<DeviceProfile> {
    const current = await this.deps.store.getProfile(id);
    if (!current || current.tenantId !== tenantId) throw new PlatformError('PROFILE_NOT_FOUND', id);
    const name = input.name !== undefined ? validateName(input.name, 'profile name') : current.name;
    if (input.telemetryKeys) checkKeySpecs(input.telemetryKeys);
    input.controls?.forEach((c, i) => checkControl(c, `controls[${i}]`));
    if (typeof input.decoder === 'string') await this.checkDecoder(input.decoder);
    const { controls: _old, decoder: _oldDecoder, retentionDays: _oldRetention, ...rest } = current;
    const controls = input.controls ?? current.controls;
    const decoder = input.decoder === null ? undefined : (input.decoder ?? current.decoder);
    const retentionDays = input.retentionDays === null ? undefined : input.retentionDays === undefined ? current.retentionDays : checkRetention(input.retentionDays);
    const profile: DeviceProfile = {
      ...rest,
      name,
      telemetryKeys: [...(input.telemetryKeys ?? current.telemetryKeys)],
      ...(controls !== undefined ? { controls: [...controls] } : {}),
      ...(decoder !== undefined ? { decoder } : {}),
      ...(retentionDays !== undefined ? { retentionDays } : {}),
    };
    await this.deps.store.saveProfile(profile);
    this.deps.decoders?.forget(id);
    return this.remember(profile);
  }

  listProfiles(tenantId: string): Promise<DeviceProfile[]> {
    return this.deps.store.listProfiles(tenantId);
  }

  /**
   * Deletes a profile no device uses. The tenant's default profile stays: devices created
   * without a profile, and provisioning, fall back to it.
   */
  async deleteProfile(tenantId: string, id: string): Promise<void> {
    const current = await this.deps.store.getProfile(id);
    if (!current || current.tenantId !== tenantId) throw new PlatformError('PROFILE_NOT_FOUND', id);
    if ((await this.defaultProfile(tenantId)).id === id) throw new PlatformError('CONFLICT', 'the default profile cannot be deleted');
    const users = await this.deps.store.listDevices({ tenantId, profileId: id, limit: 1, offset: 0 });
    if (users.total > 0) {
      throw new PlatformError('CONFLICT', `profile "${current.name}" is used by ${users.total} device(s); move them to another profile first`);
    }
    await this.deps.store.deleteProfile(id);
    this.profileCache.delete(id);
    this.deps.decoders?.forget(id);
  }

  /** A decoder must compile (and define decodeUplink) before a profile keeps it. */
  private async checkDecoder(source: string): Promise<void> {
    if (!this.deps.decoders?.enabled) throw new PlatformError('BAD_REQUEST', 'payload decoders are not enabled on this platform');
    await this.deps.decoders.check(source);
  }

  private remember(profile: DeviceProfile): DeviceProfile {
    this.profileCache.set(profile.id, profile);
    return profile;
  }

  /** The profile a device may use: the given one (same tenant) or the tenant default. */
  async resolveProfile(tenantId: string, profileId: string | undefined): Promise<DeviceProfile> {
    if (profileId === undefined) return this.defaultProfile(tenantId);
    const profile = await this.getProfile(profileId);
    if (!profile || profile.tenantId !== tenantId) throw new PlatformError('PROFILE_NOT_FOUND', profileId);
    return profile;
  }
}
