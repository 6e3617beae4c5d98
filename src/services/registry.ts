/**
 * Tenants, devices and their credentials (profiles: registry-profiles.ts). Device authentication
 * runs here on every CoAP/HTTP request and MQTT connect, so verified identities are cached in
 * memory and the cache is dropped for a device whenever the device or its credentials change.
 */
import { type AccessScope, canSeeDevice } from '../domain/customers.js';
import { randomUUID } from 'node:crypto';
import {
  DEFAULT_TENANT_ID,
  toIdentity,
  type Device,
  type DeviceCredential,
  type DeviceIdentity,
  type DeviceProfile,
} from '../domain/device.js';
import { PlatformError, isPlatformError } from '../domain/errors.js';
import type { Clock, DeviceQuery, Logger, Page, Store } from '../ports.js';
import { randomBase62 } from './auth-secrets.js';
import type { BasicCredentials, ProvisionRequest, ProvisionResponse, TransportMetrics } from '../ports/device-api.js';
import { DEFAULT_DEVICE_AUTH_LIMITS, DeviceAuthGuard, type DeviceAuthLimits, type DeviceClient } from './device-auth-guard.js';
import {
  IdentityCache,
  TokenHasher,
  authCacheKey,
  buildBasicCredential,
  checkCredentialKey,
  clip,
  credentialLabel,
  matchBasicCredential,
  normalizeFingerprint,
  validateToken,
  type AuthLookup,
} from './registry-credentials.js';
import { importDevicesCsv, type ImportResult } from './registry-import.js';
import type { PayloadDecoders } from '../ports/payload-decoders.js';
import { MAX_NAME_LENGTH, ProfileRegistry, validateName, type CreateProfileInput, type UpdateProfileInput } from './registry-profiles.js';
import { provisionDevice } from './registry-provision.js';
import type { CreateDeviceInput, CreatedDevice, DeviceQuotaGate } from './registry-types.js';

export { TokenHasher, fingerprintOfCertificate, normalizeFingerprint, tokenHint, validateToken, type AuthLookup } from './registry-credentials.js';
export type { ImportError, ImportResult, ImportedDevice } from './registry-import.js';
export { DEFAULT_PROFILE_NAME, MAX_NAME_LENGTH, validateName, type CreateProfileInput, type UpdateProfileInput } from './registry-profiles.js';

export interface RegistryDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Codecs the platform has registered; a profile must name one of them. */
  readonly codecNames: readonly string[];
  /** Entries in the authentication cache (default 100,000). */
  readonly authCacheSize?: number;
  /** How long a cached identity is trusted (default 60 s); bounds staleness across cluster nodes. */
  readonly authCacheTtlMs?: number;
  /** Hashes access tokens with the platform's credential key (default: a random key, for tests and the memory store). */
  readonly tokens?: TokenHasher;
  /** Suspended tenants: their devices are refused at authentication (an in-memory check, no store read). */
  readonly tenantStatus?: { check(tenantId: string, who: 'device'): void };
  /** Brute-force limits on device authentication and provisioning (device-auth-guard.ts). */
  readonly deviceAuthLimits?: DeviceAuthLimits;
  /** Counts lockouts (metrics.reject(transport, 'RATE_LIMITED')). */
  readonly metrics?: TransportMetrics;
  /** The tenants' device quotas: every creation (REST, CSV import, provisioning, gateway children) passes it. */
  readonly deviceQuota?: DeviceQuotaGate;
  /** Compiles a profile's payload decoder at save; without it a profile cannot carry one. */
  readonly decoders?: PayloadDecoders;
}

export type { CreateDeviceInput, CreatedDevice };

/** A credential as set; `accessToken` is the new token in full, shown this once. */
export interface SetCredential {
  readonly credential: DeviceCredential;
  readonly accessToken?: string;
}

export type CredentialsInput =
  | { readonly accessToken?: string }
  | { readonly basic: BasicCredentials }
  | { readonly certificateFingerprint: string };

export const ACCESS_TOKEN_LENGTH = 20;
export const MAX_LIST_LIMIT = 10_000;


