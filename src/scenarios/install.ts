/**
 * Installs a scenario pack into a running platform through its REST API: profiles, devices (with
 * access tokens the simulator can use), their attributes, rules and the dashboard. Idempotent:
 * what exists (by name) is kept, so installing twice, or after a restart, changes nothing and
 * returns the same devices and tokens.
 */
import { randomBytes } from 'node:crypto';
import type { JsonValue } from '../domain/telemetry.js';
import type { PackDeviceGroup, PackProfile, PackRule, ScenarioPack } from './types.js';

/** The slice of a REST client the installer needs; rejects on a non-2xx answer. */
export interface PackApi {
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
}

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

/** Device names of a group: prefix-1 … prefix-N. */
export function groupNames(group: PackDeviceGroup, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${group.prefix}-${i + 1}`);
}

/** `{n}` in string attribute values is the device's 1-based number (motion-2 → light-2). */
function perDevice(values: Readonly<Record<string, JsonValue>>, n: number): Record<string, JsonValue> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'string' ? v.replaceAll('{n}', String(n)) : v]));
}

async function ensureProfiles(api: PackApi, profiles: readonly PackProfile[]): Promise<Record<string, string>> {
  const existing = (await api.request<{ items: IdName[] }>('GET', '/api/profiles')).items;
  const ids: Record<string, string> = {};
  for (const p of profiles) {
    const found = existing.find((e) => e.name === p.name);
    if (found) {
      ids[p.name] = found.id;
      continue;
    }
    const body = { name: p.name, ...(p.codec ? { codec: p.codec } : {}), ...(p.telemetryKeys ? { telemetryKeys: p.telemetryKeys } : {}), ...(p.controls ? { controls: p.controls } : {}) };
    ids[p.name] = (await api.request<IdName>('POST', '/api/profiles', body)).id;
  }
  return ids;
}

/** Every device whose name starts with the prefix, by name. */
async function devicesByPrefix(api: PackApi, prefix: string): Promise<Map<string, string>> {
  const byName = new Map<string, string>();
  for (let offset = 0; ; offset += 1000) {
    const page = await api.request<{ items: IdName[]; total: number }>('GET', `/api/devices?search=${encodeURIComponent(prefix + '-')}&limit=1000&offset=${offset}`);
    for (const d of page.items) if (d.name.startsWith(prefix + '-')) byName.set(d.name, d.id);
    if (page.items.length < 1000) return byName;
  }
}

const csvCell = (s: string): string => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

async function ensureDevices(api: PackApi, pack: ScenarioPack, group: PackDeviceGroup, count: number, log: (l: string) => void): Promise<InstalledDevice[]> {
  const names = groupNames(group, count);
  let ids = await devicesByPrefix(api, group.prefix);
  const missing = names.filter((n) => !ids.has(n));
  const tokens = new Map<string, string>();
  if (missing.length > 0) {
    const rows = missing.map((name) => {
      const token = `${pack.name}-${name}-${randomBytes(6).toString('hex')}`;
      tokens.set(name, token);
      return [name, group.label ?? pack.title, group.profile, token].map(csvCell).join(',');
    });
    const result = await api.request<{ created: number; errors: { row: number; name?: string; message: string }[] }>('POST', '/api/devices/import', {
      csv: ['name,label,profile,accessToken', ...rows].join('\n'),
    });
    if (result.errors.length > 0) throw new Error(`creating ${group.prefix} devices: ${result.errors.slice(0, 3).map((e) => `${e.name ?? e.row}: ${e.message}`).join('; ')}`);
    log(`  ${group.prefix}: created ${result.created} device(s)`);
    ids = await devicesByPrefix(api, group.prefix);
  }
  const installed: InstalledDevice[] = [];
  for (const [index, name] of names.entries()) {
    const id = ids.get(name);
    if (!id) throw new Error(`device ${name} was not created`);
    let token = tokens.get(name);
    if (token === undefined) {
      const creds = await api.request<{ type: string; token?: string }[]>('GET', `/api/devices/${id}/credentials`);
      token = creds.find((c) => c.type === 'ACCESS_TOKEN')?.token;
      if (!token) throw new Error(`device ${name} has no access token`);
    }
    installed.push({ name, id, token, group, index });
  }
  return installed;
}

async function setAttributes(api: PackApi, devices: readonly InstalledDevice[]): Promise<void> {
  const work = devices.filter((d) => d.group.serverAttributes || d.group.sharedAttributes);
  const one = async (d: InstalledDevice): Promise<void> => {
    if (d.group.serverAttributes) await api.request('POST', `/api/devices/${d.id}/attributes/server`, perDevice(d.group.serverAttributes, d.index + 1));
    if (d.group.sharedAttributes) await api.request('POST', `/api/devices/${d.id}/attributes/shared`, perDevice(d.group.sharedAttributes, d.index + 1));
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

async function ensureRules(api: PackApi, pack: ScenarioPack, profiles: Record<string, string>, devices: readonly InstalledDevice[]): Promise<InstallResult['rules']> {
  const existing = (await api.request<{ items: IdName[] }>('GET', '/api/rules')).items;
  const out: { name: string; id: string; created: boolean }[] = [];
  for (const rule of pack.rules) {
    const found = existing.find((r) => r.name === rule.name);
    if (found) out.push({ name: rule.name, id: found.id, created: false });
    else out.push({ name: rule.name, id: (await api.request<IdName>('POST', '/api/rules', ruleBody(rule, profiles, devices))).id, created: true });
  }
  return out;
}

async function ensureDashboard(api: PackApi, pack: ScenarioPack, devices: readonly InstalledDevice[], log: (l: string) => void): Promise<string | undefined> {
  let existing: IdName[];
  try {
    existing = (await api.request<{ items: IdName[] }>('GET', '/api/dashboards')).items;
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
  return (await api.request<IdName>('POST', '/api/dashboards', body)).id;
}

export async function installPack(api: PackApi, pack: ScenarioPack, options: InstallOptions = {}): Promise<InstallResult> {
  const log = options.log ?? (() => undefined);
  log(`Installing scenario ${pack.name}`);
  const profiles = await ensureProfiles(api, pack.profiles);
  const devices: InstalledDevice[] = [];
  for (const group of pack.devices) devices.push(...(await ensureDevices(api, pack, group, options.devicesPerGroup ?? group.count, log)));
  await setAttributes(api, devices);
  const rules = await ensureRules(api, pack, profiles, devices);
  const dashboardId = await ensureDashboard(api, pack, devices, log);
  log(`  ${Object.keys(profiles).length} profile(s), ${devices.length} device(s), ${rules.length} rule(s)${dashboardId ? ', 1 dashboard' : ''}`);
  return { profiles, devices, rules, ...(dashboardId ? { dashboardId } : {}) };
}
