/**
 * What a configuration pushed from the platform may do on this edge, decided by the edge's own
 * file (`configPush:`), never by the push:
 *
 * - `allowEnv`: the environment variables a pushed `${NAME}` may read. Anything else is refused
 *   naming the variable, so a push cannot read the edge's environment (its token, its secrets).
 * - `allowHosts`: where pushed connectors may connect — host names, IP addresses, CIDR blocks,
 *   serial device paths. Default: the hosts and paths of the file's own connectors. So a push
 *   cannot point a Modbus, BACnet, SMPP or MQTT client at a machine the operator did not name.
 *
 * Problems reported back to the platform must never carry a substituted value: `redact` replaces
 * each value read from the environment by its `${NAME}` before a message leaves the edge.
 */
import { BlockList, isIP } from 'node:net';
import type { EdgeConfig } from '../config.js';

export interface PushPolicy {
  readonly allowEnv: readonly string[];
  readonly allowHosts: readonly string[];
}

type ConnectorConfig = EdgeConfig['connectors'][number];

/** Where a connector connects: network hosts (name or address) and serial device paths. */
export interface ConnectorTarget {
  readonly path: string;
  readonly target: string;
}

/** "ip" or "ip:port" → ip. */
function hostPart(address: string): string {
  const at = address.lastIndexOf(':');
  return at > 0 && isIP(address) === 0 ? address.slice(0, at) : address;
}

function urlHost(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return url;
  }
}

export function connectorTargets(c: ConnectorConfig, at: string): ConnectorTarget[] {
  switch (c.type) {
    case 'modbus-tcp':
      return [{ path: `${at}.host`, target: c.host }];
    case 'modbus-rtu':
      return [{ path: `${at}.path`, target: c.path }];
    case 'bacnet':
      return [
        { path: `${at}.broadcastAddress`, target: hostPart(c.broadcastAddress) },
        ...c.devices.flatMap((d, i) => (d.address !== undefined ? [{ path: `${at}.devices[${i}].address`, target: hostPart(d.address) }] : [])),
      ];
    case 'frames':
      return [c.transport.type === 'tcp' ? { path: `${at}.transport.host`, target: c.transport.host } : { path: `${at}.transport.path`, target: c.transport.path }];
    case 'sms':
      return [
        ...(c.smpp ? [{ path: `${at}.smpp.host`, target: c.smpp.host }] : []),
        ...(c.modem ? [{ path: `${at}.modem.path`, target: c.modem.path }] : []),
      ];
    case 'sparkplug':
      return [{ path: `${at}.url`, target: urlHost(c.url) }];
    case 'opcua':
      // The PKI folder is written to (our certificate, rejected server certificates): a push may only name one the file names.
      return [{ path: `${at}.endpoint`, target: urlHost(c.endpoint) }, ...(c.pkiDir !== undefined ? [{ path: `${at}.pkiDir`, target: c.pkiDir }] : [])];
  }
}

/** The file's `configPush` section, with allowHosts defaulting to the file's own connector targets. */
export function pushPolicyOf(file: EdgeConfig): PushPolicy {
  const section = file.configPush;
  const allowHosts = section.allowHosts ?? file.connectors.flatMap((c, i) => connectorTargets(c, `connectors[${i}]`).map((t) => t.target));
  return { allowEnv: section.allowEnv, allowHosts };
}

export { allowHostsProblems } from './allow-hosts.js';

/** Matches targets against an allow-list: exact names and paths (case-insensitive for names), addresses, CIDR blocks. */
export class HostAllowList {
  private readonly names = new Set<string>();
  private readonly blocks = new BlockList();

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const slash = entry.indexOf('/');
      const net = slash > 0 ? entry.slice(0, slash) : entry;
      const family = isIP(net);
      if (slash > 0 && family !== 0) this.blocks.addSubnet(net, Number(entry.slice(slash + 1)), family === 6 ? 'ipv6' : 'ipv4');
      else if (family !== 0) this.blocks.addAddress(net, family === 6 ? 'ipv6' : 'ipv4');
      else this.names.add(entry.startsWith('/') ? entry : entry.toLowerCase());
    }
  }

  allows(target: string): boolean {
    const family = isIP(target);
    if (family !== 0) return this.blocks.check(target, family === 6 ? 'ipv6' : 'ipv4');
    return this.names.has(target.startsWith('/') ? target : target.toLowerCase());
  }
}

/** `${NAME}` references in the strings of a pushed tree (a `$${` escape is not one). */
export function envReferences(tree: unknown, path: string, out: { path: string; name: string }[] = []): { path: string; name: string }[] {
  if (typeof tree === 'string') {
    for (const m of tree.matchAll(/\$?\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) if (!m[0].startsWith('$$')) out.push({ path, name: m[1] as string });
  } else if (Array.isArray(tree)) tree.forEach((v, i) => envReferences(v, `${path}[${i}]`, out));
  else if (tree !== null && typeof tree === 'object') for (const [k, v] of Object.entries(tree)) envReferences(v, `${path}.${k}`, out);
  return out;
}

/** Values this short could be part of any message: a line holding one keeps only its path. */
const SHORT_SECRET = 4;

/**
 * Problem lines ("path: message") with every substituted value replaced by `${NAME}`. A line
 * holding a value too short to replace safely keeps its path and loses its message.
 */
export function redact(lines: readonly string[], substituted: ReadonlyMap<string, string>): string[] {
  const byLength = [...substituted].filter(([, value]) => value !== '').sort((a, b) => b[1].length - a[1].length);
  return lines.map((line) => {
    let out = line;
    for (const [name, value] of byLength) {
      if (value.length < SHORT_SECRET) {
        if (out.includes(value)) {
          const at = line.indexOf(': ');
          return `${at < 0 ? '(root)' : line.slice(0, at)}: invalid value (details withheld: they may contain the value of \${${name}})`;
        }
        continue;
      }
      out = out.split(value).join(`\${${name}}`);
    }
    return out;
  });
}
