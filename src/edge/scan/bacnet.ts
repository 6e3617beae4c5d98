/**
 * `continuum edge scan bacnet`: Who-Is (clause 16.10), then for every device that answers with
 * I-Am, its Device object's name, vendor and Object_List (clause 12.11), and each listed object's
 * name and Present_Value; printed as a bacnet connector to paste into an edge config.
 */
import { PropertyIdentifier, type BACNetObjectID } from '@bacnet-js/client';
import type { JsonValue } from '../../domain/telemetry.js';
import { decodeValue, describeError, isCommandable, objectTypeName, type ObjectTypeName } from '../connectors/bacnet/objects.js';
import { openClient, type BACnetClientInstance } from '../connectors/bacnet/transport.js';

export interface BacnetScanOptions {
  readonly port: number;
  readonly interface: string;
  readonly broadcastAddress: string;
  /** Unicast the Who-Is here instead of broadcasting ("ip" or "ip:port"). */
  readonly target?: string;
  readonly waitMs: number;
  readonly lowLimit?: number;
  readonly highLimit?: number;
  readonly apduTimeoutMs: number;
}

export interface FoundObject {
  readonly type: ObjectTypeName;
  readonly instance: number;
  readonly name?: string;
  readonly presentValue?: JsonValue;
}

export interface FoundDevice {
  readonly deviceId: number;
  readonly address: string;
  readonly name?: string;
  readonly vendor?: string;
  readonly objects: readonly FoundObject[];
  readonly skipped: number;
  readonly note?: string;
}

