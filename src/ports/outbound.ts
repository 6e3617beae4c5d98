/** The OutboundNetwork port: the network as services/outbound.ts sees it (ports.ts re-exports this file). */

/**
 * An HTTP request to addresses the outbound policy has already checked. The adapter connects
 * to one of `addresses` only and never asks DNS again (no rebinding between check and
 * connect), while the Host header, TLS SNI and certificate check use the URL's name.
 */
export interface PinnedHttpRequest {
  readonly url: URL;
  /** IP literals, in the order to try. */
  readonly addresses: readonly string[];
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
}

/** The answer's status line and redirect target; the body is discarded. Redirects are never followed. */
export interface PinnedHttpResponse {
  readonly status: number;
  readonly location?: string;
}

/** The network as the outbound service sees it (node:dns/http/https in adapters/outbound/node). */
export interface OutboundNetwork {
  /** Every address (A and AAAA) the name resolves to, as IP literals; throws when it does not resolve. */
  resolve(hostname: string): Promise<string[]>;
  /** True for an address of one of this host's interfaces (to recognise the platform's own ports). */
  isLocalAddress(address: string): boolean;
  send(request: PinnedHttpRequest): Promise<PinnedHttpResponse>;
}

