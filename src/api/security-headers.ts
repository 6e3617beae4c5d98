/**
 * Security headers (@fastify/helmet) for the dashboard at `/` and the management API: a strict
 * Content-Security-Policy (no inline script, no framing, no plugins), Referrer-Policy,
 * X-Content-Type-Options, X-Frame-Options DENY, and HSTS on the TLS listener only.
 *
 * The CSP is the second line behind rendering device-controlled text as text (web/src/dom.ts):
 * should markup ever slip into the page, no inline script or event handler runs, nothing is sent
 * to another origin except map tiles from the one configured tile host, and the page cannot be
 * framed. The policy is registered in an encapsulated context (see app.ts), so the device HTTP
 * API under /api/v1 — a hot path — runs none of these hooks.
 */
import type { IncomingMessage } from 'node:http';
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export interface SecurityHeaderOptions {
  /** The map tile URL template (config web.tileUrl); its origin is added to img-src. */
  readonly tileUrl?: string | undefined;
  /** This listener serves HTTPS: HSTS is sent and insecure subresource requests are upgraded. */
  readonly tls: boolean;
}

/** One year, the usual HSTS lifetime; not includeSubDomains: other hosts of the domain are not ours to commit. */
const HSTS_MAX_AGE_SECONDS = 365 * 24 * 3600;

/** A Host header we are willing to echo into connect-src (host, IPv4, [IPv6], optional port). */
const PLAIN_HOST = /^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The CSP source for a tile URL template such as `https://{s}.tile.example.org/{z}/{x}/{y}.png`:
 * its scheme and host, with a templated leftmost label as the `*.` wildcard CSP allows
 * (CSP3 §2.3.1 host-source). Undefined when the template has no absolute http(s) origin (a
 * relative template is already covered by 'self').
 */
export function tileSource(tileUrl: string | undefined): string | undefined {
  const match = /^(https?):\/\/([^/?#]+)/i.exec(tileUrl ?? '');
  if (!match) return undefined;
  const [, scheme, authority] = match as unknown as [string, string, string];
  const labels = authority.split('.');
  const [first, ...rest] = labels;
  if (first !== undefined && first.includes('{') && rest.length > 0 && !rest.some((l) => /[{}]/.test(l))) return `${scheme}://*.${rest.join('.')}`;
  if (/[{}\s;,'"]/.test(authority)) return `${scheme}:`;
  return `${scheme}://${authority}`;
}

/** ws: and wss: of the host the page was loaded from (CSP2 browsers do not let 'self' cover them). */
function sameHostWebSockets(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  return PLAIN_HOST.test(host) ? `ws://${host} wss://${host}` : '';
}

/** The helmet options of the dashboard and management API. */
export function securityHeaders(opts: SecurityHeaderOptions): FastifyHelmetOptions {
  const tiles = tileSource(opts.tileUrl);
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        // Leaflet and uPlot style elements through the CSSOM, which style-src does not restrict.
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', ...(tiles ? [tiles] : [])],
        connectSrc: ["'self'", (req) => sameHostWebSockets(req)],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // On plain HTTP (a LAN address) upgrading would break every request; on TLS it is harmless.
        ...(opts.tls ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    // The origin only, and only over HTTPS: tile servers may require a Referer, paths stay private.
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    xFrameOptions: { action: 'deny' },
    strictTransportSecurity: opts.tls ? { maxAge: HSTS_MAX_AGE_SECONDS, includeSubDomains: false } : false,
    crossOriginEmbedderPolicy: false,
  };
}

/**
 * Swagger UI at /api/docs: its scripts are files of its own, but its bundle adds a <style> element
 * at run time (refused under style-src 'self'); the rest of the policy, script-src included, stays
 * as strict.
 */
export function docsSecurityHeaders(opts: SecurityHeaderOptions): FastifyHelmetOptions {
  const base = securityHeaders({ tls: opts.tls });
  const csp = base.contentSecurityPolicy;
  if (!csp || csp === true) return base;
  return {
    ...base,
    contentSecurityPolicy: { ...csp, useDefaults: false, directives: { ...csp.directives, styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", 'data:'] } },
  };
}

/** Registers helmet on `scope` (an encapsulated context: routes outside it send no such headers). */
export async function registerSecurityHeaders(scope: FastifyInstance, options: FastifyHelmetOptions): Promise<void> {
  await scope.register(helmet, options);
}
