/**
 * The operator's exceptions to the outbound policy (`outbound.allow` in the config). An entry
 * names a host or a network, optionally with one port:
 *
 *   hooks.internal.example      that name, any port (whatever it resolves to: the name is trusted)
 *   *.svc.example:8443          any name under svc.example, port 8443 only
 *   127.0.0.1:9000              that address (after DNS, so http://localhost:9000 too), port 9000
 *   10.1.0.0/16                 any address of that network, any port
 *   [fd00::5]:80, fd00::/8:443  IPv6: brackets before a port; a network's port follows its prefix
 *
 * IPv4 addresses are written as four decimal numbers, so that an entry cannot be misread.
 */
import ipaddr from 'ipaddr.js';
import { comparableIp } from './address.js';

export type AllowMatch =
  | { readonly kind: 'name'; readonly name: string; readonly wildcard: boolean }
  | { readonly kind: 'network'; readonly network: [ipaddr.IPv4 | ipaddr.IPv6, number] };

export interface AllowEntry {
  /** As written in the config (for logs). */
  readonly text: string;
  readonly port: number | undefined;
  readonly match: AllowMatch;
}

/** What a connection would reach: the URL's host name, its port, and one resolved address. */
export interface OutboundTarget {
  readonly hostname: string;
  readonly port: number;
  readonly address: string;
}

const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const HOST_NAME = new RegExp(`^(\\*\\.)?(${LABEL}(?:\\.${LABEL})*)\\.?$`);

function parsePort(text: string | undefined, entry: string): number | undefined {
  if (text === undefined) return undefined;
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new Error(`outbound.allow "${entry}": "${text}" is not a port (1-65535)`);
  return port;
}

function strictIp(text: string, entry: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv6.isValid(text)) return comparableIp(text);
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (ipaddr.IPv4.isValid(text)) throw new Error(`outbound.allow "${entry}": write IPv4 addresses as four decimal numbers`);
  return undefined;
}

function networkEntry(text: string, entry: string): AllowEntry {
  const slash = text.indexOf('/');
  const address = text.slice(0, slash).replace(/^\[(.*)\]$/, '$1');
  const [bitsText = '', portText] = text.slice(slash + 1).split(':');
  const ip = strictIp(address, entry);
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!ip) throw new Error(`outbound.allow "${entry}": "${address}" is not an IP address`);
  if (!(bits >= 0 && bits <= (ip.kind() === 'ipv4' ? 32 : 128))) throw new Error(`outbound.allow "${entry}": "/${bitsText}" is not a prefix length`);
  return { text: entry, port: parsePort(portText, entry), match: { kind: 'network', network: [ip, bits] } };
}

function hostEntry(host: string, port: number | undefined, entry: string): AllowEntry {
  const ip = strictIp(host, entry);
  if (ip) return { text: entry, port, match: { kind: 'network', network: [ip, ip.kind() === 'ipv4' ? 32 : 128] } };
  const name = HOST_NAME.exec(host);
  if (!name?.[2]) throw new Error(`outbound.allow "${entry}": "${host}" is neither a host name nor an IP address`);
  return { text: entry, port, match: { kind: 'name', name: name[2], wildcard: name[1] !== undefined } };
}

/** Parses one entry; throws an Error saying what is wrong with it. */
export function parseAllowEntry(entry: string): AllowEntry {
  const text = entry.trim().toLowerCase();
  if (text === '') throw new Error('outbound.allow: empty entry');
  if (text.includes('/')) return networkEntry(text, entry);
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed?.[1]) return hostEntry(bracketed[1], parsePort(bracketed[2], entry), entry);
  if (ipaddr.IPv6.isValid(text)) return hostEntry(text, undefined, entry);
  const colon = text.lastIndexOf(':');
  return colon >= 0 ? hostEntry(text.slice(0, colon), parsePort(text.slice(colon + 1), entry), entry) : hostEntry(text, undefined, entry);
}

export function parseAllowList(entries: readonly string[]): AllowEntry[] {
  return entries.map(parseAllowEntry);
}

/** The host name as compared with name entries: lower case, no brackets, no trailing dot. */
export function normalHostname(hostname: string): string {
  return hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** True when the entry covers the target (name or network, and port when the entry has one). */
export function entryAllows(entry: AllowEntry, target: OutboundTarget): boolean {
  if (entry.port !== undefined && entry.port !== target.port) return false;
  if (entry.match.kind === 'name') {
    const host = normalHostname(target.hostname);
    return entry.match.wildcard ? host.endsWith(`.${entry.match.name}`) : host === entry.match.name;
  }
  const ip = comparableIp(target.address);
  const [network, bits] = entry.match.network;
  return ip !== undefined && ip.kind() === network.kind() && ip.match(network, bits);
}
