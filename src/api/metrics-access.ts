/**
 * Who may scrape /metrics. The metrics name devices' transports, reject reasons and internal
 * timings, so they are not public by default: a scraper presents `Authorization: Bearer
 * <metrics.token>`, or an admin's JWT or API key works as anywhere else; anonymous scraping
 * only when the config says `metrics.public: true` (e.g. behind a private network).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PlatformError } from '../domain/errors.js';
import { allows } from '../domain/permissions.js';
import type { AuthService } from '../services/auth.js';

export interface MetricsAccess {
  /** A shared secret for the scraper (config metrics.token). */
  readonly token?: string;
  /** Anonymous scraping (config metrics.public). */
  readonly public: boolean;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Compares digests of equal length, so the time taken says nothing about the token. */
export function sameSecret(presented: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function bearer(request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header(request, 'authorization') ?? '');
  return match?.[1];
}

/** Resolves when the request may read the metrics; throws UNAUTHORIZED (401) or FORBIDDEN (403). */
export async function authorizeScrape(request: FastifyRequest, reply: FastifyReply, access: MetricsAccess, auth: AuthService): Promise<void> {
  if (access.public) return;
  const presented = bearer(request);
  if (access.token && presented !== undefined && sameSecret(presented, access.token)) return;
  try {
    const principal = await auth.authenticateRequest({ authorization: header(request, 'authorization'), apiKey: header(request, 'x-api-key') });
    if (!allows(await auth.roles.permissionsOf(principal), 'metrics:read')) throw new PlatformError('FORBIDDEN', 'metrics are readable with the metrics:read permission (admins) and the metrics token only');
  } catch (err) {
    // RFC 6750 §3: a 401 names the scheme the client should use.
    reply.header('www-authenticate', 'Bearer realm="metrics"');
    throw err;
  }
}
