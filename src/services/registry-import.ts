/**
 * Bulk device import from CSV. A header row names the columns; every data row becomes a device
 * or one entry in the error report, keyed by the line the row starts on (header = line 1).
 * Rows are validated, then inserted with store.insertDevices in chunks of 1,000.
 */
import { parse } from 'csv-parse/sync';
import type { DeviceProfile } from '../domain/device.js';
import { PlatformError, isPlatformError } from '../domain/errors.js';
import type { CreateDeviceInput, CreatedDevice, ImportingRegistry } from './registry-types.js';

export interface ImportError {
  readonly row: number;
  readonly name?: string;
  readonly message: string;
}

/** A device the import created; `accessToken` only when the platform generated it (shown this once). */
export interface ImportedDevice {
  readonly row: number;
  readonly name: string;
  readonly id: string;
  readonly accessToken?: string;
}

export interface ImportResult {
  readonly created: number;
  readonly devices: ImportedDevice[];
  readonly errors: ImportError[];
}

export const IMPORT_CHUNK_ROWS = 1000;
/** Rows reported at most; a file with a systematic error should not produce a megabyte report. */
export const MAX_REPORTED_ERRORS = 10_000;

type Column = 'name' | 'label' | 'profile' | 'gateway' | 'accessToken' | 'clientId' | 'username' | 'password' | 'certificateFingerprint';

const HEADER_ALIASES: Record<string, Column> = {
  name: 'name',
  label: 'label',
  profile: 'profile',
  type: 'gateway',
  gateway: 'gateway',
  isgateway: 'gateway',
  accesstoken: 'accessToken',
  token: 'accessToken',
  clientid: 'clientId',
  username: 'username',
  password: 'password',
  certificatefingerprint: 'certificateFingerprint',
  fingerprint: 'certificateFingerprint',
};

const TRUE_VALUES = new Set(['true', '1', 'yes', 'gateway']);
const FALSE_VALUES = new Set(['', 'false', '0', 'no', 'device']);

interface ParsedRecord {
  readonly record: string[];
  readonly info: { readonly lines: number };
}

