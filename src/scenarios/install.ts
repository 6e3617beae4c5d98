/**
 * Installs a scenario pack into a running platform through its REST API: profiles, devices (with
 * access tokens the simulator can use), their attributes, rules and the dashboard. Idempotent:
 * what exists (by name) is kept, so installing twice, or after a restart, creates nothing and
 * returns the same devices. Their tokens are new each time: the platform stores only a hash of a
 * token, so an existing device is given a fresh one (simulator/provision.ts).
 */
import type { JsonValue } from '../domain/telemetry.js';
import { newToken, provisionDevices, type Rest } from '../simulator/provision.js';
import type { PackDeviceGroup, PackProfile, PackRule, PackTwin, ScenarioPack } from './types.js';

/** The slice of a REST client the installer needs (the CLI's ApiClient); rejects on a non-2xx answer. */
export type PackApi = Rest;

const send = <T>(api: PackApi, method: string, path: string, body?: unknown): Promise<T> => api.request<T>(method, path, body === undefined ? {} : { json: body });

export interface InstallOptions {
  /** Devices per group instead of each group's own count (the simulator's --devices N). */
  readonly devicesPerGroup?: number;
  /** Progress lines for the operator. */
  readonly log?: (line: string) => void;
}

export interface InstalledDevice {
  readonly name: string;
  readonly id: string;
  readonly token: string;
  readonly group: PackDeviceGroup;
  /** 0-based position in its group. */
  readonly index: number;
}

export interface InstallResult {
  readonly profiles: Readonly<Record<string, string>>;
  readonly devices: readonly InstalledDevice[];
  readonly rules: readonly { name: string; id: string; created: boolean }[];
  /** Absent when the platform has no dashboards API. */
  readonly dashboardId?: string;
}

interface IdName {
  id: string;
  name: string;
}

/** `{n}` in string attribute values is the device's 1-based number (motion-2 → light-2). */
function perDevice(values: Readonly<Record<string, JsonValue>>, n: number): Record<string, JsonValue> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'string' ? v.replaceAll('{n}', String(n)) : v]));
}

async function ensureProfiles(api: PackApi, profiles: readonly PackProfile[]): Promise<Record<string, string>> {
  const existing = (await send<{ items: IdName[] }>(api, 'GET', '/api/profiles')).items;
  const ids: Record<string, string> = {};
  for (const p of profiles) {
    const found = existing.find((e) => e.name === p.name);
    if (found) {
      ids[p.name] = found.id;
      continue;
    }
    const body = { name: p.name, ...(p.codec ? { codec: p.codec } : {}), ...(p.telemetryKeys ? { telemetryKeys: p.telemetryKeys } : {}), ...(p.controls ? { controls: p.controls } : {}) };
    ids[p.name] = (await send<IdName>(api, 'POST', '/api/profiles', body)).id;
  }
  return ids;
}

async function ensureDevices(api: PackApi, pack: ScenarioPack, group: PackDeviceGroup, count: number, log: (l: string) => void): Promise<InstalledDevice[]> {
  const result = await provisionDevices(api, [{ prefix: group.prefix, count, profile: group.profile, label: group.label ?? pack.title }]);
  if (result.created > 0) log(`  ${group.prefix}: created ${result.created} device(s)`);
  return result.devices.map((d) => ({ name: d.name, id: d.id, token: d.token, group, index: d.index }));
}

async function setAttributes(api: PackApi, devices: readonly InstalledDevice[]): Promise<void> {
  const work = devices.filter((d) => d.group.serverAttributes || d.group.sharedAttributes);
  const one = async (d: InstalledDevice): Promise<void> => {
    if (d.group.serverAttributes) await send(api, 'POST', `/api/devices/${d.id}/attributes/server`, perDevice(d.group.serverAttributes, d.index + 1));
    if (d.group.sharedAttributes) await send(api, 'POST', `/api/devices/${d.id}/attributes/shared`, perDevice(d.group.sharedAttributes, d.index + 1));
  };
  // A few at a time: thousands of devices should not open thousands of sockets.
  for (let i = 0; i < work.length; i += 16) await Promise.all(work.slice(i, i + 16).map(one));
}

function ruleBody(rule: PackRule, profiles: Record<string, string>, devices: readonly InstalledDevice[]): Record<string, unknown> {
  const { profile, device, ...rest } = rule;
  const body: Record<string, unknown> = { ...rest };
  if (profile !== undefined) {
    const id = profiles[profile];
    if (!id) throw new Error(`rule "${rule.name}": no profile ${profile} in the pack`);
    body.profileId = id;
  }
  if (device !== undefined) {
    const d = devices.find((x) => x.name === device);
    if (!d) throw new Error(`rule "${rule.name}": no device ${device} in the pack`);
    body.deviceId = d.id;
  }
  return body;
}

async function ensureRules(api: PackApi, rules: readonly PackRule[], profiles: Record<string, string>, devices: readonly InstalledDevice[]): Promise<InstallResult['rules']> {
  const existing = (await send<{ items: IdName[] }>(api, 'GET', '/api/rules')).items;
  const out: { name: string; id: string; created: boolean }[] = [];
  for (const rule of rules) {
    const found = existing.find((r) => r.name === rule.name);
    if (found) out.push({ name: rule.name, id: found.id, created: false });
    else out.push({ name: rule.name, id: (await send<IdName>(api, 'POST', '/api/rules', ruleBody(rule, profiles, devices))).id, created: true });
  }
  return out;
}

