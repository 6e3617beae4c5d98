/**
 * OpenID Connect sign-in (public routes; services/auth-oidc.ts does the work):
 *   GET  /api/auth/oidc/config    enabled + button label, for the sign-in page
 *   GET  /api/auth/oidc/login     302 to the provider
 *   GET  /api/auth/oidc/callback  the provider's redirect back: 302 to the dashboard with a
 *                                 one-time code in the fragment (never sent to a server), or a
 *                                 page saying why the sign-in was refused
 *   POST /api/auth/oidc/exchange  the one-time code → our JWT
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_TENANT_ID } from '../domain/device.js';
import { isPlatformError } from '../domain/errors.js';
import type { OidcSignin } from '../services/auth-oidc.js';
import type { ApiDeps } from './deps.js';
import { errorResponses } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['auth'];
const CALLBACK_PATH = '/api/auth/oidc/callback';

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** Used only when auth.oidc.redirectUri is not configured: this server as the browser reached it. */
function callbackOf(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}${CALLBACK_PATH}`;
}

function refusedPage(reply: FastifyReply, status: number, reason: string): FastifyReply {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in refused · Continuum</title></head>
<body><main><h1>Sign-in refused</h1><p id="reason">${escapeHtml(reason)}</p><p><a href="/">Back to the sign-in page</a></p></main></body></html>`;
  return reply.code(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
}

export const oidcRoutes: ApiPlugin<{ deps: ApiDeps; oidc: OidcSignin | undefined }> = async (app, { deps, oidc }) => {
  app.get(
    '/auth/oidc/config',
    {
      schema: {
        tags,
        operationId: 'getOidcConfig', summary: 'Whether single sign-on (OpenID Connect) is configured, and the label of its button',
        security: [],
        response: { 200: Type.Object({ enabled: Type.Boolean(), label: Type.Optional(Type.String()) }) },
      },
    },
    async () => (oidc ? { enabled: true, label: oidc.label } : { enabled: false }),
  );

  if (!oidc) return;

  app.get(
    '/auth/oidc/login',
    { schema: { tags, operationId: 'startOidcLogin', summary: 'Start an OpenID Connect sign-in: redirects to the provider', security: [], response: { 302: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      const url = await oidc.begin(callbackOf(request));
      return reply.header('cache-control', 'no-store').redirect(url, 302);
    },
  );

  app.get(
    '/auth/oidc/callback',
    {
      schema: {
        tags,
        operationId: 'oidcCallback', summary: "The provider's redirect back: on success 302 to the dashboard with a one-time code (in the URL fragment)",
        security: [],
        querystring: Type.Object({}, { additionalProperties: Type.String({ maxLength: 4096 }) }),
        response: { 302: Type.Null() },
      },
    },
    async (request, reply) => {
      const url = new URL(request.url, 'http://callback.invalid');
      try {
        const done = await oidc.complete(url);
        deps.audit?.record({
          tenantId: done.user.tenantId,
          actor: done.user.id,
          actorName: done.user.email,
          action: 'auth.login',
          address: request.ip,
          details: { method: 'oidc', ...(done.created ? { created: true } : {}) },
        });
        return reply.header('cache-control', 'no-store').redirect(`/#/oidc?code=${encodeURIComponent(done.code)}`, 302);
      } catch (err) {
        const reason = isPlatformError(err) ? err.message : 'the sign-in failed';
        deps.audit?.record({ tenantId: DEFAULT_TENANT_ID, actor: 'anonymous', action: 'auth.login_failed', outcome: 'failure', address: request.ip, details: { method: 'oidc', reason } });
        request.log.info({ err, address: request.ip }, 'OIDC sign-in refused');
        return refusedPage(reply, isPlatformError(err) ? err.spec.http : 500, reason);
      }
    },
  );

  app.post(
    '/auth/oidc/exchange',
    {
      schema: {
        tags,
        operationId: 'exchangeOidcCode', summary: 'Exchange the one-time code of a finished OpenID Connect sign-in for a JWT (once, within a minute)',
        security: [],
        body: Type.Object({ code: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ token: Type.String(), expiresAt: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => oidc.redeem(request.body.code),
  );
};