interface Row {
  readonly line: number;
  readonly name?: string;
  readonly input: CreateDeviceInput;
  readonly profileName?: string;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The line a record starts on: csv-parse reports the line it ends on. */
function startLine(rec: ParsedRecord): number {
  let embedded = 0;
  for (const field of rec.record) for (let i = field.indexOf('\n'); i !== -1; i = field.indexOf('\n', i + 1)) embedded++;
  return rec.info.lines - embedded;
}

function parseCsv(csvText: string, errors: ImportError[]): ParsedRecord[] {
  try {
    return parse(csvText, {
      bom: true,
      trim: true,
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
      skip_records_with_error: true,
      on_skip: (err) => {
        errors.push({ row: typeof err?.lines === 'number' ? err.lines : 0, message: `malformed CSV: ${err?.message ?? 'unreadable row'}` });
        return undefined;
      },
    }) as unknown as ParsedRecord[];
  } catch (err) {
    throw new PlatformError('BAD_REQUEST', `malformed CSV: ${message(err)}`);
  }
}

function readHeader(header: readonly string[]): Column[] {
  const columns = header.map((h) => HEADER_ALIASES[h.toLowerCase().replace(/[\s_-]/g, '')]);
  const unknown = header.filter((_, i) => columns[i] === undefined);
  if (unknown.length > 0) {
    throw new PlatformError('BAD_REQUEST', `unknown CSV column(s): ${unknown.join(', ')} (known: ${Object.keys(HEADER_ALIASES).join(', ')})`);
  }
  const known = columns as Column[];
  if (!known.includes('name')) throw new PlatformError('BAD_REQUEST', 'CSV header has no "name" column');
  const twice = known.find((c, i) => known.indexOf(c) !== i);
  if (twice) throw new PlatformError('BAD_REQUEST', `CSV column "${twice}" given twice`);
  return known;
}

function toRow(tenantId: string, columns: readonly Column[], rec: ParsedRecord, line: number): Row {
  if (rec.record.length !== columns.length) {
    throw new PlatformError('BAD_REQUEST', `expected ${columns.length} columns, got ${rec.record.length}`);
  }
  const v: Partial<Record<Column, string>> = {};
  columns.forEach((c, i) => {
    const value = rec.record[i];
    if (value !== undefined && value !== '') v[c] = value;
  });
  const gatewayText = (v.gateway ?? '').toLowerCase();
  if (!TRUE_VALUES.has(gatewayText) && !FALSE_VALUES.has(gatewayText)) {
    throw new PlatformError('BAD_REQUEST', `type/gateway must be true/false (or gateway/device), got "${v.gateway ?? ''}"`);
  }
  if (v.password !== undefined && v.clientId === undefined && v.username === undefined) {
    throw new PlatformError('BAD_REQUEST', 'password needs a clientId or username');
  }
  const basic = v.clientId !== undefined || v.username !== undefined ? { clientId: v.clientId, username: v.username, password: v.password } : undefined;
  const input: CreateDeviceInput = {
    tenantId,
    name: v.name ?? '',
    ...(v.label !== undefined ? { label: v.label } : {}),
    isGateway: TRUE_VALUES.has(gatewayText),
    ...(v.accessToken !== undefined ? { accessToken: v.accessToken } : {}),
    ...(basic ? { basic } : {}),
    ...(v.certificateFingerprint !== undefined ? { certificateFingerprint: v.certificateFingerprint } : {}),
  };
  return { line, ...(v.name !== undefined ? { name: v.name } : {}), input, ...(v.profile !== undefined ? { profileName: v.profile } : {}) };
}

export async function importDevicesCsv(
  registry: ImportingRegistry,
  tenantId: string,
  csvText: string,
  onProgress?: (done: number, total: number) => void,
): Promise<ImportResult> {
  const errors: ImportError[] = [];
  const records = parseCsv(csvText, errors);
  const headerRecord = records[0];
  if (!headerRecord) throw new PlatformError('BAD_REQUEST', 'CSV is empty: a header row is required');
  const columns = readHeader(headerRecord.record);

  // Validate every row first (cheap, synchronous): names, duplicates within the file, columns.
  const rows: Row[] = [];
  const firstLineOfName = new Map<string, number>();
  for (const rec of records.slice(1)) {
    const line = startLine(rec);
    let row: Row;
    try {
      row = toRow(tenantId, columns, rec, line);
    } catch (err) {
      const name = rec.record[columns.indexOf('name')];
      errors.push({ row: line, ...(name ? { name } : {}), message: message(err) });
      continue;
    }
    const seen = row.name !== undefined ? firstLineOfName.get(row.name) : undefined;
    if (seen !== undefined) {
      errors.push({ row: line, ...(row.name !== undefined ? { name: row.name } : {}), message: `duplicate name in file (first on line ${seen})` });
      continue;
    }
    if (row.name !== undefined) firstLineOfName.set(row.name, line);
    rows.push(row);
  }

  const total = records.length - 1;
  const profiles = new Map<string, Promise<DeviceProfile | undefined>>();
  const profileFor = (name: string | undefined): Promise<DeviceProfile | undefined> => {
    if (name === undefined) return registry.defaultProfile(tenantId);
    let found = profiles.get(name);
    if (!found) profiles.set(name, (found = registry.findProfileByName(tenantId, name)));
    return found;
  };

  const devices: ImportedDevice[] = [];
  let done = total - rows.length;
  onProgress?.(done, total);
  for (let start = 0; start < rows.length; start += IMPORT_CHUNK_ROWS) {
    const chunk = rows.slice(start, start + IMPORT_CHUNK_ROWS);
    // Prepared in parallel: password hashing (scrypt) runs on the libuv thread pool.
    const prepared = await Promise.all(
      chunk.map(async (row) => {
        try {
          const profile = await profileFor(row.profileName);
          if (!profile) throw new PlatformError('PROFILE_NOT_FOUND', `no profile named "${row.profileName ?? ''}"`);
          return { row, value: await registry.prepareDevice(row.input, profile) };
        } catch (err) {
          errors.push({ row: row.line, ...(row.name !== undefined ? { name: row.name } : {}), message: message(err) });
          return undefined;
        }
      }),
    );
    const ok = prepared.filter((p): p is { row: Row; value: CreatedDevice } => p !== undefined);
    let failed: Map<number, Error>;
    try {
      failed = ok.length > 0 ? await registry.withDeviceRoom(tenantId, ok.length, () => registry.store.insertDevices(ok.map((p) => p.value))) : new Map<number, Error>();
    } catch (err) {
      // The tenant's device quota refused the chunk: each of its rows reports why.
      if (!isPlatformError(err, 'TENANT_QUOTA_EXCEEDED')) throw err;
      failed = new Map(ok.map((_, i) => [i, err]));
    }
    registry.joinedProfile(ok.filter((_, i) => !failed.has(i)).map((p) => p.value.device));
    ok.forEach((p, i) => {
      const err = failed.get(i);
      if (err) errors.push({ row: p.row.line, ...(p.row.name !== undefined ? { name: p.row.name } : {}), message: message(err) });
      else {
        // The store keeps only a hash: a token the platform generated is handed out here, once.
        const generated = p.row.input.accessToken === undefined ? p.value.accessToken : undefined;
        devices.push({ row: p.row.line, name: p.value.device.name, id: p.value.device.id, ...(generated !== undefined ? { accessToken: generated } : {}) });
      }
    });
    done += chunk.length;
    onProgress?.(done, total);
  }
  errors.sort((a, b) => a.row - b.row);
  return { created: devices.length, devices, errors: errors.slice(0, MAX_REPORTED_ERRORS) };
}
