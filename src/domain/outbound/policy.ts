/**
 * The outbound-connection policy: may a rule or integration connect to this address? Global
 * unicast addresses are allowed; loopback, private, link-local, shared, multicast, broadcast and
 * reserved ones are refused unless an `outbound.allow` entry covers them; the platform's own
 * listening ports on this host are refused unless an entry names that port explicitly.
 * Pure: the resolver and the sockets are in the outbound service's network port.
 */
import { CLASS_LABEL, classifyAddress, type AddressClass } from './address.js';
import { entryAllows, normalHostname, parseAllowList, type AllowEntry, type OutboundTarget } from './allow-list.js';

export type RefusalReason = Exclude<AddressClass, 'public'> | 'own-port' | 'not-an-address';

export type OutboundDecision =
  | { readonly allowed: true; readonly entry?: string }
  | { readonly allowed: false; readonly reason: RefusalReason; readonly message: string };

export interface OutboundPolicyOptions {
  /** `outbound.allow` entries (parsed here; an invalid entry throws). */
  readonly allow?: readonly string[];
  /** The ports this platform listens on (known once started). */
  readonly ownPorts?: () => readonly number[];
  /** True for an address of one of this host's own interfaces. */
  readonly isLocalAddress?: (address: string) => boolean;
}

/** Names that always mean this host (RFC 6761 §6.3), refused before any lookup. */
function isLocalhostName(hostname: string): boolean {
  const host = normalHostname(hostname);
  return host === 'localhost' || host.endsWith('.localhost');
}

/** Default ports of the schemes outbound connections use (webhooks and integrations). */
const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  'http:': 80,
  'https:': 443,
  'ws:': 80,
  'wss:': 443,
  'mqtt:': 1883,
  'mqtts:': 8883,
  'nats:': 4222,
  'tls:': 4222,
  'amqp:': 5672,
  'amqps:': 5671,
};

/** The port a URL connects to: explicit, or the scheme's default. */
export function effectivePort(url: URL): number {
  if (url.port) return Number(url.port);
  return DEFAULT_PORTS[url.protocol] ?? 80;
}

export class OutboundPolicy {
  private readonly allow: readonly AllowEntry[];
  private readonly ownPorts: () => readonly number[];
  private readonly isLocalAddress: (address: string) => boolean;

  constructor(options: OutboundPolicyOptions = {}) {
    this.allow = parseAllowList(options.allow ?? []);
    this.ownPorts = options.ownPorts ?? (() => []);
    this.isLocalAddress = options.isLocalAddress ?? (() => false);
  }

  /** The decision for connecting to one resolved address of `target.hostname`. */
  decide(target: OutboundTarget): OutboundDecision {
    const cls = classifyAddress(target.address);
    if (cls === undefined) return { allowed: false, reason: 'not-an-address', message: `"${target.address}" is not an IP address` };
    const entries = this.allow.filter((e) => entryAllows(e, target));
    const onThisHost = cls === 'loopback' || cls === 'unspecified' || this.isLocalAddress(target.address);
    if (onThisHost && this.ownPorts().includes(target.port)) {
      // A broad entry (a network, a name without port) does not open the platform's own listeners.
      const explicit = entries.find((e) => e.port === target.port);
      if (explicit) return { allowed: true, entry: explicit.text };
      return { allowed: false, reason: 'own-port', message: `${target.address} port ${target.port} is one of this platform's own listening ports` };
    }
    if (cls === 'public') return { allowed: true };
    const entry = entries[0];
    if (entry) return { allowed: true, entry: entry.text };
    return { allowed: false, reason: cls, message: `${target.address} is ${CLASS_LABEL[cls]}` };
  }

  /**
   * What can be decided before any DNS lookup (a rule being saved): a literal address, or a
   * name that always means this host. Undefined when only the resolved address can tell.
   */
  decideLiteral(url: URL): OutboundDecision | undefined {
    const hostname = normalHostname(url.hostname);
    const port = effectivePort(url);
    if (classifyAddress(hostname) !== undefined) return this.decide({ hostname, port, address: hostname });
    if (!isLocalhostName(hostname)) return undefined;
    const decisions = ['127.0.0.1', '::1'].map((address) => this.decide({ hostname, port, address }));
    return decisions.find((d) => d.allowed) ?? decisions[0];
  }
}
