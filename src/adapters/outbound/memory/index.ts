/**
 * An in-memory outbound network for tests and embedders: a fixed name table instead of DNS,
 * and requests recorded instead of sent, answered by a function.
 */
import type { OutboundNetwork, PinnedHttpRequest, PinnedHttpResponse } from '../../../ports.js';

export interface MemoryOutboundNetwork extends OutboundNetwork {
  readonly sent: PinnedHttpRequest[];
}

export function createMemoryOutboundNetwork(options: {
  readonly hosts?: Readonly<Record<string, readonly string[]>>;
  readonly localAddresses?: readonly string[];
  readonly respond?: (request: PinnedHttpRequest) => PinnedHttpResponse;
}): MemoryOutboundNetwork {
  const sent: PinnedHttpRequest[] = [];
  return {
    sent,
    async resolve(hostname) {
      const found = options.hosts?.[hostname.toLowerCase()];
      if (!found) throw new Error(`getaddrinfo ENOTFOUND ${hostname}`);
      return [...found];
    },
    isLocalAddress: (address) => options.localAddresses?.includes(address) ?? false,
    async send(request) {
      sent.push(request);
      return options.respond?.(request) ?? { status: 200 };
    },
  };
}