async function readString(client: BACnetClientInstance, address: string, objectId: BACNetObjectID, property: number): Promise<string | undefined> {
  try {
    const ack = await client.readProperty({ address }, objectId, property);
    const v = ack.values[0]?.value;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Object_List, whole; a device that cannot send it in one APDU is read element by element (index 0 is the length, clause 12.11.19). */
async function objectList(client: BACnetClientInstance, address: string, deviceId: number): Promise<BACNetObjectID[]> {
  const device = { type: 8, instance: deviceId };
  try {
    const ack = await client.readProperty({ address }, device, PropertyIdentifier.OBJECT_LIST);
    return ack.values.map((v) => v.value as BACNetObjectID);
  } catch {
    const count = await client.readProperty({ address }, device, PropertyIdentifier.OBJECT_LIST, { arrayIndex: 0 });
    const n = Number(count.values[0]?.value ?? 0);
    const ids: BACNetObjectID[] = [];
    for (let i = 1; i <= n; i++) {
      const ack = await client.readProperty({ address }, device, PropertyIdentifier.OBJECT_LIST, { arrayIndex: i });
      ids.push(ack.values[0]?.value as BACNetObjectID);
    }
    return ids;
  }
}

async function describeDevice(client: BACnetClientInstance, deviceId: number, address: string, log: (line: string) => void): Promise<FoundDevice> {
  const device = { type: 8, instance: deviceId };
  const name = await readString(client, address, device, PropertyIdentifier.OBJECT_NAME);
  const vendor = await readString(client, address, device, PropertyIdentifier.VENDOR_NAME);
  log(`device ${deviceId} at ${address}: ${name ?? '(no name)'}`);
  let ids: BACNetObjectID[];
  try {
    ids = await objectList(client, address, deviceId);
  } catch (err) {
    return { deviceId, address, ...(name ? { name } : {}), ...(vendor ? { vendor } : {}), objects: [], skipped: 0, note: `object-list unreadable: ${describeError(err, 0)}` };
  }
  const objects: FoundObject[] = [];
  let skipped = 0;
  for (const id of ids) {
    const type = objectTypeName(id.type);
    if (!type || type === 'device') {
      if (!type) skipped++;
      continue;
    }
    const objectName = await readString(client, address, id, PropertyIdentifier.OBJECT_NAME);
    let presentValue: JsonValue | undefined;
    try {
      const ack = await client.readProperty({ address }, id, PropertyIdentifier.PRESENT_VALUE);
      presentValue = decodeValue(ack.values, type, 'present-value');
    } catch {
      presentValue = undefined;
    }
    objects.push({ type, instance: id.instance, ...(objectName ? { name: objectName } : {}), ...(presentValue !== undefined ? { presentValue } : {}) });
  }
  return { deviceId, address, ...(name ? { name } : {}), ...(vendor ? { vendor } : {}), objects, skipped };
}

export async function scanBacnet(options: BacnetScanOptions, log: (line: string) => void): Promise<FoundDevice[]> {
  const { client, transport } = await openClient({ port: options.port, interface: options.interface, broadcastAddress: options.broadcastAddress, apduTimeoutMs: options.apduTimeoutMs });
  const seen = new Map<number, string>();
  client.on('error', (err) => log(`socket error: ${err.message}`));
  client.on('iAm', (content) => {
    const address = content.header?.sender.address;
    if (address && !seen.has(content.payload.deviceId)) seen.set(content.payload.deviceId, address);
  });
  try {
    const limits = options.lowLimit !== undefined && options.highLimit !== undefined ? { lowLimit: options.lowLimit, highLimit: options.highLimit } : {};
    log(`who-is to ${options.target ?? options.broadcastAddress} from port ${transport.port}; waiting ${options.waitMs} ms`);
    if (options.target) client.whoIs({ address: options.target }, limits);
    else client.whoIs(limits);
    await new Promise((r) => setTimeout(r, options.waitMs));
    const devices: FoundDevice[] = [];
    for (const [deviceId, address] of [...seen.entries()].sort((a, b) => a[0] - b[0])) devices.push(await describeDevice(client, deviceId, address, log));
    return devices;
  } finally {
    client.close();
  }
}

const slug = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '') || 'x';

/** The connector section for what answered, as YAML with each object's name and value in a comment. */
export function bacnetSnippet(options: BacnetScanOptions, devices: readonly FoundDevice[]): string {
  const lines = [
    `# continuum edge scan bacnet: who-is to ${options.target ?? options.broadcastAddress}; ${devices.length} device(s) answered`,
    '# Paste under an edge config (docs/EDGE.md); keep the objects you need, set cov: true where the device supports COV.',
    'connectors:',
    '  - type: bacnet',
    '    name: bacnet',
    `    port: ${options.port === 0 ? 47808 : options.port}`,
    '    devices:',
  ];
  const names = new Set<string>();
  for (const d of devices.filter((x) => x.objects.length > 0)) {
    let name = slug(d.name ?? `device-${d.deviceId}`).replace(/_/g, '-');
    if (names.has(name)) name = `${name}-${d.deviceId}`;
    names.add(name);
    lines.push(`      - name: ${JSON.stringify(name)}  # ${d.vendor ?? 'vendor unknown'}`, `        deviceId: ${d.deviceId}`, `        address: ${JSON.stringify(d.address)}`, '        pollMs: 5000', '        objects:');
    const keys = new Set<string>();
    const keyed = d.objects.map((o) => {
      let key = slug(o.name ?? `${o.type}-${o.instance}`);
      if (keys.has(key)) key = `${key}_${o.instance}`;
      keys.add(key);
      return { o, key };
    });
    for (const { o, key } of keyed) lines.push(`          - { key: ${JSON.stringify(key)}, type: ${o.type}, instance: ${o.instance} }  # ${JSON.stringify(o.name ?? '')} = ${JSON.stringify(o.presentValue ?? null)}`);
    const writable = keyed.filter(({ o }) => isCommandable(o.type));
    if (writable.length > 0) {
      lines.push('        commands:');
      // Priority 8 is "manual operator" in the standard's priority table (clause 19.2.2).
      for (const { o, key } of writable) lines.push(`          - { method: set_${key}, object: ${o.type}, instance: ${o.instance}, priority: 8 }`);
    }
  }
  for (const d of devices.filter((x) => x.objects.length === 0)) lines.push(`# device ${d.deviceId} at ${d.address}: ${d.note ?? 'no readable objects'}`);
  return lines.join('\n') + '\n';
}
