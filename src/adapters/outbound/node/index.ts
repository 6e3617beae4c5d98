/**
 * The outbound network on node:dns, node:http(s) and node:os. `send` connects only to the
 * addresses it is given: a custom `lookup` hands them to the socket instead of asking DNS
 * (Node skips lookup for a literal host, which is then itself the checked address). No agent is
 * shared, so no pooled connection to an earlier address is reused, and redirects are never
 * followed (node:http does not follow them).
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { OutboundNetwork, PinnedHttpRequest, PinnedHttpResponse } from '../../../ports.js';

/** A `lookup` that answers with the pinned addresses only (both the single and the `all` form). */
export function pinnedLookup(addresses: readonly string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return (_hostname, options, callback) => {
    const usable = options.family ? entries.filter((e) => e.family === options.family) : entries;
    const first = usable[0];
    if (!first) {
      callback(Object.assign(new Error('no permitted address of the requested family'), { code: 'ENOTFOUND' }), '', 0);
      return;
    }
    if (options.all) (callback as unknown as (err: null, all: typeof usable) => void)(null, usable);
    else callback(null, first.address, first.family);
  };
}

function localAddresses(): Set<string> {
  const set = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) set.add(i.address.toLowerCase());
  return set;
}

function send(req: PinnedHttpRequest): Promise<PinnedHttpResponse> {
  const { url } = req;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string> = { ...req.headers };
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['content-length'] = String(Buffer.byteLength(req.body));
  return new Promise((resolve, reject) => {
    const signal = AbortSignal.timeout(req.timeoutMs);
    const outgoing = request(url, { method: req.method, headers, agent: false, lookup: pinnedLookup(req.addresses), signal }, (res: IncomingMessage) => {
      // Only the status matters; the body is discarded as it arrives (never buffered).
      res.resume();
      res.on('error', () => undefined);
      const location = res.headers.location;
      resolve({ status: res.statusCode ?? 0, ...(location ? { location } : {}) });
    });
    outgoing.on('error', (err) => reject(signal.aborted ? new Error(`${url.origin} timed out after ${req.timeoutMs} ms`) : err));
    outgoing.end(req.body);
  });
}

export function createNodeOutboundNetwork(): OutboundNetwork {
  // Interfaces can change (DHCP, VPN); re-read at most once a minute.
  let local = localAddresses();
  let readAt = Date.now();
  return {
    async resolve(hostname) {
      const found = await dnsLookup(hostname, { all: true, verbatim: true });
      return found.map((f) => f.address);
    },
    isLocalAddress(address) {
      if (Date.now() - readAt > 60_000) {
        local = localAddresses();
        readAt = Date.now();
      }
      return local.has(address.toLowerCase());
    },
    send,
  };
}
