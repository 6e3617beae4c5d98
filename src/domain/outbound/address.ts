/**
 * What kind of address an outbound connection would reach. Anything that is not global unicast
 * is refused by default (docs/RULES.md, "Outbound connections"): the ranges below are the IANA
 * special-purpose registries (RFC 6890) that a rule or integration has no business reaching.
 * Addresses that embed an IPv4 address (IPv4-mapped, NAT64, 6to4) are judged by that IPv4
 * address, so `::ffff:127.0.0.1` is loopback like `127.0.0.1`.
 */
import ipaddr from 'ipaddr.js';

export type AddressClass = 'public' | 'loopback' | 'unspecified' | 'private' | 'link-local' | 'shared' | 'multicast' | 'broadcast' | 'reserved';

type RefusedClass = Exclude<AddressClass, 'public'>;
type Ip = ipaddr.IPv4 | ipaddr.IPv6;

/** IPv4 special-purpose ranges; the first match wins. */
const V4_RANGES: readonly (readonly [string, RefusedClass])[] = [
  ['255.255.255.255/32', 'broadcast'], // RFC 919
  ['0.0.0.0/8', 'unspecified'], // "this network", RFC 791 / RFC 6890
  ['127.0.0.0/8', 'loopback'], // RFC 1122 §3.2.1.3
  ['10.0.0.0/8', 'private'], // RFC 1918
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['169.254.0.0/16', 'link-local'], // RFC 3927 (cloud metadata services live here)
  ['100.64.0.0/10', 'shared'], // carrier-grade NAT, RFC 6598
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments, RFC 6890
  ['192.0.2.0/24', 'reserved'], // documentation, RFC 5737
  ['198.51.100.0/24', 'reserved'],
  ['203.0.113.0/24', 'reserved'],
  ['192.88.99.0/24', 'reserved'], // 6to4 relay anycast, deprecated by RFC 7526
  ['198.18.0.0/15', 'reserved'], // benchmarking, RFC 2544
  ['224.0.0.0/4', 'multicast'], // RFC 5771
  ['240.0.0.0/4', 'reserved'], // RFC 1112 §4
];

/** IPv6 special-purpose ranges inside or beside global unicast; outside 2000::/3 everything else is reserved. */
const V6_RANGES: readonly (readonly [string, RefusedClass])[] = [
  ['::/128', 'unspecified'], // RFC 4291 §2.5.2
  ['::1/128', 'loopback'], // RFC 4291 §2.5.3
  ['fe80::/10', 'link-local'], // RFC 4291 §2.5.6
  ['fec0::/10', 'private'], // site-local, deprecated by RFC 3879
  ['fc00::/7', 'private'], // unique local, RFC 4193
  ['ff00::/8', 'multicast'], // RFC 4291 §2.7
  ['64:ff9b:1::/48', 'private'], // local-use NAT64, RFC 8215
  ['2001::/23', 'reserved'], // IETF protocol assignments incl. Teredo, RFC 2928 / RFC 4380
  ['2001:db8::/32', 'reserved'], // documentation, RFC 3849
  ['3fff::/20', 'reserved'], // documentation, RFC 9637
];

const parseRanges = (ranges: readonly (readonly [string, RefusedClass])[]) => ranges.map(([cidr, cls]) => ({ range: ipaddr.parseCIDR(cidr), cls }));
const V4 = parseRanges(V4_RANGES);
const V6 = parseRanges(V6_RANGES);
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3'); // RFC 4291 §2.4, IANA IPv6 address space
const NAT64 = ipaddr.parseCIDR('64:ff9b::/96'); // RFC 6052 §2.1: the IPv4 address is the last 32 bits
const SIX_TO_FOUR = ipaddr.parseCIDR('2002::/16'); // RFC 3056 §2: the IPv4 address follows the prefix

/** Strips URL brackets and an IPv6 zone id ("[fe80::1%eth0]"). */
function bare(text: string): string {
  const unbracketed = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = unbracketed.indexOf('%');
  return zone >= 0 ? unbracketed.slice(0, zone) : unbracketed;
}

/**
 * Parses an IP address, including the IPv4 spellings the C resolver accepts (`2130706433`,
 * `0x7f.1`, `0177.0.0.1`), since those reach the same host. Undefined for a host name.
 */
export function parseIp(text: string): Ip | undefined {
  const candidate = bare(text.trim());
  return ipaddr.isValid(candidate) ? ipaddr.parse(candidate) : undefined;
}

/** The IPv4 address an IPv6 address stands for, if it embeds one. */
function embeddedIpv4(ip: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (ip.isIPv4MappedAddress()) return ip.toIPv4Address();
  const [p0 = 0, p1 = 0, p2 = 0, , , , p6 = 0, p7 = 0] = ip.parts;
  if (ip.match(NAT64)) return new ipaddr.IPv4([p6 >> 8, p6 & 0xff, p7 >> 8, p7 & 0xff]);
  if (ip.match(SIX_TO_FOUR) && p0 === 0x2002) return new ipaddr.IPv4([p1 >> 8, p1 & 0xff, p2 >> 8, p2 & 0xff]);
  return undefined;
}

function classifyIp(ip: Ip): AddressClass {
  if (ip.kind() === 'ipv4') return V4.find((r) => ip.match(r.range))?.cls ?? 'public';
  const v6 = ip as ipaddr.IPv6;
  const v4 = embeddedIpv4(v6);
  if (v4) return classifyIp(v4);
  const named = V6.find((r) => v6.match(r.range))?.cls;
  if (named) return named;
  // IPv4-compatible (::a.b.c.d, RFC 4291 §2.5.5.1, deprecated), discard-only and unassigned space.
  return v6.match(GLOBAL_UNICAST_V6) ? 'public' : 'reserved';
}

/** The class of an IP address; undefined when `text` is a host name, not an address. */
export function classifyAddress(text: string): AddressClass | undefined {
  const ip = parseIp(text);
  return ip ? classifyIp(ip) : undefined;
}

/** The address as compared with allow-list networks: IPv4-mapped IPv6 becomes IPv4. */
export function comparableIp(text: string): Ip | undefined {
  const ip = parseIp(text);
  if (ip?.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) return (ip as ipaddr.IPv6).toIPv4Address();
  return ip;
}

export const CLASS_LABEL: Record<RefusedClass, string> = {
  loopback: 'a loopback address',
  unspecified: 'an unspecified address',
  private: 'a private-network address',
  'link-local': 'a link-local address',
  shared: 'a carrier-grade NAT address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
};