async function ensureDashboard(api: PackApi, pack: ScenarioPack, devices: readonly InstalledDevice[], log: (l: string) => void): Promise<string | undefined> {
  let existing: IdName[];
  try {
    existing = (await send<{ items: IdName[] }>(api, 'GET', '/api/dashboards')).items;
  } catch (err) {
    log(`  dashboard skipped: ${(err as Error).message}`);
    return undefined;
  }
  const found = existing.find((d) => d.name === pack.dashboard.name);
  if (found) return found.id;
  // A widget bound to a device this install did not create (fewer devices than the pack's default) is left out.
  const widgets = pack.dashboard.widgets.flatMap((w, i) => {
    const { device, ...rest } = w;
    if (device === undefined) return [{ id: `w${i + 1}`, ...rest }];
    const deviceId = devices.find((d) => d.name === device)?.id;
    return deviceId ? [{ id: `w${i + 1}`, ...rest, deviceId }] : [];
  });
  const body = { name: pack.dashboard.name, ...(pack.dashboard.description ? { description: pack.dashboard.description } : {}), widgets };
  return (await send<IdName>(api, 'POST', '/api/dashboards', body)).id;
}

export async function installPack(api: PackApi, pack: ScenarioPack, options: InstallOptions = {}): Promise<InstallResult> {
  const log = options.log ?? (() => undefined);
  log(`Installing scenario ${pack.name}`);
  const profiles = await ensureProfiles(api, pack.profiles);
  const devices: InstalledDevice[] = [];
  for (const group of pack.devices) devices.push(...(await ensureDevices(api, pack, group, options.devicesPerGroup ?? group.count, log)));
  await setAttributes(api, devices);
  const rules = await ensureRules(api, pack.rules, profiles, devices);
  const dashboardId = await ensureDashboard(api, pack, devices, log);
  log(`  ${Object.keys(profiles).length} profile(s), ${devices.length} device(s), ${rules.length} rule(s)${dashboardId ? ', 1 dashboard' : ''}`);
  return { profiles, devices, rules, ...(dashboardId ? { dashboardId } : {}) };
}

export interface TwinInstallResult {
  readonly profiles: Readonly<Record<string, string>>;
  readonly rules: InstallResult['rules'];
  /** The edge's gateway device and a fresh access token for it. */
  readonly gateway: { readonly id: string; readonly name: string; readonly token: string };
}

/**
 * A gateway device for the twin's edge, created or (found by name) given a new token: the demo
 * owns it, as the simulator owns the devices it plays.
 */
async function ensureGateway(api: PackApi, name: string): Promise<TwinInstallResult['gateway']> {
  const found = (await send<{ items: IdName[] }>(api, 'GET', `/api/devices?search=${encodeURIComponent(name)}`)).items.find((d) => d.name === name);
  const token = newToken();
  if (found) {
    await send(api, 'PUT', `/api/devices/${encodeURIComponent(found.id)}/credentials`, { type: 'ACCESS_TOKEN', token });
    return { id: found.id, name, token };
  }
  const created = await send<IdName>(api, 'POST', '/api/devices', { name, gateway: true, label: 'M2M twin edge gateway', accessToken: token });
  return { id: created.id, name, token };
}

/**
 * The edge's child devices, created attached to the gateway with their profiles (the gateway
 * would create them on first sight, but without a profile, and the twin's rules bind by profile).
 */
async function ensureChildren(api: PackApi, twin: PackTwin, gatewayId: string, profiles: Record<string, string>): Promise<void> {
  for (const c of twin.children) {
    const profileId = profiles[c.profile];
    if (!profileId) throw new Error(`twin child ${c.name}: no profile ${c.profile} in the twin`);
    const found = (await send<{ items: IdName[] }>(api, 'GET', `/api/devices?search=${encodeURIComponent(c.name)}`)).items.find((d) => d.name === c.name);
    const id = found?.id ?? (await send<IdName>(api, 'POST', '/api/devices', { name: c.name, profileId, label: 'M2M twin field device' })).id;
    // Also for a device the gateway created before (it has no profile then).
    await send(api, 'PATCH', `/api/devices/${encodeURIComponent(id)}`, { profileId, gatewayId });
  }
}

/** Installs a pack's M2M twin: its child profiles and rules (idempotent, by name) and the edge's gateway device. */
export async function installTwin(api: PackApi, pack: ScenarioPack & { twin: PackTwin }, options: { log?: (line: string) => void } = {}): Promise<TwinInstallResult> {
  const log = options.log ?? (() => undefined);
  log(`Installing the M2M twin of ${pack.name}`);
  const profiles = await ensureProfiles(api, pack.twin.profiles);
  const rules = await ensureRules(api, pack.twin.rules, profiles, []);
  const gateway = await ensureGateway(api, `${pack.name}-edge`);
  await ensureChildren(api, pack.twin, gateway.id, profiles);
  log(`  ${Object.keys(profiles).length} profile(s), ${rules.length} rule(s), gateway ${gateway.name}`);
  return { profiles, rules, gateway };
}