export class RegistryService {
  private readonly profiles: ProfileRegistry;
  private readonly identities: IdentityCache;
  private readonly childLocations = new Map<string, { gatewayId: string; name: string } | null>();
  private readonly cacheSize: number;
  private readonly changeListeners: ((deviceId: string) => void)[] = [];
  private readonly joinListeners: ((devices: readonly Device[]) => void)[] = [];
  private readonly tokens: TokenHasher;
  private readonly guard: DeviceAuthGuard;

  constructor(private readonly deps: RegistryDeps) {
    this.profiles = new ProfileRegistry(deps);
    this.cacheSize = deps.authCacheSize ?? 100_000;
    this.identities = new IdentityCache(this.cacheSize, deps.authCacheTtlMs ?? 60_000);
    this.tokens = deps.tokens ?? new TokenHasher();
    this.guard = new DeviceAuthGuard(deps.deviceAuthLimits ?? DEFAULT_DEVICE_AUTH_LIMITS, deps.clock, deps.logger, deps.metrics);
  }

  get store(): Store {
    return this.deps.store;
  }

  async init(): Promise<void> {
    await checkCredentialKey(this.deps.store, this.tokens);
    await this.deps.store.ensureTenant({ id: DEFAULT_TENANT_ID, name: 'Default' });
    await this.defaultProfile(DEFAULT_TENANT_ID);
  }

  // ------------------------------------------------------------ profiles (registry-profiles.ts)

  defaultProfile(tenantId: string): Promise<DeviceProfile> {
    return this.profiles.defaultProfile(tenantId);
  }

  ensureProfile(tenantId: string, name: string): Promise<DeviceProfile> {
    return this.profiles.ensureProfile(tenantId, name);
  }

  getProfile(id: string): Promise<DeviceProfile | undefined> {
    return this.profiles.getProfile(id);
  }

  findProfileByName(tenantId: string, name: string): Promise<DeviceProfile | undefined> {
    return this.profiles.findProfileByName(tenantId, name);
  }

  createProfile(input: CreateProfileInput): Promise<DeviceProfile> {
    return this.profiles.createProfile(input);
  }

  updateProfile(tenantId: string, id: string, input: UpdateProfileInput): Promise<DeviceProfile> {
    return this.profiles.updateProfile(tenantId, id, input);
  }

  listProfiles(tenantId: string): Promise<DeviceProfile[]> {
    return this.profiles.listProfiles(tenantId);
  }

  deleteProfile(tenantId: string, id: string): Promise<void> {
    return this.profiles.deleteProfile(tenantId, id);
  }

  resolveProfile(tenantId: string, profileId: string | undefined): Promise<DeviceProfile> {
    return this.profiles.resolveProfile(tenantId, profileId);
  }

  // ------------------------------------------------------------ devices

  async createDevice(input: CreateDeviceInput): Promise<CreatedDevice> {
    const { device, credentials, accessToken } = await this.prepareDevice(input);
    if (device.gatewayId !== undefined) {
      const gateway = await this.deps.store.getDevice(device.gatewayId);
      if (!gateway || gateway.tenantId !== device.tenantId) throw new PlatformError('DEVICE_NOT_FOUND', `gateway ${device.gatewayId}`);
    }
    await this.withDeviceRoom(device.tenantId, 1, () => this.deps.store.insertDevice(device, credentials));
    this.joinedProfile([device]);
    return { device, credentials, ...(accessToken !== undefined ? { accessToken } : {}) };
  }

  /** Runs an insert of `count` devices if the tenant's device quota has room (TENANT_QUOTA_EXCEEDED otherwise). */
  withDeviceRoom<T>(tenantId: string, count: number, create: () => Promise<T>): Promise<T> {
    return this.deps.deviceQuota ? this.deps.deviceQuota.withDevices(tenantId, count, create) : create();
  }

