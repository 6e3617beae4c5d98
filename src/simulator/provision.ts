/**
 * Makes sure the devices a simulation plays exist on the platform and knows their access
 * tokens: devices `${prefix}-1…N` are looked up by name, the missing ones are created in bulk
 * through the CSV import (one request per 5,000 rows, with tokens we generate; the answer gives
 * their ids). The platform keeps only a hash of a token and never shows it again, so an existing
 * device is given a new token (PUT credentials): the simulator owns the devices it plays, and
 * whatever else used their old tokens stops working.
 */
import { randomBytes } from 'node:crypto';
import type { ApiClient } from '../protocols/management-api/client.js';

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

/** Gives an existing device a new access token (its old one cannot be read back) and returns it. */
async function rotateToken(api: Rest, id: string): Promise<string> {
  const token = newToken();
  await api.request<{ type: string }>('PUT', `/api/devices/${encodeURIComponent(id)}/credentials`, { json: { type: 'ACCESS_TOKEN', token } });
  return token;
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

interface Imported {
  readonly tokens: Map<string, string>;
  readonly ids: Map<string, string>;
}

async function importMissing(api: Rest, group: ProvisionGroup, names: readonly string[], withProfile: boolean): Promise<Imported> {
  const tokens = new Map<string, string>();
  const ids = new Map<string, string>();
  const header = ['name', 'accessToken', ...(withProfile ? ['profile'] : []), ...(group.label ? ['label'] : [])].join(',');
  for (let start = 0; start < names.length; start += IMPORT_CHUNK) {
    const rows = names.slice(start, start + IMPORT_CHUNK).map((name) => {
      const token = newToken();
      tokens.set(name, token);
      return [name, token, ...(withProfile ? [group.profile!] : []), ...(group.label ? [group.label] : [])].map(csvField).join(',');
    });
    const result = await api.request<{ devices: { name: string; id: string }[]; errors: { row: number; name?: string; message: string }[] }>('POST', '/api/devices/import', {
      text: `${header}\n${rows.join('\n')}\n`,
      contentType: 'text/csv',
    });
    if (result.errors.length > 0) {
      const first = result.errors[0]!;
      throw new Error(`device import: ${result.errors.length} rows refused, first: ${first.name ?? `row ${first.row}`}: ${first.message}`);
    }
    for (const d of result.devices) ids.set(d.name, d.id);
  }
  return { tokens, ids };
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
    const imported = await importMissing(api, group, missing, group.profile !== undefined && profiles.has(group.profile));
    created += missing.length;
    existing += present.length;
    const rotated = await mapLimited(present, LOOKUP_CONCURRENCY, (n) => rotateToken(api, have.get(n)!));
    const known = new Map(present.map((n, i) => [n, rotated[i]!]));
    names.forEach((name, index) => {
      const id = imported.ids.get(name) ?? have.get(name);
      if (id === undefined) throw new Error(`device ${name} was not created`);
      devices.push({ name, id, token: imported.tokens.get(name) ?? known.get(name)!, index, prefix: group.prefix });
    });
  }
  return { devices, created, existing };
}
