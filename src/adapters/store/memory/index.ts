/**
 * The in-memory Store: plain Maps, nothing survives the process. Used by unit tests and
 * `--store memory`. It gives the same answers and the same errors as the SQLite store (the shared
 * contract suite in test/adapters/store runs against both): every write checks everything before
 * it changes anything, so a failed call leaves no trace, as a rolled-back transaction would.
 */
import type {
  AttributeEntry,
  AttributeScope,
  CredentialType,
  Device,
  DeviceCredential,
  DeviceProfile,
  DeviceStatus,
  Tenant,
} from '../../../domain/device.js';
import { PlatformError } from '../../../domain/errors.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import type { CredentialLookup, DeviceQuery, Page, Store, TenantRecord } from '../../../ports.js';
import {
  attributeJson,
  checkInt,
  checkScope,
  clampLimit,
  compareBinary,
  credentialFields,
  credentialKey,
  fold,
  guardClosed,
  makeCredential,
  makeDevice,
  makeProfile,
  makeStatus,
  mergeStatus,
  profileKeysJson,
  tenantNotFound,
} from '../shared.js';
import { createMemoryAlarms } from './alarms.js';
import { createMemoryCommands } from './commands.js';
import { createMemoryAudit } from './audit.js';
import { createMemoryCustomers } from './customers.js';
import { createMemoryDashboards } from './dashboards.js';
import { createMemoryIds } from './ids.js';
import { createMemoryOta } from './ota.js';
import { createMemoryOtaKeys } from './ota-keys.js';
import { createMemoryOtaDeployments } from './ota-deployments.js';
import { createMemoryIntegrations } from './integrations.js';
import { createMemoryMqttGrants } from './mqtt-grants.js';
import { createMemoryQuotas } from './quotas.js';
import { createMemoryZones } from './zones.js';
import { createMemoryTrips } from './trips.js';
import { createMemoryRules } from './rules.js';
import { createMemoryTelemetry } from './telemetry.js';
import { createMemorySignin } from './signin.js';
import { createMemoryUsers } from './users.js';
import { createMemoryTenancy } from './tenancy.js';

const copyDevice = (d: Device): Device => makeDevice(d);
const copyProfile = (p: DeviceProfile): DeviceProfile => ({
  ...makeProfile({ ...p, telemetryKeysJson: profileKeysJson(p) }),
  ...(p.controls ? { controls: JSON.parse(JSON.stringify(p.controls)) as DeviceProfile['controls'] } : {}),
  ...(p.decoder !== undefined ? { decoder: p.decoder } : {}),
  ...(p.retentionDays !== undefined ? { retentionDays: p.retentionDays } : {}),
});
const copyCredential = (c: DeviceCredential): DeviceCredential => makeCredential({ ...c, ...credentialFields(c) });

