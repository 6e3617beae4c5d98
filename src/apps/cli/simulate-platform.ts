/**
 * What `continuum simulate` asks the running platform before and after it starts playing:
 * where its device transports listen (never an assumed 1883: on a machine running Mosquitto
 * that is another broker, which acknowledges everything and delivers nothing to us), and
 * whether the first acknowledged message really landed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, CliError, type ApiClient } from '../../protocols/management-api/client.js';

export type Ports = Readonly<Record<string, number>>;

/** The platform's listening ports: GET /api/endpoints, else (an older platform) DATA_DIR/ports.json. */
export async function platformPorts(client: ApiClient, dataDir: string): Promise<{ ports: Ports; from: string }> {
  try {
    const { ports } = await client.request<{ ports: Record<string, number> }>('GET', '/api/endpoints');
    if (Object.keys(ports).length > 0) return { ports, from: `${client.baseUrl}/api/endpoints` };
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  const file = join(dataDir, 'ports.json');
  try {
    const ports = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
    return { ports, from: file };
  } catch {
    throw new CliError(
      `cannot learn the platform's device ports: ${client.baseUrl} has no /api/endpoints and ${file} is not readable; pass --mqtt-url and --coap-url, or --data-dir of the platform`,
    );
  }
}

/** An endpoint from its flag, else from the platform's ports; the flag's absence never means a default port. */
export function endpointFrom(url: string | undefined, host: string, port: number | undefined, scheme: 'mqtt' | 'coap'): { host: string; port: number } | undefined {
  if (url !== undefined) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new CliError(`--${scheme}-url must be a URL like ${scheme}://host:port, got "${url}"`);
    }
    return { host: u.hostname, port: u.port ? Number(u.port) : scheme === 'mqtt' ? 1883 : 5683 };
  }
  return port === undefined || port === 0 ? undefined : { host, port };
}

interface DeviceActivity {
  id: string;
  name: string;
  lastActivity: number | null;
}

/** Last activity of every device of the tenant that `ids` names, before the simulation starts. */
export async function activityOf(client: ApiClient, ids: ReadonlySet<string>): Promise<Map<string, number | null>> {
  const out = new Map<string, number | null>();
  for (let offset = 0; ; offset += 1000) {
    const page = await client.request<{ items: DeviceActivity[]; total: number }>('GET', '/api/devices', { query: { limit: 1000, offset } });
    for (const d of page.items) if (ids.has(d.id)) out.set(d.id, d.lastActivity);
    if (page.items.length < 1000 || offset + 1000 >= page.total || out.size === ids.size) return out;
  }
}

export interface LandingCheck {
  readonly client: ApiClient;
  /** The device whose message was acknowledged first (polled). */
  readonly firstAcked: () => string | undefined;
  readonly errors: () => number;
  readonly idOf: ReadonlyMap<string, string>;
  readonly before: ReadonlyMap<string, number | null>;
  /** Where messages go, for the error message. */
  readonly target: string;
  readonly ackTimeoutMs: number;
  readonly landTimeoutMs: number;
  readonly stopped: () => boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Resolves with the device name once the first acknowledged message shows on the platform (the
 * device's last activity moved); throws a CliError naming the target otherwise.
 */
export async function verifyFirstMessage(c: LandingCheck): Promise<string | undefined> {
  const ackBy = Date.now() + c.ackTimeoutMs;
  let name = c.firstAcked();
  while (name === undefined) {
    if (c.stopped()) return undefined;
    if (Date.now() > ackBy) throw new CliError(`no message was acknowledged within ${Math.round(c.ackTimeoutMs / 1000)} s (${c.errors()} errors) by ${c.target}`);
    await sleep(100);
    name = c.firstAcked();
  }
  const id = c.idOf.get(name);
  if (id === undefined) return name;
  const landBy = Date.now() + c.landTimeoutMs;
  const before = c.before.get(id) ?? null;
  for (;;) {
    const device = await c.client.request<DeviceActivity>('GET', `/api/devices/${encodeURIComponent(id)}`);
    if (device.lastActivity !== null && (before === null || device.lastActivity > before)) return name;
    if (Date.now() > landBy || c.stopped()) break;
    await sleep(250);
  }
  throw new CliError(
    `${c.target} acknowledged "${name}"'s message but it never reached the platform at ${c.client.baseUrl} (no activity within ${Math.round(c.landTimeoutMs / 1000)} s): ` +
      'is that address another broker? Leave out --mqtt-url/--coap-url to use the platform\'s own ports',
  );
}
