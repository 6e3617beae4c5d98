/**
 * Every outbound HTTP connection a rule or integration makes goes through here. The URL's host
 * is resolved, every address is judged by the OutboundPolicy, and the request is pinned to the
 * addresses that passed, so DNS cannot answer differently between the check and the connect.
 * Redirects are not followed (a 3xx is returned to the caller), so a permitted server cannot
 * bounce the request to a refused one. A refusal is a PlatformError OUTBOUND_REFUSED, logged with
 * the caller's context and counted.
 */
import { PlatformError } from '../domain/errors.js';
import { normalHostname } from '../domain/outbound/allow-list.js';
import { classifyAddress } from '../domain/outbound/address.js';
import { effectivePort, type OutboundDecision, type OutboundPolicy } from '../domain/outbound/policy.js';
import type { Logger, OutboundNetwork, PinnedHttpResponse } from '../ports.js';
import type { OutboundMetrics } from '../ports/metrics.js';

export interface OutboundRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  /** Who asks (rule, device, tenant): added to the log line of a refusal. */
  readonly context: Readonly<Record<string, string | undefined>>;
}

/** What actions see (ActionDeps.outbound). */
export interface OutboundHttp {
  /** Save-time check of a URL without templates: throws OUTBOUND_REFUSED for a literal refused address. */
  checkUrl(url: URL): void;
  /** Sends after the policy allowed the resolved address; throws OUTBOUND_REFUSED otherwise. */
  request(request: OutboundRequest): Promise<PinnedHttpResponse>;
}

/**
 * What integrations see: the same checks for connections that are not HTTP (MQTT, NATS, AMQP).
 * The caller connects to the returned addresses only, never to the name again.
 */
export interface OutboundTargets {
  /** Save-time check of a literal address or localhost name: throws OUTBOUND_REFUSED. */
  checkUrl(url: URL): void;
  /** The URL's addresses the policy allows (resolved now); throws OUTBOUND_REFUSED when none is, logged with `context`. */
  resolveTarget(url: URL, context: Readonly<Record<string, string | undefined>>): Promise<string[]>;
}

export type { OutboundMetrics };

export interface OutboundServiceDeps {
  readonly network: OutboundNetwork;
  readonly policy: OutboundPolicy;
  readonly logger: Logger;
  readonly metrics?: OutboundMetrics;
}

function refusal(url: URL, decision: Extract<OutboundDecision, { allowed: false }>): PlatformError {
  // url.origin is "null" for schemes node does not know (mqtt:, nats:, amqp:): name the host instead.
  const where = url.origin === 'null' ? `${url.protocol}//${url.host}` : url.origin;
  const host = normalHostname(url.hostname);
  const entry = `${host.includes(':') ? `[${host}]` : host}:${effectivePort(url)}`;
  return new PlatformError('OUTBOUND_REFUSED', `${where}: ${decision.message}; allow it with an outbound.allow entry in the config (e.g. "${entry}")`);
}

export class OutboundService implements OutboundHttp, OutboundTargets {
  constructor(private readonly deps: OutboundServiceDeps) {}

  checkUrl(url: URL): void {
    const decision = this.deps.policy.decideLiteral(url);
    if (decision && !decision.allowed) throw refusal(url, decision);
  }

  async request(request: OutboundRequest): Promise<PinnedHttpResponse> {
    const addresses = await this.resolveTarget(request.url, request.context);
    const { url } = request;
    return this.deps.network.send({ url, addresses, method: request.method, headers: request.headers, body: request.body, timeoutMs: request.timeoutMs });
  }

  async resolveTarget(url: URL, context: Readonly<Record<string, string | undefined>>): Promise<string[]> {
    const hostname = normalHostname(url.hostname);
    const port = effectivePort(url);
    // A literal (however spelled) is judged as is; a name by every address it resolves to.
    const candidates = classifyAddress(hostname) !== undefined ? [hostname] : await this.resolve(url, hostname);
    const decisions = candidates.map((address) => ({ address, decision: this.deps.policy.decide({ hostname, port, address }) }));
    const addresses = decisions.filter((d) => d.decision.allowed).map((d) => d.address);
    const refused = decisions.find((d) => !d.decision.allowed)?.decision;
    if (addresses.length === 0 && refused && !refused.allowed) {
      this.deps.metrics?.refused(refused.reason);
      this.deps.logger.warn({ ...context, host: url.host, addresses: candidates, reason: refused.reason }, `outbound connection refused: ${refused.message}`);
      throw refusal(url, refused);
    }
    return addresses;
  }

  private async resolve(url: URL, hostname: string): Promise<string[]> {
    // RFC 6761 §6.3: these names are this host, whatever a resolver says.
    if (hostname === 'localhost' || hostname.endsWith('.localhost')) return ['127.0.0.1', '::1'];
    try {
      const addresses = await this.deps.network.resolve(hostname);
      if (addresses.length > 0) return addresses;
    } catch (err) {
      throw new Error(`${url.origin}: cannot resolve ${hostname} (${err instanceof Error ? err.message : String(err)})`);
    }
    throw new Error(`${url.origin}: ${hostname} has no address`);
  }
}