export function createMemoryStore(): Store {
  let closed = false;
  const tenants = new Map<string, TenantRecord>();
  const profiles = new Map<string, DeviceProfile>();
  const devices = new Map<string, Device>();
  /** tenantId → name → device id. */
  const deviceNames = new Map<string, Map<string, string>>();
  const credentials = new Map<string, Map<CredentialType, DeviceCredential>>();
  /** credentialKey → device id. */
  const credentialOwners = new Map<string, string>();
  const attributes = new Map<string, Map<AttributeScope, Map<string, { json: string; ts: number }>>>();
  const statuses = new Map<string, DeviceStatus>();
  const users = createMemoryUsers((id) => tenants.has(id), tenantNotFound);
  const { forgetUser, ...signin } = createMemorySignin(async (id) => (await users.getUser(id)) !== undefined);
  const telemetry = createMemoryTelemetry();
  const { deleteDevice: deleteAlarms, ...alarms } = createMemoryAlarms();
  const { deleteDevice: deleteCommands, ...commands } = createMemoryCommands();
  const { deleteDevice: deleteRuleStates, ...rules } = createMemoryRules((id) => tenants.has(id), tenantNotFound);
  const dashboards = createMemoryDashboards((id) => tenants.has(id), tenantNotFound);
  const audit = createMemoryAudit();
  const { deleteDevice: deleteGroupMember, ...customers } = createMemoryCustomers({
    tenantExists: (id) => tenants.has(id),
    tenantNotFound,
    devices,
    setDashboardCustomer: dashboards.setDashboardCustomer,
    dashboardIdsOf: async (customerId) => (await listAllDashboards()).filter((d) => d.customerId === customerId).map((d) => d.id),
  });
  const listAllDashboards = async (): Promise<{ id: string; customerId?: string }[]> =>
    (await Promise.all([...tenants.keys()].map((t) => dashboards.listDashboards(t)))).flat();
  const { deleteDevice: deleteOta, ...ota } = createMemoryOta({
    tenantExists: (id) => tenants.has(id),
    tenantNotFound,
    deviceExists: (id) => devices.has(id),
    profileExists: (id) => profiles.has(id),
  });

  function ownerOfName(tenantId: string, name: string): string | undefined {
    return deviceNames.get(tenantId)?.get(name);
  }

  function setName(tenantId: string, name: string, id: string | undefined): void {
    let names = deviceNames.get(tenantId);
    if (!names) deviceNames.set(tenantId, (names = new Map()));
    if (id === undefined) names.delete(name);
    else names.set(name, id);
  }

  /** Profile and gateway must exist (the SQLite foreign keys). */
  function checkReferences(device: Device): void {
    if (!profiles.has(device.profileId)) throw new PlatformError('PROFILE_NOT_FOUND', device.profileId);
    if (device.gatewayId !== undefined && !devices.has(device.gatewayId)) {
      throw new PlatformError('DEVICE_NOT_FOUND', `gateway ${device.gatewayId}`);
    }
  }

  /** Checks a new device and its credentials; returns the credential keys to claim. */
  function checkInsert(device: Device, creds: readonly DeviceCredential[]): string[] {
    makeDevice(device);
    if (!tenants.has(device.tenantId)) throw tenantNotFound(device.tenantId);
    checkReferences(device);
    if (devices.has(device.id)) throw new PlatformError('CONFLICT', `device ${device.id}`);
    if (ownerOfName(device.tenantId, device.name) !== undefined) throw new PlatformError('DEVICE_NAME_TAKEN', device.name);
    const types = new Set<CredentialType>();
    const keys: string[] = [];
    for (const c of creds) {
      const key = credentialKey(c);
      if (types.has(c.type)) throw new PlatformError('CONFLICT', `two ${c.type} credentials`);
      if (credentialOwners.has(key) || keys.includes(key)) throw new PlatformError('CONFLICT', `${c.type} credential already in use`);
      types.add(c.type);
      keys.push(key);
    }
    return keys;
  }

  function doInsert(device: Device, creds: readonly DeviceCredential[], keys: readonly string[]): void {
    devices.set(device.id, copyDevice(device));
    setName(device.tenantId, device.name, device.id);
    const own = new Map<CredentialType, DeviceCredential>();
    creds.forEach((c, i) => {
      own.set(c.type, copyCredential({ ...c, deviceId: device.id }));
      credentialOwners.set(keys[i] as string, device.id);
    });
    credentials.set(device.id, own);
  }

  const store: Store = {
    kind: 'memory',

    // ------------------------------------------------------------ registry
    async ensureTenant(tenant: Tenant): Promise<void> {
      if (!tenants.has(tenant.id)) tenants.set(tenant.id, { id: tenant.id, name: tenant.name, status: 'active', createdAt: Date.now() });
    },

    async saveProfile(profile: DeviceProfile): Promise<void> {
      if (!tenants.has(profile.tenantId)) throw tenantNotFound(profile.tenantId);
      for (const other of profiles.values()) {
        if (other.id === profile.id) continue;
        if (other.tenantId === profile.tenantId && other.name === profile.name) throw new PlatformError('CONFLICT', `profile "${profile.name}"`);
        if (profile.provisionKey !== undefined && other.provisionKey === profile.provisionKey) {
          throw new PlatformError('CONFLICT', 'provision key already used by another profile');
        }
      }
      profiles.set(profile.id, copyProfile(profile));
    },

    async getProfile(id: string): Promise<DeviceProfile | undefined> {
      const p = profiles.get(id);
      return p && copyProfile(p);
    },

    async findProfile(by: { tenantId: string; name: string } | { provisionKey: string }): Promise<DeviceProfile | undefined> {
      for (const p of profiles.values()) {
        const hit = 'provisionKey' in by ? p.provisionKey === by.provisionKey : p.tenantId === by.tenantId && p.name === by.name;
        if (hit) return copyProfile(p);
      }
      return undefined;
    },

    async listProfiles(tenantId: string): Promise<DeviceProfile[]> {
      return [...profiles.values()]
        .filter((p) => p.tenantId === tenantId)
        .sort((a, b) => compareBinary(a.name, b.name))
        .map(copyProfile);
    },

    async deleteProfile(id: string): Promise<boolean> {
      return profiles.delete(id);
    },

    async insertDevice(device: Device, creds: readonly DeviceCredential[]): Promise<void> {
      doInsert(device, creds, checkInsert(device, creds));
    },

    async insertDevices(rows: readonly { device: Device; credentials: readonly DeviceCredential[] }[]): Promise<Map<number, Error>> {
      const errors = new Map<number, Error>();
      rows.forEach((row, i) => {
        try {
          doInsert(row.device, row.credentials, checkInsert(row.device, row.credentials));
        } catch (err) {
          errors.set(i, err instanceof Error ? err : new Error(String(err)));
        }
      });
      return errors;
    },

    async updateDevice(device: Device): Promise<void> {
      const old = devices.get(device.id);
      if (!old) throw new PlatformError('DEVICE_NOT_FOUND', device.id);
      checkReferences(device);
      const owner = ownerOfName(old.tenantId, device.name);
      if (owner !== undefined && owner !== device.id) throw new PlatformError('DEVICE_NAME_TAKEN', device.name);
      // Tenant and creation time never change; the customer only through setDeviceCustomer (as in SQLite).
      const { customerId: _ignored, ...given } = device;
      const updated = makeDevice({ ...given, tenantId: old.tenantId, createdAt: old.createdAt, customerId: old.customerId ?? null });
      setName(old.tenantId, old.name, undefined);
      setName(old.tenantId, updated.name, device.id);
      devices.set(device.id, updated);
    },

    async deleteDevice(id: string): Promise<boolean> {
      const device = devices.get(id);
      if (device) {
        devices.delete(id);
        setName(device.tenantId, device.name, undefined);
        // Children of a deleted gateway stay, unlinked (ON DELETE SET NULL).
        for (const child of devices.values()) {
          if (child.gatewayId === id) devices.set(child.id, makeDevice({ ...child, gatewayId: null }));
        }
      }
      for (const c of credentials.get(id)?.values() ?? []) credentialOwners.delete(credentialKey(c));
      credentials.delete(id);
      attributes.delete(id);
      statuses.delete(id);
      telemetry.deleteDevice(id);
      deleteAlarms(id);
      deleteCommands(id);
      deleteRuleStates(id);
      deleteOta(id);
      deleteGroupMember(id);
      return device !== undefined;
    },

    async getDevice(id: string): Promise<Device | undefined> {
      const d = devices.get(id);
      return d && copyDevice(d);
    },

    async findDeviceByName(tenantId: string, name: string): Promise<Device | undefined> {
      const id = ownerOfName(tenantId, name);
      const d = id === undefined ? undefined : devices.get(id);
      return d && copyDevice(d);
    },

    async listDevices(q: DeviceQuery): Promise<Page<Device>> {
      const search = q.search ? fold(q.search) : undefined;
      const matches = [...devices.values()]
        .filter(
          (d) =>
            d.tenantId === q.tenantId &&
            (q.gatewayId === undefined || d.gatewayId === q.gatewayId) &&
            (q.profileId === undefined || d.profileId === q.profileId) &&
            (q.customerIds === undefined || (d.customerId !== undefined && q.customerIds.includes(d.customerId))) &&
            (q.ids === undefined || q.ids.includes(d.id)) &&
            (search === undefined || fold(d.name).includes(search) || (d.label !== undefined && fold(d.label).includes(search))),
        )
        .sort((a, b) => compareBinary(a.name, b.name));
      const offset = clampLimit(q.offset);
      return { items: matches.slice(offset, offset + clampLimit(q.limit)).map(copyDevice), total: matches.length };
    },

    // ------------------------------------------------------------ credentials
    async findCredentials(lookup: CredentialLookup): Promise<DeviceCredential[]> {
      if (lookup.type !== 'MQTT_BASIC') {
        const key = lookup.type === 'ACCESS_TOKEN' ? `token:${lookup.tokenHash}` : `x509:${lookup.fingerprint}`;
        const owner = credentialOwners.get(key);
        const c = owner === undefined ? undefined : credentials.get(owner)?.get(lookup.type);
        return c ? [copyCredential(c)] : [];
      }
      const found: DeviceCredential[] = [];
      for (const own of credentials.values()) {
        const c = own.get('MQTT_BASIC');
        if (c?.type !== 'MQTT_BASIC') continue;
        const byClient = lookup.clientId !== undefined && c.clientId === lookup.clientId;
        const byUser = lookup.username !== undefined && c.username === lookup.username;
        if (byClient || byUser) found.push(copyCredential(c));
      }
      return found.sort((a, b) => compareBinary(a.deviceId, b.deviceId));
    },

    async getCredentials(deviceId: string): Promise<DeviceCredential[]> {
      return [...(credentials.get(deviceId)?.values() ?? [])].sort((a, b) => compareBinary(a.type, b.type)).map(copyCredential);
    },

    async setCredential(credential: DeviceCredential): Promise<void> {
      const own = credentials.get(credential.deviceId);
      if (!devices.has(credential.deviceId) || !own) throw new PlatformError('DEVICE_NOT_FOUND', credential.deviceId);
      const key = credentialKey(credential);
      const owner = credentialOwners.get(key);
      if (owner !== undefined && owner !== credential.deviceId) throw new PlatformError('CONFLICT', `${credential.type} credential already in use`);
      const old = own.get(credential.type);
      if (old) credentialOwners.delete(credentialKey(old));
      own.set(credential.type, copyCredential(credential));
      credentialOwners.set(key, credential.deviceId);
    },

    // ------------------------------------------------------------ telemetry
    appendTelemetry: telemetry.appendTelemetry,
    queryRaw: telemetry.queryRaw,
    queryAggregated: telemetry.queryAggregated,
    latest: telemetry.latest,
    telemetryKeys: telemetry.telemetryKeys,
    pruneTelemetry: telemetry.pruneTelemetry,
    takeOutbox: telemetry.takeOutbox,
    ackOutbox: telemetry.ackOutbox,

    // ------------------------------------------------------------ attributes and status
    async setAttributes(deviceId: string, scope: AttributeScope, values: Record<string, JsonValue>, ts: number): Promise<void> {
      checkScope(scope);
      checkInt(ts, 'lastUpdateTs');
      const entries = Object.entries(values).map(([key, value]) => [key, attributeJson(key, value)] as const);
      let scopes = attributes.get(deviceId);
      if (!scopes) attributes.set(deviceId, (scopes = new Map()));
      let stored = scopes.get(scope);
      if (!stored) scopes.set(scope, (stored = new Map()));
      for (const [key, json] of entries) stored.set(key, { json, ts });
    },

    async getAttributes(deviceId: string, scope: AttributeScope, keys?: readonly string[]): Promise<AttributeEntry[]> {
      checkScope(scope);
      const stored = attributes.get(deviceId)?.get(scope);
      if (!stored) return [];
      const wanted = keys === undefined ? [...stored.keys()] : [...new Set(keys)];
      return wanted
        .flatMap((key) => {
          const e = stored.get(key);
          return e ? [{ key, value: JSON.parse(e.json) as JsonValue, lastUpdateTs: e.ts }] : [];
        })
        .sort((a, b) => compareBinary(a.key, b.key));
    },

    async deleteAttributes(deviceId: string, scope: AttributeScope, keys: readonly string[]): Promise<void> {
      checkScope(scope);
      const stored = attributes.get(deviceId)?.get(scope);
      for (const key of keys) stored?.delete(key);
    },

    async saveStatuses(list: readonly DeviceStatus[]): Promise<void> {
      const copies = list.map((s) => makeStatus(s));
      for (const s of copies) statuses.set(s.deviceId, mergeStatus(statuses.get(s.deviceId), s));
    },

    async getStatuses(deviceIds: readonly string[]): Promise<DeviceStatus[]> {
      return deviceIds.flatMap((id) => {
        const s = statuses.get(id);
        return s ? [makeStatus(s)] : [];
      });
    },

    // ------------------------------------------------------------ alarms and commands (memory/alarms.ts, memory/commands.ts)
    ...alarms,
    ...commands,
    ...createMemoryIds(),
    // rules and rule state (memory/rules.ts)
    ...rules,
    // dashboards (memory/dashboards.ts)
    ...dashboards,
    // OTA packages and assignments (memory/ota.ts)
    ...ota,
    // OTA signing keys and policy (memory/ota-keys.ts)
    ...createMemoryOtaKeys((id) => tenants.has(id), tenantNotFound),
    ...createMemoryTenancy(tenants),
    // OTA deployments and their devices (memory/ota-deployments.ts)
    ...createMemoryOtaDeployments({ tenantExists: (id) => tenants.has(id), tenantNotFound }),
    ...createMemoryIntegrations(),
    // device-to-device MQTT grants (memory/mqtt-grants.ts)
    ...createMemoryMqttGrants(),
    ...createMemoryQuotas((id) => tenants.has(id), tenantNotFound),
    ...createMemoryZones(),
    ...createMemoryTrips(),
    // audit log (memory/audit.ts)
    ...audit,

    // users, API keys and settings (memory/users.ts)
    ...users,
    ...signin,
    async deleteUser(id: string): Promise<boolean> {
      forgetUser(id);
      return users.deleteUser(id);
    },
    // customers and device groups (memory/customers.ts)
    ...customers,

    async close(): Promise<void> {
      closed = true;
    },
  };
  return guardClosed(store, () => closed);
}