  /** Validates input and builds the device and its credentials without storing them (import reuses it). */
  async prepareDevice(input: CreateDeviceInput, profile?: DeviceProfile): Promise<CreatedDevice> {
    const name = validateName(input.name);
    if (input.label !== undefined && input.label.length > MAX_NAME_LENGTH) {
      throw new PlatformError('BAD_REQUEST', `label longer than ${MAX_NAME_LENGTH} characters`);
    }
    const resolved = profile ?? (await this.resolveProfile(input.tenantId, input.profileId));
    const device: Device = {
      id: randomUUID(),
      tenantId: input.tenantId,
      name,
      ...(input.label ? { label: input.label } : {}),
      profileId: resolved.id,
      isGateway: input.isGateway ?? false,
      ...(input.gatewayId !== undefined ? { gatewayId: input.gatewayId } : {}),
      createdAt: this.deps.clock.now(),
    };
    const credentials: DeviceCredential[] = [];
    let accessToken = input.accessToken !== undefined ? validateToken(input.accessToken) : undefined;
    if (input.basic) credentials.push(await buildBasicCredential(device.id, input.basic));
    if (input.certificateFingerprint !== undefined) {
      credentials.push({ type: 'X509_CERTIFICATE', deviceId: device.id, fingerprint: normalizeFingerprint(input.certificateFingerprint) });
    }
    if (accessToken === undefined && credentials.length === 0) accessToken = randomBase62(ACCESS_TOKEN_LENGTH);
    if (accessToken !== undefined) credentials.unshift(this.tokens.credential(device.id, accessToken));
    return { device, credentials, ...(accessToken !== undefined ? { accessToken } : {}) };
  }

  async updateDevice(id: string, patch: { name?: string; label?: string; profileId?: string }): Promise<Device> {
    const device = await this.requireDevice(id);
    let updated: Device = { ...device };
    if (patch.name !== undefined && patch.name !== device.name) {
      const name = validateName(patch.name);
      if (await this.deps.store.findDeviceByName(device.tenantId, name)) throw new PlatformError('DEVICE_NAME_TAKEN', name);
      updated = { ...updated, name };
    }
    if (patch.label !== undefined) {
      if (patch.label.length > MAX_NAME_LENGTH) throw new PlatformError('BAD_REQUEST', `label longer than ${MAX_NAME_LENGTH} characters`);
      const { label: _old, ...rest } = updated;
      updated = patch.label === '' ? rest : { ...rest, label: patch.label };
    }
    if (patch.profileId !== undefined) updated = { ...updated, profileId: (await this.resolveProfile(device.tenantId, patch.profileId)).id };
    await this.deps.store.updateDevice(updated);
    this.invalidate(id);
    if (updated.profileId !== device.profileId) this.joinedProfile([updated]);
    return updated;
  }

  /**
   * Attaches an existing device to a gateway, or detaches it (null): an admin's decision, the only
   * way a device created on its own comes to be reported for by a gateway.
   */
  async linkToGateway(deviceId: string, gatewayId: string | null): Promise<Device> {
    const device = await this.requireDevice(deviceId);
    if (gatewayId !== null) {
      const gateway = await this.deps.store.getDevice(gatewayId);
      if (!gateway || gateway.tenantId !== device.tenantId) throw new PlatformError('DEVICE_NOT_FOUND', `gateway ${gatewayId}`);
      if (!gateway.isGateway) throw new PlatformError('BAD_REQUEST', `${gateway.name} is not a gateway`);
      if (device.isGateway || gateway.id === device.id) throw new PlatformError('BAD_REQUEST', 'a gateway cannot be the child of a gateway');
    }
    const { gatewayId: _old, ...rest } = device;
    const updated: Device = gatewayId === null ? rest : { ...rest, gatewayId };
    await this.deps.store.updateDevice(updated);
    this.invalidate(deviceId);
    return updated;
  }

  async deleteDevice(id: string): Promise<boolean> {
    const deleted = await this.deps.store.deleteDevice(id);
    this.invalidate(id);
    return deleted;
  }

  getDevice(id: string): Promise<Device | undefined> {
    return this.deps.store.getDevice(id);
  }

  /** The device if it exists in the tenant, else DEVICE_NOT_FOUND (no hint that it exists elsewhere). */
  async requireDevice(id: string, tenantOrScope?: string | AccessScope): Promise<Device> {
    const device = await this.deps.store.getDevice(id);
    const scope = typeof tenantOrScope === 'string' ? { tenantId: tenantOrScope } : tenantOrScope;
    if (!device || (scope !== undefined && !canSeeDevice(scope, device))) throw new PlatformError('DEVICE_NOT_FOUND', id);
    return device;
  }

