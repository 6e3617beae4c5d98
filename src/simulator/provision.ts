/**
 * Makes sure the devices a simulation plays exist on the platform and learns their access
 * tokens: devices `${prefix}-1…N` are looked up by name, the missing ones are created in bulk
 * through the CSV import (one request per 5,000 rows, with tokens we generate so that no second
 * round trip per device is needed), and the tokens of existing ones are read from their
 * credentials.
 */
import { randomBytes } from 'node:crypto';
import type { ApiClient } from '../apps/cli/client.js';

/** The management API calls provisioning needs (ApiClient from the CLI has this shape). */
export type Rest = Pick<ApiClient, 'request'>;

export interface ProvisionGroup {
  readonly prefix: string;
  readonly count: number;
  /** Profile name; used when the platform has a profile of that name. */
  readonly profile?: string;
  readonly label?: string;
}

export interface ProvisionedDevice {
  readonly name: string;
  readonly id: string;
  readonly token: string;
  /** 0-based position in its group. */
  readonly index: number;
  readonly prefix: string;
}

export interface ProvisionResult {
  readonly devices: ProvisionedDevice[];
  readonly created: number;
  readonly existing: number;
}

const IMPORT_CHUNK = 5000;
const PAGE = 1000;
const LOOKUP_CONCURRENCY = 16;

interface DeviceRow {
  id: string;
  name: string;
}

type Credential = { type: 'ACCESS_TOKEN'; token: string } | { type: string };

export function newToken(): string {
  return randomBytes(15).toString('base64url');
}

/** Devices whose name is `${prefix}-<n>`, by name. */
async function existingDevices(api: Rest, prefix: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+$`);
  for (let offset = 0; ; offset += PAGE) {
    const page = await api.request<{ items: DeviceRow[]; total: number }>('GET', '/api/devices', { query: { search: `${prefix}-`, limit: PAGE, offset } });
    for (const d of page.items) if (pattern.test(d.name)) found.set(d.name, d.id);
    if (page.items.length < PAGE) return found;
  }
}

async function profileNames(api: Rest): Promise<Set<string>> {
  try {
    const res = await api.request<{ items: { name: string }[] }>('GET', '/api/profiles');
    return new Set(res.items.map((p) => p.name));
  } catch {
    return new Set(); // a key without profile rights: devices get the default profile
  }
}

/** The access token of an existing device; sets a new one if it authenticates otherwise. */
async function tokenOf(api: Rest, id: string): Promise<string> {
  const creds = await api.request<Credential[]>('GET', `/api/devices/${encodeURIComponent(id)}/credentials`);
  const token = creds.find((c): c is { type: 'ACCESS_TOKEN'; token: string } => c.type === 'ACCESS_TOKEN');
  if (token) return token.token;
  const set = await api.request<{ type: string; token: string }>('PUT', `/api/devices/${encodeURIComponent(id)}/credentials`, { json: { type: 'ACCESS_TOKEN', token: newToken() } });
  return set.token;
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

async function importMissing(api: Rest, group: ProvisionGroup, names: readonly string[], withProfile: boolean): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  const header = ['name', 'accessToken', ...(withProfile ? ['profile'] : []), ...(group.label ? ['label'] : [])].join(',');
  for (let start = 0; start < names.length; start += IMPORT_CHUNK) {
    const rows = names.slice(start, start + IMPORT_CHUNK).map((name) => {
      const token = newToken();
      tokens.set(name, token);
      return [name, token, ...(withProfile ? [group.profile!] : []), ...(group.label ? [group.label] : [])].map(csvField).join(',');
    });
    const result = await api.request<{ created: number; errors: { row: number; name?: string; message: string }[] }>('POST', '/api/devices/import', {
      text: `${header}\n${rows.join('\n')}\n`,
      contentType: 'text/csv',
    });
    if (result.errors.length > 0) {
      const first = result.errors[0]!;
      throw new Error(`device import: ${result.errors.length} rows refused, first: ${first.name ?? `row ${first.row}`}: ${first.message}`);
    }
  }
  return tokens;
}

export async function provisionDevices(api: Rest, groups: readonly ProvisionGroup[]): Promise<ProvisionResult> {
  const profiles = await profileNames(api);
  const devices: ProvisionedDevice[] = [];
  let created = 0;
  let existing = 0;
  for (const group of groups) {
    const have = await existingDevices(api, group.prefix);
    const names = Array.from({ length: group.count }, (_, i) => `${group.prefix}-${i + 1}`);
    const missing = names.filter((n) => !have.has(n));
    const present = names.filter((n) => have.has(n));
    const newTokens = await importMissing(api, group, missing, group.profile !== undefined && profiles.has(group.profile));
    created += missing.length;
    // The import answers counts, not ids: read the new devices' ids back (one page per 1,000).
    const ids = missing.length > 0 ? await existingDevices(api, group.prefix) : have;
    existing += present.length;
    const oldTokens = await mapLimited(present, LOOKUP_CONCURRENCY, (n) => tokenOf(api, have.get(n)!));
    const known = new Map(present.map((n, i) => [n, oldTokens[i]!]));
    names.forEach((name, index) => {
      const id = ids.get(name);
      if (id === undefined) throw new Error(`device ${name} was not created`);
      devices.push({ name, id, token: newTokens.get(name) ?? known.get(name)!, index, prefix: group.prefix });
    });
  }
  return { devices, created, existing };
}