  /** Which gateway a device sits behind, if any (cached; the session hub asks per push). */
  async locateChild(deviceId: string): Promise<{ gatewayId: string; name: string } | undefined> {
    const cached = this.childLocations.get(deviceId);
    if (cached !== undefined) return cached ?? undefined;
    const device = await this.deps.store.getDevice(deviceId);
    const location = device?.gatewayId !== undefined ? { gatewayId: device.gatewayId, name: device.name } : null;
    if (this.childLocations.size >= this.cacheSize) {
      const oldest = this.childLocations.keys().next();
      if (!oldest.done) this.childLocations.delete(oldest.value);
    }
    this.childLocations.set(deviceId, location);
    return location ?? undefined;
  }

  findDeviceByName(tenantId: string, name: string): Promise<Device | undefined> {
    return this.deps.store.findDeviceByName(tenantId, name);
  }

  listDevices(query: DeviceQuery): Promise<Page<Device>> {
    const limit = Math.min(Math.max(Math.trunc(query.limit), 0), MAX_LIST_LIMIT);
    return this.deps.store.listDevices({ ...query, limit, offset: Math.max(Math.trunc(query.offset), 0) });
  }

  async identityFor(device: Device): Promise<DeviceIdentity> {
    const profile = await this.getProfile(device.profileId);
    if (!profile) throw new PlatformError('PROFILE_NOT_FOUND', device.profileId);
    return toIdentity(device, profile);
  }

  getCredentials(deviceId: string): Promise<DeviceCredential[]> {
    return this.deps.store.getCredentials(deviceId);
  }

  async setCredentials(deviceId: string, input: CredentialsInput): Promise<SetCredential> {
    await this.requireDevice(deviceId);
    let credential: DeviceCredential;
    let accessToken: string | undefined;
    if ('basic' in input) credential = await buildBasicCredential(deviceId, input.basic);
    else if ('certificateFingerprint' in input) {
      credential = { type: 'X509_CERTIFICATE', deviceId, fingerprint: normalizeFingerprint(input.certificateFingerprint) };
    } else {
      accessToken = input.accessToken === undefined ? randomBase62(ACCESS_TOKEN_LENGTH) : validateToken(input.accessToken);
      credential = this.tokens.credential(deviceId, accessToken);
    }
    // Drop cached identities first: the old secret must stop working even if the write races a lookup.
    this.invalidate(deviceId);
    await this.deps.store.setCredential(credential);
    this.invalidate(deviceId);
    return { credential, ...(accessToken !== undefined ? { accessToken } : {}) };
  }

  // ------------------------------------------------------------ authentication

  /**
   * A credential verified within the cache TTL answers from memory (no hash, no store, no
   * throttle: the exact secret was checked, so it tells a guesser nothing, and an honest device
   * behind an address that is locked out by another one keeps reconnecting). Anything else passes
   * the brute-force guard first, and its failure counts against the client's address and the
   * credential.
   */
  async authenticate(lookup: AuthLookup, client?: DeviceClient): Promise<DeviceIdentity> {
    const key = authCacheKey(lookup);
    const now = this.deps.clock.now();
    const cached = this.identities.get(key, now);
    if (cached) {
      this.deps.tenantStatus?.check(cached.tenantId, 'device');
      return cached;
    }
    // One HMAC: the token's hash is both its store key and its throttle key.
    const tokenHash = 'token' in lookup ? this.tokens.digest(lookup.token) : undefined;
    const throttleKey = 'token' in lookup ? `t:${tokenHash}` : this.throttleKey(lookup);
    this.guard.check(client, throttleKey, 'device authentication');
    let identity: DeviceIdentity;
    try {
      identity = await this.lookupIdentity(lookup, tokenHash);
    } catch (err) {
      if (isPlatformError(err, 'UNAUTHORIZED') || isPlatformError(err, 'BAD_CREDENTIALS')) {
        this.guard.failed(client, throttleKey, { what: 'device authentication', credential: credentialLabel(lookup) });
      }
      throw err;
    }
    this.guard.succeeded(throttleKey);
    this.identities.set(key, identity, now);
    this.deps.tenantStatus?.check(identity.tenantId, 'device');
    return identity;
  }

  /** Fixed-length keys, whatever length the client sent (an MQTT user name may be 64 KiB). */
  private throttleKey(lookup: Exclude<AuthLookup, { token: string }>): string {
    if ('fingerprint' in lookup) return `x:${this.tokens.digest(lookup.fingerprint)}`;
    return `b:${this.tokens.digest(`${lookup.basic.clientId ?? ''}\u0000${lookup.basic.username ?? ''}`)}`;
  }

  private async lookupIdentity(lookup: AuthLookup, tokenHash: string | undefined): Promise<DeviceIdentity> {
    const { store } = this.deps;
    let deviceId: string | undefined;
    if ('token' in lookup) {
      if (lookup.token.length === 0) throw new PlatformError('UNAUTHORIZED', 'empty access token');
      deviceId = (await store.findCredentials({ type: 'ACCESS_TOKEN', tokenHash: tokenHash ?? this.tokens.digest(lookup.token) }))[0]?.deviceId;
      if (!deviceId) throw new PlatformError('UNAUTHORIZED', 'unknown access token');
    } else if ('fingerprint' in lookup) {
      let fingerprint: string;
      try {
        fingerprint = normalizeFingerprint(lookup.fingerprint);
      } catch {
        throw new PlatformError('UNAUTHORIZED', 'malformed certificate fingerprint');
      }
      deviceId = (await store.findCredentials({ type: 'X509_CERTIFICATE', fingerprint }))[0]?.deviceId;
      if (!deviceId) throw new PlatformError('UNAUTHORIZED', 'unknown certificate');
    } else {
      const clientId = lookup.basic.clientId || undefined;
      const username = lookup.basic.username || undefined;
      if (clientId === undefined && username === undefined) throw new PlatformError('BAD_CREDENTIALS', 'no client id or user name');
      const found = await store.findCredentials({
        type: 'MQTT_BASIC',
        ...(clientId !== undefined ? { clientId } : {}),
        ...(username !== undefined ? { username } : {}),
      });
      deviceId = await matchBasicCredential(found, lookup.basic);
    }
    const device = await store.getDevice(deviceId);
    if (!device) throw new PlatformError('UNAUTHORIZED', 'device no longer exists');
    return this.identityFor(device);
  }

  /** Forgets cached identities of a device (after any change to it or its credentials). */
  invalidate(deviceId: string): void {
    this.childLocations.delete(deviceId);
    this.identities.invalidateDevice(deviceId);
    for (const listener of this.changeListeners) listener(deviceId);
  }

  /** Devices now in their profile (created, imported, moved): what the profile carries for its devices (OTA) reaches them. */
  joinedProfile(devices: readonly Device[]): void {
    if (devices.length > 0) for (const listener of this.joinListeners) listener(devices);
  }

  onProfileJoined(listener: (devices: readonly Device[]) => void): void {
    this.joinListeners.push(listener);
  }

  /** Called with the device id whenever a device or its credentials change (services drop what they cached of it). */
  onDeviceChanged(listener: (deviceId: string) => void): void {
    this.changeListeners.push(listener);
  }

  // ------------------------------------------------------------ provisioning and import

  /**
   * ThingsBoard device provisioning (see registry-provision.ts), behind the same brute-force
   * guard as authentication: a wrong provision key or secret counts against the client's address
   * and the provision key.
   */
  async provision(req: ProvisionRequest, client?: DeviceClient): Promise<ProvisionResponse> {
    const provisionKey = typeof req.provisionDeviceKey === 'string' ? req.provisionDeviceKey : '';
    const throttleKey = `p:${this.tokens.digest(provisionKey)}`;
    this.guard.check(client, throttleKey, 'provisioning');
    const response = await provisionDevice(this, this.deps.logger, req);
    if (response.status === 'NOT_FOUND') this.guard.failed(client, throttleKey, { what: 'provisioning', credential: clip(provisionKey) });
    else this.guard.succeeded(throttleKey);
    return response;
  }

  importCsv(tenantId: string, csvText: string, onProgress?: (done: number, total: number) => void): Promise<ImportResult> {
    return importDevicesCsv(this, tenantId, csvText, onProgress);
  }
}
